"""Every run of a feed partition, whatever job it is, takes the feed's lease and records itself exactly once, with
the root cause of a failure (never Dagster's wrapper) or the reasons it is partial; a dead run is closed by the
next run of its feed. Stand-in stages use the real database resource, so the run scope is the real one."""

import time
from datetime import timedelta

import dagster as dg
import pytest

from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.run_scope import FeedRunScope, refused_by_lease
from feed_pipeline.sources.base import FeedUnavailableError
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import leases, reports
from feed_pipeline.store.rows import utcnow
from feed_pipeline.store.schema import run_leases

FEED = "acme"
executed: list[str] = []


class Behaviour(dg.Config):
    mode: str = "ok"  # ok | raise | ai_failures | check_fails


@dg.asset(partitions_def=feeds_partitions, retry_policy=dg.RetryPolicy(max_retries=1))
def first_stage(context: dg.AssetExecutionContext, config: Behaviour, database: DatabaseResource) -> None:
    executed.append(context.run_id)
    if config.mode == "raise":
        raise FeedUnavailableError(f"feed {context.partition_key} answered HTTP 404 at https://example.com/feed.xml")
    failed = 2 if config.mode == "ai_failures" else 0
    reports.report_stage(database.engine, context.run_id, context.partition_key, "routed_jobs", duration_s=0.1,
                         counts={"approved": 3, "failed": failed})


@dg.asset_check(asset=first_stage, blocking=True, description="approved jobs have a taxonomy")
def stage_is_sound(context: dg.AssetCheckExecutionContext, config: Behaviour,
                   database: DatabaseResource) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=config.mode != "check_fails", metadata={"violations": 2})


@pytest.fixture
def engine(db_url):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, FEED, url="/feeds/acme.xml")
    return engine


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions(feeds_partitions.name, [FEED])
        yield inst


def materialize(instance, db_url: str, mode: str = "ok") -> dg.ExecuteInProcessResult:
    config = {"ops": {"first_stage": {"config": {"mode": mode}}, "first_stage_stage_is_sound": {
        "config": {"mode": mode}}}}
    return dg.materialize([first_stage, stage_is_sound], instance=instance, partition_key=FEED, raise_on_error=False,
                          resources={"database": DatabaseResource(url=db_url)}, run_config=config)


def test_an_asset_graph_run_records_its_report_and_the_feeds_health_without_any_sensor(engine, instance, db_url):
    result = materialize(instance, db_url)

    assert result.success and result.job_def.name == "__ephemeral_asset_job__"
    report = reports.get_report(engine, result.run_id)
    assert (report["status"], report["health_recorded"], report["error"]) == (reports.SUCCESS, True, None)
    feed = feed_store.get_feed(engine, FEED)
    assert (feed.last_run_status, feed.run_count, feed.consecutive_failure_count) == (reports.SUCCESS, 1, 0)
    assert leases.live_lease(engine, FEED) is None, "the lease is given back at the end of the run"


def test_a_run_refused_by_the_lease_fails_clearly_and_writes_nothing(engine, instance, db_url):
    leases.acquire(engine, FEED, "the-other-run")
    executed.clear()

    result = materialize(instance, db_url)

    assert not result.success and executed == [], "no stage ran"
    assert refused_by_lease(instance, result.run_id).startswith(f"feed {FEED} is already running (run the-other-run)")
    assert reports.get_report(engine, result.run_id) is None
    assert feed_store.get_feed(engine, FEED).run_count == 0
    assert leases.live_lease(engine, FEED).run_id == "the-other-run"


def test_a_failure_reports_the_root_cause_not_dagsters_wrappers(engine, instance, db_url):
    result = materialize(instance, db_url, mode="raise")

    assert not result.success and executed.count(result.run_id) == 2, "retried once by the policy, then failed"
    error = reports.get_report(engine, result.run_id)["error"]
    assert error == f"first_stage: feed {FEED} answered HTTP 404 at https://example.com/feed.xml"
    feed = feed_store.get_feed(engine, FEED)
    assert (feed.last_run_status, feed.consecutive_failure_count) == (reports.FAILED, 1)


def test_a_failed_blocking_check_is_named_with_why(engine, instance, db_url):
    result = materialize(instance, db_url, mode="check_fails")

    report = reports.get_report(engine, result.run_id)
    assert report["status"] == reports.FAILED
    assert report["error"] == ("first_stage_stage_is_sound: check stage_is_sound on first_stage failed: "
                               "violations=2")


def test_jobs_left_failed_by_the_ai_make_the_run_partial_with_the_reason(engine, instance, db_url):
    result = materialize(instance, db_url, mode="ai_failures")

    assert result.success, "Dagster's run succeeded; the report says what it left undone"
    report = reports.get_report(engine, result.run_id)
    assert report["status"] == reports.PARTIAL
    assert "2 job(s) failed in the AI stages" in report["error"]
    feed = feed_store.get_feed(engine, FEED)
    assert (feed.last_run_status, feed.consecutive_failure_count) == (reports.PARTIAL, 0)


def test_the_next_run_closes_a_dead_runs_report_and_its_dagster_run(engine, instance, db_url):
    dead = instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id="dead-run-0001",
                                          status=dg.DagsterRunStatus.STARTED, tags={"dagster/partition": FEED}))
    reports.open_report(engine, dead.run_id, FEED)  # its process was killed after this
    leases.acquire(engine, FEED, dead.run_id, ttl_s=leases.MIN_TTL_S)
    leases.release(engine, FEED, dead.run_id)  # the lease expired long ago

    result = materialize(instance, db_url)

    closed = reports.get_report(engine, dead.run_id)
    assert closed["status"] == reports.FAILED and closed["health_recorded"]
    assert closed["error"] == (f"run {dead.run_id} stopped before it finished (its process died or was killed); "
                               f"closed by run {result.run_id}")
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert reports.get_report(engine, result.run_id)["status"] == reports.SUCCESS
    assert feed_store.get_feed(engine, FEED).run_count == 2


def test_a_run_that_lost_its_lease_to_another_run_is_failed_with_why(engine, instance):
    scope = FeedRunScope(engine, instance, "slow-run", FEED, lease_ttl_s=leases.MIN_TTL_S).open()
    with engine.begin() as conn:  # it stalled past its lease, and another run took the feed
        conn.execute(run_leases.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    leases.acquire(engine, FEED, "rival-run")
    time.sleep(leases.MIN_TTL_S / 3 + 0.5)  # the stalled run's next heartbeat finds the lease gone

    scope.close()

    report = reports.get_report(engine, "slow-run")
    assert report["status"] == reports.FAILED
    assert report["error"].startswith(f"run: lost the lease of feed {FEED}")
    assert leases.live_lease(engine, FEED).run_id == "rival-run", "closing did not free the rival's lease"
