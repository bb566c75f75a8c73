"""Stage tables: partition rewrites that replace, never duplicate, even when jobs move between blocks."""
import dataclasses
from datetime import UTC, datetime

import sqlalchemy as sa

from feed_pipeline.core.dedupe import DedupeConfig, DedupeStats, assign_dedupe_keys
from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.pipeline.dedupe import dedupe_feed
from feed_pipeline.store import stages
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.schema import dedupe_blocks, deduped_jobs, raw_jobs


def posting(ref: str, title: str, city: str) -> JobRecord:
    job = JobRecord(feed_id="f", source="xml", source_id=ref, title=title, company="Acme",
                    description="Design and run the backend services of our logistics platform.",
                    locations=[city], employment_type="full_time")
    return assign_dedupe_keys(assign_identity(job))


def run_pass_one(engine, run_id: str, jobs: list[JobRecord]) -> dict[str, list[str]]:
    dedupe_and_count(engine, run_id, jobs)
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(deduped_jobs.c.job_key, deduped_jobs.c.member_keys)).all())


def deduped_rows(engine) -> list[tuple]:
    """Every stored pass 1 column but the run that wrote it, in key order."""
    columns = [c for c in deduped_jobs.c if c.name != "run_id"]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*columns).order_by(deduped_jobs.c.job_key))]


ROLES = [("Backend Engineer", "Austin"), ("Backend Engineer", "Denver"), ("Data Analyst", "Austin"),
         ("Store Manager", "Reno"), ("Store Manager", "Boise"), ("Line Cook", "Austin")]


def test_a_rerun_reclusters_only_changed_blocks_and_equals_a_run_from_scratch(db_url, tmp_path):
    engine = engine_for(db_url)
    jobs = [posting(f"R{n}", title, city) for n, (title, city) in enumerate(ROLES)]
    first = dedupe_and_count(engine, "run-1", jobs)
    assert first.reused_blocks == 0 and first.blocks == 4
    edited = [*jobs[:3], posting("R3", "Store Manager", "Spokane"), *jobs[4:]]  # one block's posting moved city
    again = dedupe_and_count(engine, "run-2", edited)
    assert (again.blocks, again.reused_blocks) == (4, 3), "only the store manager block is clustered again"
    assert (again.input_jobs, again.output_jobs, again.merged_groups) == (6, 4, 2)
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(deduped_jobs.c.run_id)).scalars()) == {"run-2"}

    scratch = engine_for(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    dedupe_and_count(scratch, "run-1", edited)
    assert deduped_rows(engine) == deduped_rows(scratch)


def test_changed_settings_or_a_vanished_block_are_not_kept(db_url):
    engine = engine_for(db_url)
    jobs = [posting(f"R{n}", title, city) for n, (title, city) in enumerate(ROLES)]
    dedupe_and_count(engine, "run-1", jobs)
    stricter = dedupe_and_count(engine, "run-2", jobs, DedupeConfig(similarity_threshold=0.95))
    assert stricter.reused_blocks == 0, "other settings may merge otherwise: every block is clustered again"
    fewer = dedupe_and_count(engine, "run-3", jobs[:5], DedupeConfig(similarity_threshold=0.95))
    assert (fewer.blocks, fewer.reused_blocks) == (3, 3)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dedupe_blocks)).scalar_one() == 3
        titles = set(conn.execute(sa.select(deduped_jobs.c.title)).scalars())
    assert "Line Cook" not in titles


def dedupe_and_count(engine, run_id: str, jobs: list[JobRecord], config: DedupeConfig | None = None) -> DedupeStats:
    stages.replace_raw_jobs(engine, "f", jobs)
    return dedupe_feed(engine, "f", run_id, config or DedupeConfig())


def raw_rows(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {r.job_key: (r.title, r.locations, r.ingested_at)
                for r in conn.execute(sa.select(raw_jobs).where(raw_jobs.c.feed_id == "f"))}


def test_a_rerun_writes_only_the_postings_that_changed_and_deletes_the_ones_gone(db_url):
    engine = engine_for(db_url)
    jobs = [posting(f"R{n}", title, city) for n, (title, city) in enumerate(ROLES)]
    assert stages.replace_raw_jobs(engine, "f", jobs).written == 6
    before = raw_rows(engine)
    assert stages.replace_raw_jobs(engine, "f", jobs).written == 0, "nothing changed: nothing written"
    assert raw_rows(engine) == before, "unchanged postings keep their row, when they were stored included"
    edited = [*jobs[:2], posting("R2", "Data Analyst", "Boston"), *jobs[3:5]]  # R2 moved, R5 left the feed
    assert stages.replace_raw_jobs(engine, "f", edited).written == 1
    after = raw_rows(engine)
    assert set(after) == {j.job_key for j in edited}
    assert after[jobs[2].job_key][1] == ["Boston"]
    assert {k: v for k, v in after.items() if k != jobs[2].job_key} == {
        k: v for k, v in before.items() if k in after and k != jobs[2].job_key}


def test_a_posting_repeated_in_one_document_keeps_its_last_occurrence_on_every_run(db_url):
    engine = engine_for(db_url)
    old, new = posting("R1", "Line Cook", "Austin"), posting("R1", "Line Cook", "Denver")
    stages.replace_raw_jobs(engine, "f", [old])
    stages.replace_raw_jobs(engine, "f", [new, old])  # the last occurrence is the stored one: it stays
    assert [v[1] for v in raw_rows(engine).values()] == [["Austin"]]
    stages.replace_raw_jobs(engine, "f", [old, new])
    assert [v[1] for v in raw_rows(engine).values()] == [["Denver"]]


def test_a_block_clustered_again_rewrites_only_its_jobs_that_changed(sqlite_url, tmp_path):
    engine = engine_for(sqlite_url)
    roles = ["Plan the menu and run the kitchen line.", "Keep the books and pay the suppliers on time.",
             "Greet the guests and seat them at their tables."]
    jobs = [posting(f"R{n}", "Store Manager", city) for n, city in enumerate(["Reno", "Boise", "Elko"])]
    jobs = [dataclasses.replace(job, description=text) for job, text in zip(jobs, roles, strict=True)]
    dedupe_and_count(engine, "run-1", jobs)
    rowids = "select job_key, rowid from deduped_jobs"
    with engine.connect() as conn:
        before = dict(conn.execute(sa.text(rowids)).all())
    edited = [*jobs[:2], dataclasses.replace(jobs[2], description="Greet the guests and run the front desk.")]
    again = dedupe_and_count(engine, "run-2", edited)
    assert again.reused_blocks == 0, "the block was clustered again"
    with engine.connect() as conn:
        after = dict(conn.execute(sa.text(rowids)).all())
        assert set(conn.execute(sa.select(deduped_jobs.c.run_id)).scalars()) == {"run-2"}
    assert sorted(k for k in after if after[k] == before.get(k)) == sorted(j.job_key for j in jobs[:2]), (
        "the two unchanged jobs keep their rows; the edited one is written again")
    scratch = engine_for(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    dedupe_and_count(scratch, "run-1", edited)
    assert deduped_rows(engine) == deduped_rows(scratch)


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
