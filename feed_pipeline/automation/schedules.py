"""`api_feeds_schedule`: job APIs publish no version to watch, so every active API feed is simply run on a clock.

Every `INGESTION_INTERVAL_MINUTES` (default 30; read when the code location loads) the schedule requests one
`feed_job` run per active feed of an API kind (remoteok, jsearch, adzuna, multi: every registered kind the
feed-update sensor cannot probe), with the run key
`<feed id>:<tick time>` (a tick evaluated twice launches each run once). Schedules cannot add dynamic
partitions, so a feed whose `feeds` partition does not exist yet is skipped and logged: the
feed_registry_sensor adds the partition (and runs the feed once) within a minute, and the next tick includes it.

Each run is tagged `feed_pipeline/api_source_<source>: true` for every API it calls, so dagster.yaml can cap
concurrent runs per API (`tag_concurrency_limits` on, e.g., `feed_pipeline/api_source_adzuna`) and keep
parallel runs inside one app id's per-minute budget.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from feed_pipeline.automation.jobs import feed_job
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.settings import Settings
from feed_pipeline.sources.base import FeedConfigError
from feed_pipeline.sources.multi import API_SOURCES, plan_sources
from feed_pipeline.sources.registry import PROBEABLE_KINDS, SOURCES
from feed_pipeline.store import feeds as feed_store

# Kinds with no cheap "has it changed?" probe (the job APIs) are run on the clock; the others by the update sensor.
API_FEED_KINDS = tuple(kind for kind in SOURCES if kind not in PROBEABLE_KINDS)
INTERVAL_VARIABLE = "INGESTION_INTERVAL_MINUTES"
DEFAULT_INTERVAL_MINUTES = 30
TRIGGER_TAG = "feed_pipeline/trigger"
API_SOURCE_TAG_PREFIX = "feed_pipeline/api_source_"


def interval_minutes(env: Mapping[str, str] | None = None) -> int:
    """INGESTION_INTERVAL_MINUTES as an integer; a clear error for anything else."""
    raw = Settings.from_env(env).ingestion_interval_minutes.strip()
    if not raw:
        return DEFAULT_INTERVAL_MINUTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{INTERVAL_VARIABLE}={raw!r} must be a whole number of minutes >= 1 (default "
                         f"{DEFAULT_INTERVAL_MINUTES})")
    return int(raw)


def cron_for_interval(minutes: int) -> str:
    """A cron expression firing every `minutes`, evenly through the day.

    Cron can only do that for divisors of 60 (`*/15 * * * *`) and whole hours dividing 24 (`0 */2 * * *`);
    other values (45, 90) would drift at the hour or day boundary, so they are refused.
    """
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    raise ValueError(f"{INTERVAL_VARIABLE}={minutes} cannot be a steady schedule: use a divisor of 60 "
                     f"(1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or whole hours dividing 24 (60, 120, 180, 240, 360, "
                     f"480, 720, 1440)")


def run_key(feed_id: str, tick: datetime) -> str:
    return f"{feed_id}:{tick.isoformat()}"


def api_sources_of(feed: feed_store.Feed) -> list[str]:
    """The APIs a feed calls (for run tags); a multi feed whose params are broken still runs and fails visibly."""
    if feed.kind in API_SOURCES:
        return [feed.kind]
    try:
        return [source for source, _ in plan_sources(feed.id, feed.params)]
    except FeedConfigError:
        return []


@dataclass(frozen=True)
class TickPlan:
    runs: list[dg.RunRequest]
    waiting_for_partition: list[str]


def plan_tick(feeds: Iterable[feed_store.Feed], partition_keys: Iterable[str], tick: datetime) -> TickPlan:
    """One run request per API feed that has its partition; the others wait for the registry sensor."""
    existing = set(partition_keys)
    runs, waiting = [], []
    for feed in feeds:
        if feed.id not in existing:
            waiting.append(feed.id)
            continue
        tags = {TRIGGER_TAG: "schedule"}
        tags.update({f"{API_SOURCE_TAG_PREFIX}{source}": "true" for source in api_sources_of(feed)})
        runs.append(dg.RunRequest(partition_key=feed.id, run_key=run_key(feed.id, tick), tags=tags))
    return TickPlan(runs=runs, waiting_for_partition=waiting)


def build_api_feeds_schedule(*, name: str = "api_feeds_schedule", minutes: int | None = None,
                             default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
                             ) -> dg.ScheduleDefinition:
    """The schedule; `minutes` defaults to INGESTION_INTERVAL_MINUTES (or 30)."""
    every = interval_minutes() if minutes is None else minutes

    @dg.schedule(
        name=name,
        cron_schedule=cron_for_interval(every),
        job=feed_job,
        default_status=default_status,
        description=(f"Every {every} minutes: one feed_job run per active API feed (remoteok, jsearch, adzuna, "
                     f"multi). Feeds without a partition yet are left to feed_registry_sensor."),
    )
    def api_feeds(context: dg.ScheduleEvaluationContext, database: DatabaseResource):
        tick = context.scheduled_execution_time
        feeds = feed_store.list_feeds(database.engine, active_only=True, kinds=API_FEED_KINDS)
        plan = plan_tick(feeds, context.instance.get_dynamic_partitions(feeds_partitions.name), tick)
        if plan.waiting_for_partition:
            context.log.info(f"skipping feeds without a `feeds` partition yet (feed_registry_sensor adds them): "
                             f"{', '.join(plan.waiting_for_partition)}")
        if not plan.runs:
            reason = (f"{len(feeds)} active API feeds, none with a partition yet" if feeds
                      else f"no active API feeds (kinds {', '.join(API_FEED_KINDS)})")
            return dg.SkipReason(reason)
        context.log.info(f"requesting runs for {len(plan.runs)} API feeds")
        return plan.runs

    return api_feeds


api_feeds_schedule = build_api_feeds_schedule()
