"""`routed_jobs` materialized after the real AI stages (recording classifier): every job routed by the routing
resource's thresholds and saved in `jobs` with its reason, the metadata (routes, histogram on the thresholds,
review sample), the checks beside it, and a skip when nothing it reads changed."""
from __future__ import annotations

from feed_pipeline.assets.checks import ai_failure_rate, approved_jobs_have_taxonomy, routes_obey_thresholds
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.schema import job_route_history, jobs

ROUTED_KEYS = {"dagster/row_count", "routes", "removed", "routed_again",
               "ingest_complete", "thresholds", "confidence_histogram",
               "manual_review_sample"}


def _histogram(metadata: dict) -> dict[str, tuple[str, int]]:
    return {row["confidence"]: (row["route"], row["jobs"]) for row in metadata["confidence_histogram"]}


def test_every_job_is_routed_by_the_thresholds_and_saved_with_its_reason(stages):
    stages.upstream_of("routed_jobs")

    result = stages.materialize(routed_jobs, routes_obey_thresholds, approved_jobs_have_taxonomy, ai_failure_rate)

    backend, sales, nurse, mystery = (stages.job_of(r) for r in ("A-1", "A-3", "M-1", "X-1"))
    closed = stages.key_of("C-1")  # a CLOSED posting never reaches deduped_jobs
    assert sorted(stages.rows(jobs, "job_key", "route", "reason", "routing_confidence", "industry", "job_function")) \
        == sorted([
            (backend, "approved", None, 0.9, "Software", "Engineering"),
            (sales, "manual_review", "routing confidence 0.700 between 0.5 and 0.86", 0.7, "Software", "Sales"),
            (nurse, "archived", "industry confidence 0.300 below 0.5", 0.3, "Healthcare", None),
            (mystery, "failed", "industry stage failed: no scripted answer for this title", None, None, None),
            (closed, "rejected", "closed", None, None, None),
        ])
    with stages.engine.connect() as conn:
        history = conn.execute(job_route_history.select().with_only_columns(
            job_route_history.c.job_key, job_route_history.c.route)).all()
    assert sorted(history) == sorted([(backend, "approved"), (sales, "manual_review"), (nurse, "archived"),
                                      (mystery, "failed"), (closed, "rejected")])
    metadata = stages.metadata(result, "routed_jobs")
    assert set(metadata) == ROUTED_KEYS
    assert {k: metadata[k] for k in ("dagster/row_count", "routes", "removed", "routed_again", "ingest_complete",
                                     "thresholds")} == {
        "dagster/row_count": 5,
        "routes": [{"route": r, "jobs": 1} for r in ("approved", "archived", "failed", "manual_review", "rejected")],
        "removed": 0, "routed_again": 4, "ingest_complete": True,
        "thresholds": {"archive_below": 0.5, "approve_at": 0.86}}
    assert {label: cell for label, cell in _histogram(metadata).items() if cell[1]} == {
        "[0.30, 0.40)": ("archived", 1), "[0.70, 0.80)": ("manual_review", 1), "[0.90, 1.00]": ("approved", 1)}
    assert metadata["manual_review_sample"] == [{
        "confidence": 0.7, "title": "Account Executive", "company": "Acme Logistics", "industry": "Software",
        "function": "Sales", "url": "https://jobs.example.com/A-3", "job_key": sales}]
    assert stages.checks(result) == {
        "routes_obey_thresholds": (True, {"violations": 0, "sample": []}),
        "approved_jobs_have_taxonomy": (True, {"violations": 0, "sample": []}),
        "ai_failure_rate": (False, {"failure_rate": 0.25, "failed": 1, "enriched": 4}),
    }


def test_the_thresholds_come_from_the_routing_resource(stages):
    stages.upstream_of("routed_jobs")
    stages.resources["routing"] = RoutingResource(archive_below=0.2, approve_at=0.65)

    result = stages.materialize(routed_jobs)

    sales, nurse = stages.job_of("A-3"), stages.job_of("M-1")
    routes = dict(stages.rows(jobs, "job_key", "route"))
    assert (routes[sales], routes[nurse]) == ("approved", "archived"), \
        "stage 1 archived the nurse at the default 0.5: routing keeps stage 1's decision"
    assert stages.metadata(result, "routed_jobs")["thresholds"] == {"archive_below": 0.2, "approve_at": 0.65}


def test_routing_skips_an_unchanged_input_and_runs_again_after_a_review(stages):
    stages.upstream_of("routed_jobs")
    first = stages.materialize(routed_jobs)

    skipped = stages.materialize(routed_jobs)
    metadata = stages.metadata(skipped, "routed_jobs")
    assert set(metadata) == ROUTED_KEYS | {"skipped_unchanged", "figures_from_run"}
    assert (metadata["skipped_unchanged"], metadata["figures_from_run"]) == (True, first.run_id)

    sales = stages.job_of("A-3")
    job_store.record_review(stages.engine, sales, "approve", note="checked")
    reviewed = stages.materialize(routed_jobs)

    assert "skipped_unchanged" not in stages.metadata(reviewed, "routed_jobs")
    assert dict(stages.rows(jobs, "job_key", "route"))[sales] == "approved"
