"""api_feeds_schedule: one feed_job run per active API feed with a partition, a run key per tick, cron from env."""
from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from feed_pipeline.automation import schedules
from feed_pipeline.automation.schedules import api_feeds_schedule, build_api_feeds_schedule, cron_for_interval
from feed_pipeline.definitions import build_definitions, build_resources
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.store import feeds as feed_store

TICK = datetime(2024, 5, 10, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def shared_instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def instance(shared_instance):
    """One instance per module (creating one is slow); every test starts with no partitions."""
    yield shared_instance
    for key in shared_instance.get_dynamic_partitions(feeds_partitions.name):
        shared_instance.delete_dynamic_partition(feeds_partitions.name, key)


@pytest.fixture
def feeds(sqlite_url):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "careers-xml", url="https://example.com/jobs.xml", kind="xml")
    feed_store.upsert_feed(engine, "remote-ok", url=None, kind="remoteok")
    feed_store.upsert_feed(engine, "backend", url=None, kind="multi")
    feed_store.upsert_feed(engine, "uk-adzuna", url=None, kind="multi", params={"sources": ["adzuna", "jsearch"]})
    feed_store.upsert_feed(engine, "paused", url=None, kind="adzuna", active=False)
    feed_store.upsert_feed(engine, "brand-new", url=None, kind="jsearch")
    return engine


def our_tags(run: dg.RunRequest) -> dict[str, str]:
    """The run's tags without the ones Dagster adds (partition, schedule name)."""
    return {k: v for k, v in run.tags.items() if k.startswith("feed_pipeline/")}


# The repository only resolves feed_job for partitioned run requests (resources come from the context). Built at
# import, when no Dagster instance is current: building it later reads the current instance's state storage,
# which another module's disposed test instance can leave behind under pytest-xdist.
REPOSITORY = build_definitions(build_resources({})).get_repository_def()


def evaluate(instance, sqlite_url, tick=TICK):
    """One tick as the daemon evaluates it. The context is closed here: it opens its own instance from the ref,
    and an unclosed one would restore Dagster's current-instance state whenever it is garbage collected."""
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick,
                                   resources={"database": DatabaseResource(url=sqlite_url)},
                                   repository_def=REPOSITORY) as context:
        return api_feeds_schedule.evaluate_tick(context)


def test_each_active_api_feed_with_a_partition_gets_one_run_keyed_by_the_tick(instance, sqlite_url, feeds):
    instance.add_dynamic_partitions(feeds_partitions.name, ["careers-xml", "remote-ok", "backend", "uk-adzuna",
                                                            "paused"])

    result = evaluate(instance, sqlite_url)

    assert result.skip_message is None
    runs = {r.partition_key: r for r in result.run_requests}
    assert sorted(runs) == ["backend", "remote-ok", "uk-adzuna"]
    assert runs["backend"].run_key == "backend:2024-05-10T12:30:00+00:00"
    assert our_tags(runs["backend"]) == {"feed_pipeline/trigger": "schedule",
                                         "feed_pipeline/api_source_remoteok": "true",
                                    "feed_pipeline/api_source_jsearch": "true",
                                    "feed_pipeline/api_source_adzuna": "true"}
    assert runs["uk-adzuna"].tags["feed_pipeline/api_source_adzuna"] == "true"
    assert "feed_pipeline/api_source_remoteok" not in runs["uk-adzuna"].tags
    assert runs["remote-ok"].tags["feed_pipeline/api_source_remoteok"] == "true"


def test_the_next_tick_gives_new_run_keys(instance, sqlite_url, feeds):
    instance.add_dynamic_partitions(feeds_partitions.name, ["remote-ok"])

    first = evaluate(instance, sqlite_url)
    later = evaluate(instance, sqlite_url, datetime(2024, 5, 10, 13, tzinfo=UTC))

    assert [r.run_key for r in first.run_requests] == ["remote-ok:2024-05-10T12:30:00+00:00"]
    assert [r.run_key for r in later.run_requests] == ["remote-ok:2024-05-10T13:00:00+00:00"]


def test_feeds_without_a_partition_wait_for_the_registry_sensor(instance, sqlite_url, feeds):
    instance.add_dynamic_partitions(feeds_partitions.name, ["remote-ok"])

    plan = schedules.plan_tick(feed_store.list_feeds(feeds, active_only=True, kinds=schedules.API_FEED_KINDS),
                               instance.get_dynamic_partitions(feeds_partitions.name), TICK)

    assert [r.partition_key for r in plan.runs] == ["remote-ok"]
    assert plan.waiting_for_partition == ["backend", "brand-new", "uk-adzuna"]


def test_no_partitioned_api_feed_is_a_skip_with_the_reason(instance, sqlite_url, feeds):
    result = evaluate(instance, sqlite_url)

    assert result.run_requests == []
    assert result.skip_message == "4 active API feeds, none with a partition yet"


def test_no_api_feeds_at_all_is_a_skip(instance, sqlite_url):
    feed_store.upsert_feed(engine_for(sqlite_url), "careers-xml", url="https://example.com/jobs.xml", kind="xml")
    instance.add_dynamic_partitions(feeds_partitions.name, ["careers-xml"])

    result = evaluate(instance, sqlite_url)

    assert result.skip_message == "no active API feeds (kinds remoteok, jsearch, adzuna, multi)"


def test_calling_the_schedule_directly_returns_the_run_requests(instance, sqlite_url, feeds):
    instance.add_dynamic_partitions(feeds_partitions.name, ["backend"])
    # The database resource opens a run's scope when set up for a run, so it is set up in a context.
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK,
                                   resources={"database": DatabaseResource(url=sqlite_url)}) as context:
        runs = api_feeds_schedule(context)

    assert [(r.partition_key, r.run_key) for r in runs] == [("backend", "backend:2024-05-10T12:30:00+00:00")]


def test_a_multi_feed_with_broken_params_is_still_scheduled_so_its_run_fails_visibly(instance, sqlite_url):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "typo", url=None, kind="multi", params={"sources": ["indeed"]})
    instance.add_dynamic_partitions(feeds_partitions.name, ["typo"])

    result = evaluate(instance, sqlite_url)

    (run,) = result.run_requests
    assert our_tags(run) == {"feed_pipeline/trigger": "schedule"}


@pytest.mark.parametrize("minutes, cron", [(30, "*/30 * * * *"), (1, "* * * * *"), (15, "*/15 * * * *"),
                                           (60, "0 * * * *"), (120, "0 */2 * * *"), (1440, "0 */24 * * *")])
def test_interval_becomes_a_steady_cron(minutes, cron):
    assert cron_for_interval(minutes) == cron


@pytest.mark.parametrize("minutes", [45, 90, 7, 300])
def test_intervals_cron_cannot_keep_steady_are_refused(minutes):
    with pytest.raises(ValueError, match=rf"INGESTION_INTERVAL_MINUTES={minutes} cannot be a steady schedule"):
        cron_for_interval(minutes)


def test_the_interval_comes_from_the_environment_with_30_minutes_by_default(monkeypatch):
    monkeypatch.delenv("INGESTION_INTERVAL_MINUTES", raising=False)
    assert build_api_feeds_schedule().cron_schedule == "*/30 * * * *"
    monkeypatch.setenv("INGESTION_INTERVAL_MINUTES", "15")
    assert build_api_feeds_schedule().cron_schedule == "*/15 * * * *"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_an_unreadable_interval_is_an_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("INGESTION_INTERVAL_MINUTES", value)
    with pytest.raises(ValueError, match=r"INGESTION_INTERVAL_MINUTES=.* must be a whole number of minutes"):
        build_api_feeds_schedule()


def test_the_definitions_run_the_schedule_by_default_against_feed_job():
    defs = build_definitions(build_resources({}))

    (schedule,) = [s for s in defs.schedules if s.name == "api_feeds_schedule"]
    assert schedule.job_name == "feed_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
