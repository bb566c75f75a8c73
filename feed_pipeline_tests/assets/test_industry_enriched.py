"""`industry_enriched` materialized after the real ingest and dedupe, with the recording classifier: what stage 1
was asked, the statuses stored (archived below the routing resource's threshold, failed where the model gave up),
the metadata, the blocking check, the cache on a rerun and the skip once every job is answered."""
from __future__ import annotations

from feed_pipeline.assets.checks import industry_answers_valid
from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.enrich import industry_enriched
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.core.taxonomy import taxonomy_from_dict
from feed_pipeline.store.schema import enrichment_cache, enrichments
from feed_pipeline_tests.assets.conftest import ANSWERS, TAXONOMY
from feed_pipeline_tests.fakes.classifier import FAKE_MODEL, UNSCRIPTED, Asked

INDUSTRY_KEYS = {"dagster/row_count", "by_status", "pass2_merged_away", "pass2_groups", "before_pass2",
                 "answered_jobs", "kept_rows", "model",
                 "prompt_version", "taxonomy_version", "category_hint", "ai_calls", "ai_input_tokens",
                 "ai_output_tokens", "ai_cache_hits", "ai_retries", "ai_estimated_cost_usd", "ai_quota_exhausted",
                 "ai_helper_batches"}


def _usage(calls: int, cache_hits: int) -> dict:
    return {"ai_calls": calls, "ai_input_tokens": 0, "ai_output_tokens": 0, "ai_cache_hits": cache_hits,
            "ai_retries": 0, "ai_estimated_cost_usd": 0.0, "ai_quota_exhausted": False,
            "ai_helper_batches": 0}


def test_stage1_asks_once_for_every_deduped_job_and_stores_each_answer(stages):
    stages.upstream_of("industry_enriched")

    result = stages.materialize(industry_enriched, industry_answers_valid)

    backend, sales, nurse, mystery = (stages.job_of(ref) for ref in ("A-1", "A-3", "M-1", "X-1"))
    (asked,) = stages.classifier.asked
    assert asked.stage == "industry"
    assert sorted(zip(asked.job_keys, asked.titles, strict=True)) == sorted([
        (backend, "Backend Engineer"), (sales, "Account Executive"), (nurse, "Registered Nurse"),
        (mystery, "Mystery Role")]), "one question per deduped job; the CLOSED posting is never asked about"
    assert stages.classifier.events == ["open", "close"]
    assert sorted(stages.rows(enrichments, "job_key", "status", "function_status", "industry", "industry_confidence",
                              "merged_keys", "error", "model")) == sorted([
        (backend, "ok", None, "Software", 0.95, [backend], None, FAKE_MODEL),
        (sales, "ok", None, "Software", 0.9, [sales], None, FAKE_MODEL),
        (nurse, "archived", "skipped", "Healthcare", 0.3, [nurse], None, FAKE_MODEL),
        (mystery, "failed", None, None, None, [mystery], UNSCRIPTED, FAKE_MODEL),
    ])
    metadata = stages.metadata(result, "industry_enriched")
    assert metadata == {
        "dagster/row_count": 4,
        "by_status": [{"stage 1 status": "archived", "jobs": 1}, {"stage 1 status": "failed", "jobs": 1},
                      {"stage 1 status": "ok", "jobs": 2}],
        "pass2_merged_away": 0, "pass2_groups": 0,
        "before_pass2": {"archived/skipped": 1, "failed/-": 1, "ok/-": 2},
        "answered_jobs": 4, "kept_rows": 0,
        "model": FAKE_MODEL, "prompt_version": "fake-ind-1+fake-fn-1",
        "taxonomy_version": taxonomy_from_dict(TAXONOMY).version, "category_hint": False,
        **_usage(calls=1, cache_hits=0),
    }
    assert stages.checks(result) == {"industry_answers_valid": (True, {"checked": 3, "violations": 0, "sample": []})}
    with stages.engine.connect() as conn:
        cached = conn.execute(enrichment_cache.select().with_only_columns(
            enrichment_cache.c.stage, enrichment_cache.c.model)).all()
    assert sorted(cached) == [("industry", FAKE_MODEL)] * 3, "answers are cached, the failure is not"


def test_a_rerun_asks_only_for_the_failed_job_and_skips_once_all_are_answered(stages):
    stages.upstream_of("industry_enriched")
    stages.materialize(industry_enriched)
    mystery = stages.job_of("X-1")

    retried = stages.materialize(raw_jobs, deduped_jobs, industry_enriched)

    assert stages.classifier.asked[1:] == [Asked("industry", (mystery,), ("Mystery Role",))], \
        "a stage that left a job failed runs again; the cache answers the rest"
    metadata = stages.metadata(retried, "industry_enriched")
    assert "skipped_unchanged" not in metadata
    assert {k: metadata[k] for k in _usage(0, 0)} == _usage(calls=1, cache_hits=0)
    assert (metadata["answered_jobs"], metadata["kept_rows"]) == (1, 3), \
        "the rows of unchanged jobs are kept: not even the cache is asked for them"

    answering = stages.use_classifier({**ANSWERS, "Mystery Role": ["Software", 0.6, "Engineering", 0.6]})
    answered = stages.materialize(industry_enriched)
    assert answering.asked == [Asked("industry", (mystery,), ("Mystery Role",))]
    assert stages.metadata(answered, "industry_enriched")["by_status"] == [
        {"stage 1 status": "archived", "jobs": 1}, {"stage 1 status": "ok", "jobs": 3}]

    skipped = stages.materialize(industry_enriched)
    metadata = stages.metadata(skipped, "industry_enriched")
    assert set(metadata) == INDUSTRY_KEYS | {"skipped_unchanged", "figures_from_run"}
    assert (metadata["skipped_unchanged"], metadata["figures_from_run"]) == (True, answered.run_id)
    assert answering.asked == [Asked("industry", (mystery,), ("Mystery Role",))], "a skipped stage asks nothing"
    assert answering.events == ["open", "close", "open", "close"]


def test_the_routing_resources_archive_threshold_decides_what_stage1_archives(stages):
    from feed_pipeline.resources.routing import RoutingResource

    stages.upstream_of("industry_enriched")
    stages.resources["routing"] = RoutingResource(archive_below=0.25, approve_at=0.86)

    stages.materialize(industry_enriched)

    assert sorted(status for _, status in stages.rows(enrichments, "job_key", "status")) == ["failed", "ok", "ok", "ok"]
