"""The run status sensors fold finished runs into the feeds' health: failures count up, a success resets them; runs
that died without a trace (a worker killed, a lease expired unrenewed) are closed as failed with the reason."""

from datetime import timedelta

import dagster as dg
import pytest

from feed_pipeline.automation.health import PARTITION_TAG, dead_feed_runs_sensor, feed_health_sensors
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import leases, reports
from feed_pipeline.store.rows import utcnow
from feed_pipeline.store.schema import run_leases

SENSORS = {s.name: s for s in feed_health_sensors}
EVENT_FOR_STATUS = {
    dg.DagsterRunStatus.SUCCESS: dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterRunStatus.FAILURE: dg.DagsterEventType.RUN_FAILURE,
}


class Outcome(dg.Config):
    fail: bool = False


@dg.op
def ingest_step(config: Outcome) -> None:
    if config.fail:
        raise RuntimeError("feed unreachable")


@dg.job
def stand_in_feed_job():
    """Finishes the way we ask, so the sensors see real runs, events and run stats in a real instance."""
    ingest_step()


@pytest.fixture
def engine(sqlite_url):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "acme", url="/feeds/acme.xml")
    return engine


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def finish_run(instance, *, fail: bool, feed_id: str | None = "acme") -> dg.DagsterRun:
    tags = {PARTITION_TAG: feed_id} if feed_id else {}
    result = stand_in_feed_job.execute_in_process(
        instance=instance, tags=tags, raise_on_error=False,
        run_config={"ops": {"ingest_step": {"config": {"fail": fail}}}})
    return instance.get_run_by_id(result.run_id)


def notify(instance, run: dg.DagsterRun, sqlite_url: str) -> None:
    """Invoke the sensor for the run's status with the event the daemon would hand it."""
    [record] = instance.get_records_for_run(run.run_id, of_type=EVENT_FOR_STATUS[run.status]).records
    sensor = SENSORS[f"feed_health_on_{run.status.value.lower()}"]
    with dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=record.event_log_entry.dagster_event, dagster_instance=instance,
        dagster_run=run, resources={"database": DatabaseResource(url=sqlite_url)},
    ) as context:  # closed here, not whenever it is garbage-collected
        sensor(context)


def test_health_sensors_cover_success_failure_and_cancel_of_feed_job():
    assert set(SENSORS) == {"feed_health_on_success", "feed_health_on_failure", "feed_health_on_canceled"}
    for sensor in feed_health_sensors:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_failures_count_up_and_a_success_resets_them(engine, instance, sqlite_url):
    for expected in (1, 2):
        run = finish_run(instance, fail=True)
        assert run.status == dg.DagsterRunStatus.FAILURE
        notify(instance, run, sqlite_url)
        feed = feed_store.get_feed(engine, "acme")
        assert (feed.consecutive_failure_count, feed.last_run_status) == (expected, reports.FAILED)
    report = reports.get_report(engine, run.run_id)
    assert report["status"] == reports.FAILED and "ingest_step" in report["error"]

    success = finish_run(instance, fail=False)
    notify(instance, success, sqlite_url)
    feed = feed_store.get_feed(engine, "acme")
    assert (feed.consecutive_failure_count, feed.last_run_status, feed.run_count) == (0, reports.SUCCESS, 3)
    assert feed.avg_processing_time_s is not None and feed.avg_processing_time_s >= 0
    assert reports.get_report(engine, success.run_id)["status"] == reports.SUCCESS


def test_a_run_notified_twice_counts_once(engine, instance, sqlite_url):
    run = finish_run(instance, fail=True)
    notify(instance, run, sqlite_url)
    notify(instance, run, sqlite_url)
    feed = feed_store.get_feed(engine, "acme")
    assert (feed.consecutive_failure_count, feed.run_count) == (1, 1)


def test_a_run_without_a_feed_partition_changes_no_feed(engine, instance, sqlite_url):
    run = finish_run(instance, fail=True, feed_id=None)
    notify(instance, run, sqlite_url)
    feed = feed_store.get_feed(engine, "acme")
    assert (feed.consecutive_failure_count, feed.run_count, feed.last_run_status) == (0, 0, None)
    assert reports.get_report(engine, run.run_id) is None


def test_a_run_whose_worker_died_is_closed_as_failed_with_dagsters_reason(engine, instance, sqlite_url):
    run = instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id="killed-run-01",
                                         status=dg.DagsterRunStatus.STARTED, tags={PARTITION_TAG: "acme"}))
    reports.open_report(engine, run.run_id, "acme")
    instance.report_run_failed(run, "Run worker for killed-run-01 exited unexpectedly (run monitoring)")

    notify(instance, instance.get_run_by_id(run.run_id), sqlite_url)

    report = reports.get_report(engine, run.run_id)
    assert report["status"] == reports.FAILED
    assert report["error"] == "run: Run worker for killed-run-01 exited unexpectedly (run monitoring)"
    assert feed_store.get_feed(engine, "acme").consecutive_failure_count == 1


def test_a_run_whose_lease_expired_unrenewed_is_closed_in_dagster_and_in_its_report(engine, instance, sqlite_url):
    run = instance.add_run(dg.DagsterRun(job_name="feed_job", run_id="silent-run-01",
                                         status=dg.DagsterRunStatus.STARTED, tags={PARTITION_TAG: "acme"}))
    reports.open_report(engine, run.run_id, "acme")
    leases.acquire(engine, "acme", run.run_id, ttl_s=60)
    with engine.begin() as conn:  # its last heartbeat was two minutes ago: the process is gone
        conn.execute(run_leases.update().values(heartbeat_at=utcnow() - timedelta(seconds=120),
                                                expires_at=utcnow() - timedelta(seconds=60)))

    def tick():
        with dg.build_sensor_context(instance=instance,
                                     resources={"database": DatabaseResource(url=sqlite_url)}) as context:
            return dead_feed_runs_sensor(context)

    assert "closed 1 dead run" in tick().skip_message
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    report = reports.get_report(engine, run.run_id)
    assert report["status"] == reports.FAILED and "stopped renewing its lease" in report["error"]
    assert tick().skip_message == "no run stopped renewing its lease", "closed once"
    assert leases.acquire(engine, "acme", "next-run").run_id == "next-run"


def test_a_released_lease_is_not_taken_for_a_dead_run(engine, instance, sqlite_url):
    leases.acquire(engine, "acme", "finished-run")
    leases.release(engine, "acme", "finished-run")
    assert leases.abandoned_leases(engine) == []
