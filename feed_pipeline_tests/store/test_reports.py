"""store/reports.py, on SQLite and PostgreSQL: a run's report opened, stages merged in, closed exactly once into
the feed's health (run count, average time, failure streak), dead runs' reports closed, and the lookups."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline.store.db import engine_for

FEED = "board"
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, FEED, url="/tmp/feed.xml")
    return engine


def health(engine) -> tuple:
    feed = feed_store.get_feed(engine, FEED)
    return (feed.last_run_status, feed.run_count, feed.consecutive_failure_count, feed.avg_processing_time_s)


def finish(engine, run_id: str, status: str, seconds: float, start: datetime = T0) -> bool:
    return reports.record_run_outcome(engine, run_id, FEED, status, started_at=start,
                                      finished_at=start + timedelta(seconds=seconds))


def test_a_report_opens_started_and_merges_each_stages_figures(engine):
    reports.open_report(engine, "run-1", FEED)
    reports.open_report(engine, "run-1", FEED)  # a second open changes nothing
    report = reports.get_report(engine, "run-1")
    assert (report["status"], report["stages"], report["counts"], report["health_recorded"]) == (
        reports.STARTED, {}, {}, False)

    reports.report_stage(engine, "run-1", FEED, "raw_jobs", duration_s=1.23456, counts={"raw": 6},
                         stats={"complete": True})
    reports.report_stage(engine, "run-1", FEED, "industry_enriched", duration_s=2.0, counts={"deduped": 4},
                         ai_usage={"calls": 2, "estimated_cost_usd": 0.5, "quota_exhausted": False})
    reports.report_stage(engine, "run-1", FEED, "function_enriched", duration_s=0.5,
                         ai_usage={"calls": 1, "estimated_cost_usd": 0.25, "quota_exhausted": True})
    reports.report_stage(engine, "run-1", FEED, "xano_mirror", duration_s=0.1, mirror={"added": 3})

    report = reports.get_report(engine, "run-1")
    assert report["stages"] == {"raw_jobs": {"duration_s": 1.235, "complete": True},
                                "industry_enriched": {"duration_s": 2.0}, "function_enriched": {"duration_s": 0.5},
                                "xano_mirror": {"duration_s": 0.1}}
    assert report["counts"] == {"raw": 6, "deduped": 4}
    assert report["ai_usage"] == {"calls": 3, "estimated_cost_usd": 0.75, "quota_exhausted": True}, \
        "numbers add up over the stages; a flag is the latest"
    assert report["mirror"] == {"added": 3}


def test_a_stage_report_creates_the_report_of_a_run_that_never_opened_one(engine):
    reports.report_stage(engine, "run-x", FEED, "deduped_jobs", duration_s=0.0)
    assert reports.get_report(engine, "run-x")["stages"] == {"deduped_jobs": {"duration_s": 0.0}}
    assert reports.get_report(engine, "run-y") is None


def test_a_run_is_folded_into_the_feeds_health_exactly_once(engine):
    reports.open_report(engine, "run-1", FEED)

    assert finish(engine, "run-1", reports.SUCCESS, 10) is True
    assert finish(engine, "run-1", reports.FAILED, 99) is False, "the second recorder changes nothing"

    report = reports.get_report(engine, "run-1")
    assert (report["status"], report["duration_s"], report["error"], report["health_recorded"]) == (
        reports.SUCCESS, 10.0, None, True)
    assert health(engine) == (reports.SUCCESS, 1, 0, 10.0)


def test_failures_extend_the_streak_and_a_partial_or_successful_run_ends_it(engine):
    finish(engine, "run-1", reports.SUCCESS, 10)
    finish(engine, "run-2", reports.FAILED, 20)
    assert health(engine) == (reports.FAILED, 2, 1, 15.0)
    finish(engine, "run-3", reports.CANCELED, 30)
    assert health(engine) == (reports.CANCELED, 3, 2, 20.0)
    finish(engine, "run-4", reports.PARTIAL, 40)
    assert health(engine) == (reports.PARTIAL, 4, 0, 25.0)


def test_a_run_of_unknown_duration_counts_without_moving_the_average(engine):
    finish(engine, "run-1", reports.SUCCESS, 10)
    assert reports.record_run_outcome(engine, "run-2", FEED, reports.FAILED, error="died",
                                      duration_known=False) is True
    assert reports.get_report(engine, "run-2")["duration_s"] is None
    assert health(engine) == (reports.FAILED, 2, 1, 10.0)


def test_an_unregistered_feeds_run_is_recorded_without_health(engine):
    assert reports.record_run_outcome(engine, "run-1", "ghost", reports.SUCCESS) is True
    assert reports.get_report(engine, "run-1")["status"] == reports.SUCCESS
    assert health(engine) == (None, 0, 0, None)


def test_reports_dead_runs_left_started_are_closed_as_failed_by_the_next_run(engine):
    reports.open_report(engine, "dead-1", FEED)
    reports.open_report(engine, "dead-2", FEED)
    reports.open_report(engine, "other-feed", "elsewhere")
    finish(engine, "done", reports.SUCCESS, 5)
    reports.open_report(engine, "current", FEED)

    closed = reports.close_stale_reports(engine, FEED, "current")

    assert sorted(closed) == ["dead-1", "dead-2"]
    dead = reports.get_report(engine, "dead-1")
    assert (dead["status"], dead["duration_s"], dead["error"]) == (reports.FAILED, None, (
        "run dead-1 stopped before it finished (its process died or was killed); closed by run current"))
    assert reports.get_report(engine, "current")["status"] == reports.STARTED
    assert reports.get_report(engine, "other-feed")["status"] == reports.STARTED
    assert reports.close_stale_reports(engine, FEED, "current") == []


def test_the_previous_successful_report_and_the_listing_newest_first(engine):
    for i, status in enumerate([reports.SUCCESS, reports.SUCCESS, reports.FAILED, reports.SUCCESS]):
        reports.open_report(engine, f"run-{i}", FEED)
        finish(engine, f"run-{i}", status, 1, start=T0 + timedelta(hours=i))

    assert reports.previous_successful_report(engine, FEED, "run-3")["run_id"] == "run-1"
    assert reports.previous_successful_report(engine, FEED, "run-9")["run_id"] == "run-3"
    assert reports.previous_successful_report(engine, "elsewhere", "run-3") is None
    assert [r["run_id"] for r in reports.list_reports(engine, FEED)] == ["run-3", "run-2", "run-1", "run-0"]
    assert [r["run_id"] for r in reports.list_reports(engine, FEED, limit=2, offset=1)] == ["run-2", "run-1"]
