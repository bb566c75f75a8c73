"""Stages skip what did not change, redo what did, and the result always equals a from-scratch run."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

import feed_pipeline.core.versions as versions
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import reports
from feed_pipeline.store.schema import jobs
from feed_pipeline_tests.e2e.test_routing_lifecycle import FEED, Pipeline

SKIPPABLE = ("deduped_jobs", "industry_enriched", "function_enriched", "routed_jobs")
VOLATILE = {"first_seen_at", "last_seen_at", "updated_at", "last_run_id", "created_at"}


@pytest.fixture
def pipeline(db_url, tmp_path) -> Iterator[Pipeline]:
    with dg.instance_for_test() as instance:
        yield Pipeline(db_url, tmp_path, instance)


def _stages(pipeline: Pipeline, run_id: str) -> dict:
    return reports.get_report(pipeline.engine, run_id)["stages"]


def _skipped(pipeline: Pipeline, run_id: str) -> set[str]:
    return {name for name, stage in _stages(pipeline, run_id).items() if stage.get("skipped_unchanged")}


def _jobs_rows(pipeline: Pipeline) -> list[str]:
    columns = [c for c in jobs.c if c.name not in VOLATILE]
    with pipeline.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(jobs.c.feed_id == FEED).order_by(jobs.c.job_key)).all()
    return [json.dumps(list(r), default=str) for r in rows]


def _xano_copy(pipeline: Pipeline) -> list[str]:
    with pipeline.xano.open_client() as client:
        records = [r for r in client.list_records() if r.get("feed_id") == FEED]
    return sorted(json.dumps({k: v for k, v in r.items() if k not in ("id", "created_at", "updated_at")},
                             sort_keys=True, default=str) for r in records)


def test_an_unchanged_rerun_skips_every_stage_and_carries_the_same_figures(pipeline):
    first = pipeline.run()
    rows = _jobs_rows(pipeline)

    second = pipeline.run()

    assert first["status"] == second["status"] == "success"
    assert _skipped(pipeline, second["run_id"]) == set(SKIPPABLE)
    assert _skipped(pipeline, first["run_id"]) == set()
    assert second["counts"] == first["counts"]
    assert second["ai"]["calls"] == 0
    assert _jobs_rows(pipeline) == rows
    assert second["mirror"]["added"] == second["mirror"]["updated"] == second["mirror"]["deleted"] == 0


def test_a_rerun_after_a_random_edit_equals_a_run_from_scratch_of_the_same_feed(db_url, request, tmp_path):
    def edit(root):
        picker = random.Random(16)
        for job in root.findall("job"):
            if picker.random() < 0.05:
                job.find("description").text = (job.find("description").text or "") + " Now with a signing bonus."

    scratch_url = (f"sqlite:///{tmp_path / 'scratch.sqlite'}" if db_url.startswith("sqlite")
                   else request.getfixturevalue("pg_database_factory")())
    (tmp_path / "incremental").mkdir()
    (tmp_path / "scratch").mkdir()
    with dg.instance_for_test() as instance:
        incremental = Pipeline(db_url, tmp_path / "incremental", instance)
        incremental.run()
        incremental.rewrite_feed(edit)
        changed = incremental.run()
        assert _skipped(incremental, changed["run_id"]) == set(), "changed postings reach every stage"
    with dg.instance_for_test() as instance:
        scratch = Pipeline(scratch_url, tmp_path / "scratch", instance)
        scratch.rewrite_feed(edit)
        scratch.run()

    assert _jobs_rows(incremental) == _jobs_rows(scratch)
    assert _xano_copy(incremental) == _xano_copy(scratch)


def _rows_by_key(pipeline: Pipeline) -> dict[str, tuple[str, object, str]]:
    """job_key -> (its published columns as JSON, updated_at, last_run_id)."""
    columns = [c for c in jobs.c if c.name not in VOLATILE]
    stmt = sa.select(jobs.c.job_key, jobs.c.updated_at, jobs.c.last_run_id, *columns).where(jobs.c.feed_id == FEED)
    with pipeline.engine.connect() as conn:
        return {r[0]: (json.dumps(list(r[3:]), default=str), r[1], r[2]) for r in conn.execute(stmt)}


def test_routing_rewrites_only_the_jobs_whose_content_or_route_changed_and_still_sees_every_job(pipeline):
    pipeline.run()
    before = _rows_by_key(pipeline)

    def edit(root):
        for job in root.findall("job")[::10]:
            job.find("description").text = (job.find("description").text or "") + " Now with a signing bonus."

    pipeline.rewrite_feed(edit)
    second = pipeline.run()
    after = _rows_by_key(pipeline)

    changed = {k for k in after if k not in before or after[k][0] != before[k][0]}
    rewritten = {k for k in after if k not in before or after[k][1] != before[k][1]}
    assert 0 < len(changed) < len(after)
    assert rewritten == changed
    assert {run for _, _, run in after.values()} == {second["run_id"]}, "every job counts as seen by the run"


def test_a_review_decision_makes_routing_run_again_on_an_unchanged_feed(pipeline):
    pipeline.run()
    key = sorted(pipeline.jobs_by_route("manual_review"))[0]
    job_store.record_review(pipeline.engine, key, "approve", note="checked")
    before = _rows_by_key(pipeline)

    again = pipeline.run()

    assert _skipped(pipeline, again["run_id"]) == {"deduped_jobs", "industry_enriched", "function_enriched"}
    assert key in pipeline.jobs_by_route("approved")
    after = _rows_by_key(pipeline)
    assert {k for k in after if after[k][1] != before[k][1]} == {key}, "only the reviewed job is routed again"
    assert key in {r["job_key"] for r in _approved_in_xano(pipeline)}


def test_a_job_routed_failed_while_its_enrichment_was_missing_is_routed_again_when_it_returns(pipeline):
    from feed_pipeline.store.schema import enrichments
    from feed_pipeline.store.stage_versions import forget_stage_versions

    pipeline.run()
    key = sorted(pipeline.jobs_by_route("approved"))[0]
    with pipeline.engine.begin() as conn:  # what a stage 1 that died before reaching the job leaves
        conn.execute(enrichments.delete().where(enrichments.c.feed_id == FEED, enrichments.c.job_key == key))
    forget_stage_versions(pipeline.engine, FEED, ("routed_jobs",))
    pipeline.run()
    assert key in pipeline.jobs_by_route("failed")

    forget_stage_versions(pipeline.engine, FEED, ("industry_enriched",))
    back = pipeline.run()

    assert back["status"] == "success"
    assert key in pipeline.jobs_by_route("approved"), "its enrichment is back: the failed route is not kept"


def _approved_in_xano(pipeline: Pipeline) -> list[dict]:
    with pipeline.xano.open_client() as client:
        return [r for r in client.list_records() if r.get("feed_id") == FEED]


def test_new_pipeline_logic_parses_an_unchanged_file_again_and_reruns_every_stage(pipeline, monkeypatch):
    pipeline.run()
    monkeypatch.setattr(versions, "PIPELINE_LOGIC_VERSION", versions.PIPELINE_LOGIC_VERSION + "-next")

    again = pipeline.run()

    raw = _stages(pipeline, again["run_id"])["raw_jobs"]
    assert raw["unchanged"] is False and raw["bytes_read"] > 0, "the file was parsed again"
    assert _skipped(pipeline, again["run_id"]) == set()


def test_a_forced_parse_reruns_every_stage(pipeline):
    from feed_pipeline.automation.runner import run_feed

    pipeline.run()
    forced = run_feed(pipeline.defs, pipeline.instance, FEED, database_url=pipeline.db_url, force=True)

    assert _skipped(pipeline, forced["run_id"]) == set()
    assert forced["status"] == "success"


def test_a_stage_that_died_halfway_is_done_again_not_skipped(pipeline):
    from feed_pipeline.core.versions import stage_output_version
    from feed_pipeline.store.schema import enrichments
    from feed_pipeline.store.stage_versions import StageVersion, get_stage_version, save_stage_version

    pipeline.run()
    rows = _jobs_rows(pipeline)
    done = get_stage_version(pipeline.engine, FEED, "industry_enriched")
    # What a run killed inside industry_enriched leaves: the stage marked working, its table half rewritten.
    save_stage_version(pipeline.engine, FEED, "industry_enriched", StageVersion(
        done.input_version, stage_output_version(done.input_version, complete=False, run_id="killed"), "killed", {}))
    with pipeline.engine.begin() as conn:
        keys = conn.execute(sa.select(enrichments.c.job_key).where(enrichments.c.feed_id == FEED)).scalars().all()
        conn.execute(enrichments.delete().where(enrichments.c.job_key.in_(keys[::2])))

    again = pipeline.run()

    assert _skipped(pipeline, again["run_id"]) == {"deduped_jobs"}
    assert again["status"] == "success" and again["counts"]["failed"] == 0
    assert _jobs_rows(pipeline) == rows


def test_routing_stores_each_approved_jobs_published_record_hash(pipeline):
    from feed_pipeline.core.mirror import to_xano_record

    pipeline.run()

    with pipeline.engine.connect() as conn:
        rows = conn.execute(sa.select(jobs).where(jobs.c.feed_id == FEED)).mappings().all()
    approved = [r for r in rows if r["route"] == "approved"]
    assert approved, "the sample feed approves jobs"
    assert [r["record_hash"] for r in approved] == [to_xano_record(r)["record_hash"] for r in approved], (
        "the hash routing stored is the hash of the record the mirror builds from the stored row")
    assert all(r["record_hash"] is None for r in rows if r["route"] != "approved")


def test_jobs_routed_before_the_record_hash_existed_are_still_mirrored_exactly(pipeline):
    first = pipeline.run()
    copy = _xano_copy(pipeline)
    with pipeline.engine.begin() as conn:  # what migration 0008 leaves until the feed's next routing
        conn.execute(jobs.update().where(jobs.c.feed_id == FEED).values(record_hash=None))

    again = pipeline.run()

    assert again["status"] == "success", "the blocking check compared every job's hash"
    assert again["mirror"]["unchanged"] == first["counts"]["approved"]
    assert again["mirror"]["added"] == again["mirror"]["updated"] == again["mirror"]["deleted"] == 0
    assert _xano_copy(pipeline) == copy
