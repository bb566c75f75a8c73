"""docker/dagster.yaml (the production instance) builds a working instance on PostgreSQL: queue limits, the gemini
pool, run retries, and a feed run whose runs, events and partitions land in PostgreSQL."""
from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._utils.tags import TagConcurrencyLimitsCounter
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.automation.schedules import API_SOURCE_TAG_PREFIX
from feed_pipeline.definitions import build_definitions
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.deploy.conftest import make_production_home, write_small_feed

PARTITION_TAG = "dagster/partition"


@pytest.fixture(scope="module")
def instance(tmp_path_factory, pg_database_factory):
    """The instance dagster.yaml describes, on a fresh PostgreSQL database (shared by this module's tests)."""
    home, env = make_production_home(tmp_path_factory.mktemp("instance"), pg_database_factory())
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with dg.DagsterInstance.from_config(str(home)) as instance:  # entered: definitions load against it
            yield instance


def fake_run(run_id: str, feed_id: str, **tags: str) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="feed_job", run_id=run_id, tags={PARTITION_TAG: feed_id, **tags})


def test_dagster_yaml_stores_everything_in_postgresql(instance):
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)


def test_dagster_yaml_queues_runs_with_a_global_limit_and_one_run_per_feed(instance):
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    queue = instance.get_concurrency_config().run_queue_config
    assert queue.max_concurrent_runs >= 1

    in_progress = [fake_run("r1", "acme")]
    counter = TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, in_progress)
    assert counter.is_blocked(fake_run("r2", "acme")), "a second run of the same feed must wait"
    assert not counter.is_blocked(fake_run("r3", "globex")), "another feed may run at the same time"


def test_dagster_yaml_lets_one_run_at_a_time_call_each_job_api(instance):
    queue = instance.get_concurrency_config().run_queue_config
    adzuna = {f"{API_SOURCE_TAG_PREFIX}adzuna": "true"}
    counter = TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, [fake_run("r1", "uk_jobs", **adzuna)])
    assert counter.is_blocked(fake_run("r2", "us_jobs", **adzuna))
    assert not counter.is_blocked(fake_run("r3", "remote_jobs", **{f"{API_SOURCE_TAG_PREFIX}remoteok": "true"}))


def test_dagster_yaml_limits_the_gemini_pool_and_retries_crashed_runs(instance):
    pools = instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit is not None and pools.default_pool_limit >= 1
    assert pools.pool_granularity is not None and pools.pool_granularity.value == "op"
    assert instance.run_retries_enabled and instance.run_retries_max_retries >= 1
    assert instance.run_monitoring_enabled


def test_a_feed_runs_on_the_instance_from_dagster_yaml(instance, pg_database_factory, tmp_path):
    feeds_db = pg_database_factory()
    engine = engine_for(feeds_db)
    feed_store.upsert_feed(engine, "small", url=str(write_small_feed(tmp_path / "small.xml", 6)))
    defs = build_definitions({
        "database": DatabaseResource(url=feeds_db),
        "classifier": OfflineClassifierResource(),
        "routing": RoutingResource(),
        "xano": XanoSandboxResource(db_path=str(tmp_path / "xano.sqlite")),
    })

    summary = run_feed(defs, instance, "small", database_url=feeds_db)

    assert summary["status"] == "success", summary
    assert summary["counts"]["raw"] == 6
    run = instance.get_run_by_id(summary["run_id"])
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags[PARTITION_TAG] == "small"
    assert instance.get_dynamic_partitions(feeds_partitions.name) == ["small"]
    materialized = instance.get_latest_materialization_event(dg.AssetKey("xano_mirror"))
    assert materialized is not None and materialized.dagster_event.partition == "small"
    gemini = instance.event_log_storage.get_concurrency_info("gemini")
    assert gemini.slot_count == instance.get_concurrency_config().pool_config.default_pool_limit
