"""Stage tables: partition rewrites that replace, never duplicate, even when jobs move between blocks."""
from datetime import UTC, datetime

import sqlalchemy as sa

from feed_pipeline.core.dedupe import DedupeConfig, assign_dedupe_keys, merge_block
from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.store import stages
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.schema import deduped_jobs


def posting(ref: str, title: str, city: str) -> JobRecord:
    job = JobRecord(feed_id="f", source="xml", source_id=ref, title=title, company="Acme",
                    description="Design and run the backend services of our logistics platform.",
                    locations=[city], employment_type="full_time")
    return assign_dedupe_keys(assign_identity(job))


def run_pass_one(engine, run_id: str, jobs: list[JobRecord]) -> dict[str, list[str]]:
    stages.replace_raw_jobs(engine, "f", jobs)
    claimed: set[str] = set()
    for _ in stages.replace_deduped_blocks(
        engine, "f", run_id, stages.iter_raw_blocks(engine, "f"),
        lambda block, previous: merge_block(block, DedupeConfig(), previous, claimed_keys=claimed),
    ):
        pass
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(deduped_jobs.c.job_key, deduped_jobs.c.member_keys)).all())


def test_a_retitled_posting_moves_block_without_a_duplicate_key(db_url):
    engine = engine_for(db_url)
    first = run_pass_one(engine, "run-1", [posting("R1", "Zeta Engineer", "Austin")])
    second = run_pass_one(engine, "run-2", [posting("R1", "Alpha Engineer", "Austin")])
    assert list(first) == list(second), "the posting keeps its key in its new block"


def test_rerunning_pass_one_replaces_the_partition(db_url):
    engine = engine_for(db_url)
    jobs = [posting("R1", "Backend Engineer", "Austin"), posting("R2", "Backend Engineer", "Denver"),
            posting("R3", "Data Analyst", "Austin")]
    first = run_pass_one(engine, "run-1", jobs)
    assert run_pass_one(engine, "run-2", jobs) == first
    assert sorted(len(m) for m in first.values()) == [1, 2], "the two locations of one role merged"
    assert run_pass_one(engine, "run-3", jobs[2:]) == {k: m for k, m in first.items() if len(m) == 1}


def test_the_comparison_base_is_the_newest_other_ingest_that_read_data_and_recorded_the_figure(db_url):
    engine = engine_for(db_url)

    def ingest(run_id: str, hour: int, *, unchanged: bool = False, stats: dict | None = None) -> None:
        stages.record_ingest(engine, "f", run_id, started_at=datetime(2024, 5, 1, hour, tzinfo=UTC), complete=True,
                             unchanged=unchanged, error=None, stats=stats or {})

    ingest("old", 1, stats={"coverage": {"postings": 1, "filled": {}}})
    ingest("read", 2, stats={"coverage": {"postings": 2, "filled": {}}})
    ingest("failed", 3)  # a read that failed records no figures
    ingest("same", 4, unchanged=True, stats={"coverage": {"postings": 9, "filled": {}}})
    ingest("now", 5, stats={"coverage": {"postings": 3, "filled": {}}})

    assert stages.previous_ingest_with(engine, "f", "now", "coverage")["run_id"] == "read"
    assert stages.previous_ingest_with(engine, "f", "read", "coverage")["run_id"] == "old"
    assert stages.previous_ingest_with(engine, "f", "old", "coverage") is None
    assert stages.previous_ingest_with(engine, "f", "no-ingest-yet", "coverage")["run_id"] == "now"
    assert stages.previous_ingest_with(engine, "f", "now", "bytes_read") is None
    assert stages.ingest_of_run(engine, "f", "same")["unchanged"] is True
    assert stages.ingest_of_run(engine, "f", "missing") is None


def test_update_enrichments_sets_each_rows_own_values_and_leaves_other_feeds_and_columns_alone(db_url):
    from feed_pipeline.store.schema import enrichments

    engine = engine_for(db_url)
    base = {"content_hash": "h", "status": "ok", "industry": "Technology", "ai_block_key": "",
            "is_multi_location": False}
    with engine.begin() as conn:
        stages.write_enrichments(conn, [dict(base, feed_id=feed, job_key=key)
                                        for feed in ("f", "g") for key in ("a", "b", "c")])
        stages.update_enrichments(conn, "f", [
            {"job_key": "a", "job_function": "Backend", "function_confidence": 0.9, "function_status": "ok"},
            {"job_key": "b", "job_function": "Data", "function_confidence": 0.4, "function_status": "ok"},
            {"job_key": "c", "function_status": "failed", "function_error": "timeout"},
        ])
        rows = conn.execute(sa.select(enrichments.c.feed_id, enrichments.c.job_key, enrichments.c.job_function,
                                      enrichments.c.function_confidence, enrichments.c.function_status,
                                      enrichments.c.function_error, enrichments.c.industry)
                            .order_by(enrichments.c.feed_id, enrichments.c.job_key)).all()

    assert [tuple(r) for r in rows] == [
        ("f", "a", "Backend", 0.9, "ok", None, "Technology"),
        ("f", "b", "Data", 0.4, "ok", None, "Technology"),
        ("f", "c", None, None, "failed", "timeout", "Technology"),
        ("g", "a", None, None, None, None, "Technology"),
        ("g", "b", None, None, None, None, "Technology"),
        ("g", "c", None, None, None, None, "Technology"),
    ]
