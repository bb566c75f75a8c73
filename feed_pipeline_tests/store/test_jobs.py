"""store/jobs.py, on SQLite and PostgreSQL: routed jobs upserted with their history (unchanged rows untouched),
jobs that left a complete feed marked removed, counts by route and source, lookups, and review decisions."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.rows import job_to_row
from feed_pipeline.store.schema import jobs, review_decisions

FEED = "board"


def routed(ref: str, route: str, *, reason: str | None = None, confidence: float | None = 0.9, feed: str = FEED,
           source: str = "xml", description: str = "Run the backend services.") -> dict:
    """A `jobs` row as routing writes it."""
    job = assign_identity(JobRecord(feed_id=feed, source=source, source_id=ref, title=f"Job {ref}", company="Acme",
                                    description=description, locations=["Austin"]))
    return {**job_to_row(job), "industry": "Software", "industry_confidence": confidence, "job_function": None,
            "function_confidence": None, "routing_confidence": confidence, "ai_title": None, "ai_description": None,
            "skills": [], "tech_stack": [], "seniority": None, "remote_policy": None, "route": route,
            "reason": reason}


def upsert(engine, run_id: str, rows: list[dict]) -> int:
    with engine.begin() as conn:
        return job_store.upsert_routed_jobs(conn, run_id, rows)


def stored(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["source_id"]: dict(r) for r in conn.execute(sa.select(jobs).where(jobs.c.feed_id == FEED))
                .mappings()}


def history(engine, row: dict) -> list[tuple]:
    return [(h["run_id"], h["route"], h["reason"]) for h in job_store.route_history(engine, row["job_key"])]


@pytest.fixture
def engine(db_url):
    return engine_for(db_url)


def test_upsert_inserts_new_jobs_with_their_first_route_in_the_history(engine):
    a, b = routed("1", "approved"), routed("2", "archived", reason="industry confidence 0.300 below 0.5")

    assert upsert(engine, "run-1", [a, b]) == 2
    assert upsert(engine, "run-1", []) == 0

    rows = stored(engine)
    assert {ref: (r["route"], r["reason"], r["last_run_id"]) for ref, r in rows.items()} == {
        "1": ("approved", None, "run-1"), "2": ("archived", "industry confidence 0.300 below 0.5", "run-1")}
    assert rows["1"]["first_seen_at"] == rows["1"]["last_seen_at"] == rows["1"]["updated_at"]
    assert history(engine, a) == [("run-1", "approved", None)]


def test_an_unchanged_row_only_moves_to_the_new_run_and_a_changed_route_is_recorded(engine):
    a, b = routed("1", "approved"), routed("2", "manual_review", reason="routing confidence 0.700", confidence=0.7)
    upsert(engine, "run-1", [a, b])
    first = stored(engine)

    changed = upsert(engine, "run-2", [a, {**b, "route": "approved", "reason": None}])

    assert changed == 1
    second = stored(engine)
    assert second["1"]["updated_at"] == first["1"]["updated_at"], "an equal row is not rewritten"
    assert second["1"]["last_seen_at"] > first["1"]["last_seen_at"]
    assert second["2"]["updated_at"] > first["2"]["updated_at"]
    assert second["2"]["first_seen_at"] == first["2"]["first_seen_at"], "first_seen_at survives every update"
    assert {ref: (r["route"], r["last_run_id"]) for ref, r in second.items()} == {
        "1": ("approved", "run-2"), "2": ("approved", "run-2")}
    assert history(engine, a) == [("run-1", "approved", None)]
    assert history(engine, b) == [("run-1", "manual_review", "routing confidence 0.700"), ("run-2", "approved", None)]


def test_new_content_on_the_same_route_rewrites_the_row_without_a_history_entry(engine):
    a = routed("1", "approved")
    upsert(engine, "run-1", [a])
    edited = routed("1", "approved", description="Run the backend services, now with Go.")

    assert upsert(engine, "run-2", [edited]) == 0

    assert stored(engine)["1"]["content_hash"] == edited["content_hash"] != a["content_hash"]
    assert history(engine, a) == [("run-1", "approved", None)]


def test_jobs_a_complete_run_did_not_see_are_marked_removed_once(engine):
    a, b, c = routed("1", "approved"), routed("2", "archived", reason="low"), routed("3", "failed", reason="x")
    upsert(engine, "run-1", [a, b, c])
    upsert(engine, "run-2", [a])

    with engine.begin() as conn:
        assert job_store.mark_removed(conn, FEED, "run-2") == 2
    with engine.begin() as conn:
        assert job_store.mark_removed(conn, FEED, "run-3") == 1, "only job 1 is still listed and unseen by run 3"

    assert {ref: (r["route"], r["reason"], r["last_run_id"]) for ref, r in stored(engine).items()} == {
        "1": ("rejected", "removed", "run-3"), "2": ("rejected", "removed", "run-2"),
        "3": ("rejected", "removed", "run-2")}
    assert history(engine, b) == [("run-1", "archived", "low"), ("run-2", "rejected", "removed")]
    with engine.begin() as conn:
        assert job_store.mark_removed(conn, FEED, "run-4") == 0, "a removed job is not removed again"


def test_route_counts_by_feed_run_and_source(engine):
    upsert(engine, "run-1", [routed("1", "approved"), routed("2", "approved", source="remoteok"),
                             routed("3", "archived", reason="low")])
    upsert(engine, "run-2", [routed("1", "approved")])
    upsert(engine, "other-run", [routed("9", "approved", feed="other")])

    assert job_store.route_counts(engine, FEED) == {"approved": 2, "archived": 1}
    assert job_store.route_counts(engine, FEED, "run-1") == {"approved": 1, "archived": 1}
    assert job_store.route_counts(engine, FEED, "run-2") == {"approved": 1}
    assert job_store.source_route_counts(engine, [FEED, "other"]) == {
        "xml": {"approved": 2, "archived": 1}, "remoteok": {"approved": 1}}
    assert job_store.source_route_counts(engine, []) == {}


def test_iter_jobs_get_job_and_an_unknown_key(engine):
    rows = [routed("1", "approved"), routed("2", "archived", reason="low"), routed("3", "approved")]
    upsert(engine, "run-1", rows)

    keys = sorted(r["job_key"] for r in rows)
    assert [j["job_key"] for j in job_store.iter_jobs(engine, FEED, chunk=1)] == keys
    assert [j["source_id"] for j in job_store.iter_jobs(engine, FEED, route="archived")] == ["2"]
    assert list(job_store.iter_jobs(engine, "nobody")) == []
    assert job_store.get_job(engine, rows[0]["job_key"])["title"] == "Job 1"
    with pytest.raises(job_store.JobNotFoundError, match=r"^no job with key 'nope'; "):
        job_store.get_job(engine, "nope")
    assert job_store.route_history(engine, "nope") == []


def test_a_review_decision_is_stored_on_the_jobs_content_and_replaced_by_the_next(engine):
    a, b = routed("1", "manual_review", reason="r"), routed("2", "manual_review", reason="r")
    upsert(engine, "run-1", [a, b])
    assert job_store.review_version(engine, FEED) == "0:"

    first = job_store.record_review(engine, a["job_key"], "approve", note="fine", decided_by="ops")
    version = job_store.review_version(engine, FEED)
    job_store.record_review(engine, a["job_key"], "reject", note="spam")

    assert (first["content_hash"], first["decided_by"]) == (a["content_hash"], "ops")
    with engine.connect() as conn:
        decisions = conn.execute(sa.select(review_decisions.c.job_key, review_decisions.c.decision,
                                           review_decisions.c.note)).all()
        assert decisions == [(a["job_key"], "reject", "spam")]
        assert job_store.review_decisions_for(conn, FEED, [a["job_key"], b["job_key"]]) == {
            a["job_key"]: ("reject", a["content_hash"])}
        assert job_store.review_decisions_for(conn, "other", [a["job_key"]]) == {}
    later = job_store.review_version(engine, FEED)
    assert version.startswith("1:") and later.startswith("1:") and later != version, "a new decision is a new version"


def test_a_review_needs_a_known_job_and_a_known_decision(engine):
    upsert(engine, "run-1", [routed("1", "manual_review", reason="r")])
    key = stored(engine)["1"]["job_key"]
    with pytest.raises(ValueError, match=r"^a review decision is 'approve' or 'reject'$"):
        job_store.record_review(engine, key, "maybe")
    with pytest.raises(job_store.JobNotFoundError):
        job_store.record_review(engine, "nope", "approve")
    assert job_store.review_version(engine, FEED) == "0:"
