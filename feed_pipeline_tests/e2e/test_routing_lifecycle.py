"""The source of truth across runs: reviews that stick, removed jobs, incomplete feeds, blocking checks, health."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from lxml import etree

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.core.enrichment import AIUsage, IndustryResult
from feed_pipeline.definitions import build_definitions
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.schema import job_route_history, jobs

FEED = "lifecycle"


class Pipeline:
    """One feed file, one database, one sandboxed Xano, one Dagster instance; run() executes feed_job."""

    def __init__(self, db_url: str, tmp_path: Path, instance: dg.DagsterInstance, classifier=None):
        self.db_url = db_url
        self.engine = engine_for(db_url)
        self.feed_path = tmp_path / "feed.xml"
        shutil.copy(SAMPLE_FEED_PATH, self.feed_path)
        self.xano = XanoSandboxResource(db_path=str(tmp_path / "xano.sqlite"))
        self.instance = instance
        self.defs = build_definitions({
            "database": DatabaseResource(url=db_url),
            "classifier": classifier or OfflineClassifierResource(),
            "routing": RoutingResource(),
            "xano": self.xano,
        })
        feed_store.upsert_feed(self.engine, FEED, url=str(self.feed_path))

    def run(self) -> dict:
        return run_feed(self.defs, self.instance, FEED, database_url=self.db_url)

    def rewrite_feed(self, edit) -> None:
        tree = etree.parse(str(SAMPLE_FEED_PATH))
        edit(tree.getroot())
        tree.write(str(self.feed_path), xml_declaration=True, encoding="utf-8")

    def jobs_by_route(self, route: str) -> dict[str, dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.feed_id == FEED, jobs.c.route == route)).mappings()
            return {r["job_key"]: dict(r) for r in rows}

    def xano_keys(self) -> set[str]:
        with self.xano.open_client() as client:
            return {r["job_key"] for r in client.list_records() if r.get("feed_id") == FEED}


@pytest.fixture
def pipeline(db_url, tmp_path) -> Iterator[Pipeline]:
    with dg.instance_for_test() as instance:
        yield Pipeline(db_url, tmp_path, instance)


def _job_elements(root):
    return root.findall("job")


def test_review_decision_sticks_across_reruns_until_the_content_changes(pipeline):
    pipeline.run()
    key, job = sorted(pipeline.jobs_by_route("manual_review").items())[0]
    job_store.record_review(pipeline.engine, key, "approve", note="checked by hand")

    pipeline.run()
    assert key in pipeline.jobs_by_route("approved")
    assert key in pipeline.xano_keys()
    pipeline.run()
    assert key in pipeline.jobs_by_route("approved"), "the decision holds on every later run"

    source_id = job["source_ids"][0]

    def edit_description(root):
        for el in _job_elements(root):
            if el.findtext("referencenumber").strip() == source_id:
                el.find("description").text = el.findtext("description") + " Now with a new paragraph."

    pipeline.rewrite_feed(edit_description)
    pipeline.run()
    assert key in pipeline.jobs_by_route("manual_review"), "changed content drops the old decision"
    assert key not in pipeline.xano_keys()
    with pipeline.engine.connect() as conn:
        routes = [r for (r,) in conn.execute(sa.select(job_route_history.c.route).where(
            job_route_history.c.job_key == key).order_by(job_route_history.c.id))]
    assert routes == ["manual_review", "approved", "manual_review"]


def test_jobs_that_leave_a_complete_feed_are_removed_and_deleted_from_xano(pipeline):
    pipeline.run()
    approved_before = pipeline.jobs_by_route("approved")
    gone = {j["source_ids"][0] for j in list(approved_before.values())[:3]}

    def drop(root):
        for el in _job_elements(root):
            if el.findtext("referencenumber").strip() in gone:
                root.remove(el)

    pipeline.rewrite_feed(drop)
    summary = pipeline.run()

    removed = {k for k, j in pipeline.jobs_by_route("rejected").items() if j["reason"] == "removed"}
    assert {k for k, j in approved_before.items() if j["source_ids"][0] in gone} <= removed
    assert summary["mirror"]["deleted"] >= 3
    assert pipeline.xano_keys() == set(pipeline.jobs_by_route("approved"))


def test_an_incomplete_feed_removes_nothing_and_deletes_nothing(pipeline):
    pipeline.run()
    approved_before = set(pipeline.jobs_by_route("approved"))
    data = SAMPLE_FEED_PATH.read_bytes()
    pipeline.feed_path.write_bytes(data[: len(data) // 3])  # cut off mid-document

    summary = pipeline.run()

    assert summary["counts"]["raw"] == data[: len(data) // 3].count(b"</job>"), "every whole posting before the cut"
    assert not [j for j in pipeline.jobs_by_route("rejected").values() if j["reason"] == "removed"]
    assert summary["mirror"]["deleted"] == 0
    assert pipeline.xano_keys() == approved_before


class _OutOfTaxonomyClassifier:
    model_name = "broken-test-model"
    prompt_version = industry_prompt_version = function_prompt_version = "test"

    def __init__(self):
        self.usage = AIUsage()

    def classify_industries(self, jobs):
        yield [IndustryResult(job_key=j.job_key, industry="Underwater Basket Weaving", confidence=0.99,
                              ai_title=j.title, ai_description=j.description[:100]) for j in jobs]

    def classify_functions(self, industry, functions, jobs):
        raise AssertionError("stage 2 must not run after a failed blocking check")


class OutOfTaxonomyClassifierResource(ClassifierResource):
    def classifier(self, taxonomy):
        return _OutOfTaxonomyClassifier()


def test_a_failing_blocking_check_stops_the_run_before_the_mirror(db_url, tmp_path):
    with dg.instance_for_test() as instance:
        pipeline = Pipeline(db_url, tmp_path, instance, classifier=OutOfTaxonomyClassifierResource())
        summary = pipeline.run()

    assert summary["status"] == "failed"
    assert "industry_answers_valid" in summary["error"]
    assert pipeline.xano_keys() == set()
    assert pipeline.jobs_by_route("approved") == {}


def test_feed_health_counts_failures_and_resets_on_success(pipeline):
    pipeline.run()
    assert feed_store.get_feed(pipeline.engine, FEED).consecutive_failure_count == 0
    pipeline.feed_path.unlink()

    for expected in (1, 2):
        summary = pipeline.run()
        assert summary["status"] == "failed"
        feed = feed_store.get_feed(pipeline.engine, FEED)
        assert (feed.last_run_status, feed.consecutive_failure_count) == ("failed", expected)

    shutil.copy(SAMPLE_FEED_PATH, pipeline.feed_path)
    pipeline.run()
    feed = feed_store.get_feed(pipeline.engine, FEED)
    assert (feed.last_run_status, feed.consecutive_failure_count, feed.run_count) == ("success", 0, 4)
    assert feed.avg_processing_time_s > 0


def test_routing_after_a_partial_enrichment_fails_the_unreached_jobs_and_removes_none(pipeline):
    """A crashed industry_enriched leaves enrichments partial; routing alone must not call the rest removed."""
    from feed_pipeline.assets.route import routed_jobs
    from feed_pipeline.core.routing import NOT_ENRICHED
    from feed_pipeline.store.schema import enrichments
    from feed_pipeline.store.stage_versions import forget_stage_versions

    pipeline.run()
    before = {r: set(pipeline.jobs_by_route(r)) for r in ("approved", "manual_review", "archived", "failed")}
    with pipeline.engine.begin() as conn:
        rows = conn.execute(sa.select(enrichments.c.job_key, enrichments.c.merged_keys)
                            .where(enrichments.c.feed_id == FEED).order_by(enrichments.c.job_key)).all()
        lost = {key for key, _ in rows[::2]}
        conn.execute(enrichments.delete().where(enrichments.c.feed_id == FEED, enrichments.c.job_key.in_(lost)))
    unreached = {k for key, merged in rows[::2] for k in (merged or [key])}
    forget_stage_versions(pipeline.engine, FEED, ("routed_jobs",))  # routing alone must run, not skip

    result = dg.materialize([routed_jobs], partition_key=FEED, instance=pipeline.instance, resources={
        "database": DatabaseResource(url=pipeline.db_url), "routing": RoutingResource()})

    assert result.success
    removed = {k for k, j in pipeline.jobs_by_route("rejected").items() if j["reason"] == "removed"}
    assert removed == set()
    failed = pipeline.jobs_by_route("failed")
    assert unreached <= set(failed)
    assert {failed[k]["reason"] for k in unreached} == {NOT_ENRICHED}
    kept = (before["approved"] | before["manual_review"] | before["archived"]) - lost
    for route in ("approved", "manual_review", "archived"):
        assert before[route] - lost <= set(pipeline.jobs_by_route(route)), route
    assert kept

