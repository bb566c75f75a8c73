"""Sensors that turn the feeds table into runs: new feeds get a partition and a first run, changed feeds a rerun.

`feed_registry_sensor` keeps the `feeds` dynamic partitions equal to the active feeds in the database:
- an active feed without a partition gets one, and a first run, at most `max_new_feeds_per_tick` per tick
  (the rest follow on the next ticks, so a bulk import of feeds cannot flood the run queue);
- a partition whose feed was disabled (`feed-pipeline feeds disable`) or deleted is removed, so "all
  partitions" (a backfill from the UI, `dagster job backfill --all`) means exactly the active feeds. Removing a
  partition deletes nothing in our database, and Dagster keeps the partition's past runs and materializations;
  enabling the feed again adds the partition back and requests a first run again.

`feed_update_sensor` checks active XML feeds (the kinds in `sources.registry.PROBEABLE_KINDS`) for a new
published version (feed_versions.py) and requests a run whose run key is `<feed id>@<version>`. Dagster never
launches two runs with the same run key from one sensor, so a version is run once, whether the run succeeds or
fails (rerun a failed feed from the UI or with `feed-pipeline run`). An unreachable feed is logged and skipped;
the others are still checked. Feeds whose first run has not finished yet are left to the registry sensor. API
feeds (remoteok, jsearch, adzuna, multi) have no version to compare: `api_feeds_schedule` runs them.
Each tick probes at most `max_probes_per_tick` feeds, `probe_workers` at a time, resuming after the last one
probed, and stops waiting after `tick_budget_s` (Dagster gives a tick 60 s): a feed not checked in time is
logged and checked first on the next tick.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import dagster as dg

from feed_pipeline.automation.feed_versions import FeedVersion, FeedVersionError, FileStamp, check_feed_version
from feed_pipeline.automation.jobs import feed_job
from feed_pipeline.automation.schedules import API_SOURCE_TAG_PREFIX, api_sources_of
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings, redact_url
from feed_pipeline.sources.registry import PROBEABLE_KINDS
from feed_pipeline.store import feeds as feed_store

REGISTRY_INTERVAL_S = 30
UPDATE_INTERVAL_S = 300
MAX_NEW_FEEDS_PER_TICK = 25
MAX_PROBES_PER_TICK = 100
PROBE_WORKERS = 16
TICK_BUDGET_S = 40.0
# A sensor tick has 60 s by default (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS): probes get short timeouts and
# few retries; a feed that does not answer now is simply checked again on the next tick.
PROBE_RETRY = RetrySettings(attempts=2, initial_wait=0.5, max_wait=2.0, max_retry_after=5.0)
PROBE_CONNECT_TIMEOUT_S = 5.0
PROBE_READ_TIMEOUT_S = 20.0
MAX_RUN_KEY_CHARS = 200

TRIGGER_TAG = "feed_pipeline/trigger"


# ------------------------------------------------------------------------------------------- plain decisions


@dataclass(frozen=True)
class PartitionChanges:
    """What one registry tick does: partitions to add (each gets a first run) and partitions to remove."""

    add: list[str]
    remove: list[str]
    waiting: int  # active feeds left for later ticks by the per-tick bound


def plan_partition_changes(active_feed_ids: Iterable[str], partition_keys: Iterable[str], *,
                           max_new: int) -> PartitionChanges:
    """Reconcile partitions with active feeds; new feeds in id order, at most `max_new` of them."""
    active, existing = set(active_feed_ids), set(partition_keys)
    new = sorted(active - existing)
    return PartitionChanges(add=new[:max_new], remove=sorted(existing - active), waiting=max(0, len(new) - max_new))


def first_run_key(feed: feed_store.Feed) -> str:
    """Tied to the feed's last finished run, so a feed enabled again after running gets a new first run."""
    last = feed.last_run_at.isoformat() if feed.last_run_at else "never"
    return f"{feed.id}:first-run-after:{last}"


def first_run_tags(feed: feed_store.Feed) -> dict[str, str]:
    """The trigger, and for an API feed the APIs it calls: dagster.yaml lets one run at a time use each API."""
    return {TRIGGER_TAG: "new_feed", **{f"{API_SOURCE_TAG_PREFIX}{source}": "true" for source in api_sources_of(feed)}}


def version_run_key(feed_id: str, version: str) -> str:
    """`<feed id>@<version>`; a very long version (a huge ETag) is replaced by its hash."""
    key = f"{feed_id}@{version}"
    if len(key) <= MAX_RUN_KEY_CHARS:
        return key
    return f"{feed_id}@sha256-of-version:{hashlib.sha256(version.encode()).hexdigest()}"


def awaiting_first_run(feed: feed_store.Feed) -> bool:
    """No run has finished and no ingest stored a version: the registry sensor's first run is still to come."""
    return feed.last_run_at is None and not (feed.etag or feed.last_modified or feed.content_hash)


def next_batch(feed_ids: Sequence[str], after: str | None, size: int) -> list[str]:
    """Up to `size` ids (sorted input) starting after `after`, wrapping around: round-robin across ticks."""
    if not feed_ids:
        return []
    start = 0
    if after is not None:
        start = next((i for i, feed_id in enumerate(feed_ids) if feed_id > after), 0)
    ordered = [*feed_ids[start:], *feed_ids[:start]]
    return ordered[:size]


@dataclass
class UpdateCursor:
    """The feed-update sensor's memory between ticks: where the round-robin stopped, local files' stamps."""

    after: str | None = None
    files: dict[str, FileStamp] | None = None

    @classmethod
    def parse(cls, text: str | None) -> UpdateCursor:
        if not text:
            return cls(files={})
        try:
            data = json.loads(text)
            files = {k: FileStamp(int(v[0]), int(v[1]), str(v[2])) for k, v in (data.get("files") or {}).items()}
            return cls(after=data.get("after"), files=files)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return cls(files={})  # an unreadable cursor costs one round of hashing, nothing else

    def dump(self) -> str:
        files = {k: [s.mtime_ns, s.size, s.sha256] for k, s in sorted((self.files or {}).items())}
        return json.dumps({"after": self.after, "files": files}, separators=(",", ":"))


# ------------------------------------------------------------------------------------------- sensors


def _feed_job_sensor(name: str, minimum_interval_seconds: int, description: str):
    """`@dg.sensor` as both sensors here are: requesting `feed_job` runs, running as soon as deployed."""
    return dg.sensor(name=name, job=feed_job, minimum_interval_seconds=minimum_interval_seconds,
                     default_status=dg.DefaultSensorStatus.RUNNING, description=description)


def build_feed_registry_sensor(
    *, name: str = "feed_registry_sensor", max_new_feeds_per_tick: int = MAX_NEW_FEEDS_PER_TICK,
    minimum_interval_seconds: int = REGISTRY_INTERVAL_S,
) -> dg.SensorDefinition:
    @_feed_job_sensor(name, minimum_interval_seconds,
                      "Adds a `feeds` partition and requests a first run for each newly active feed; removes the "
                      "partitions of disabled or deleted feeds.")
    def feed_registry(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
        feeds = {f.id: f for f in feed_store.list_feeds(database.engine, active_only=True)}
        partition_keys = context.instance.get_dynamic_partitions(feeds_partitions.name)
        changes = plan_partition_changes(feeds, partition_keys, max_new=max_new_feeds_per_tick)
        if not changes.add and not changes.remove:
            return dg.SensorResult(skip_reason=f"{len(feeds)} active feeds, all registered as partitions")
        requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        if changes.add:
            requests.append(feeds_partitions.build_add_request(changes.add))
            context.log.info(f"adding feeds partitions {changes.add}")
        if changes.remove:
            requests.append(feeds_partitions.build_delete_request(changes.remove))
            context.log.info(f"removing partitions of disabled or deleted feeds {changes.remove}")
        if changes.waiting:
            context.log.info(f"{changes.waiting} more new feeds wait for the next ticks "
                             f"(at most {max_new_feeds_per_tick} per tick)")
        runs = [dg.RunRequest(partition_key=feed_id, run_key=first_run_key(feeds[feed_id]),
                              tags=first_run_tags(feeds[feed_id]))
                for feed_id in changes.add]
        return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests)

    return feed_registry


def build_feed_update_sensor(
    *, name: str = "feed_update_sensor", max_probes_per_tick: int = MAX_PROBES_PER_TICK,
    probe_workers: int = PROBE_WORKERS, minimum_interval_seconds: int = UPDATE_INTERVAL_S,
    tick_budget_s: float = TICK_BUDGET_S, fetcher_options: Mapping[str, object] | None = None,
) -> dg.SensorDefinition:
    """`fetcher_options` go to HttpFetcher (tests pass a shorter retry policy)."""
    options = {"connect_timeout": PROBE_CONNECT_TIMEOUT_S, "read_timeout": PROBE_READ_TIMEOUT_S,
               "retry": PROBE_RETRY, **(fetcher_options or {})}

    @_feed_job_sensor(name, minimum_interval_seconds,
                      "Requests a run for each XML feed whose published version (ETag, Last-Modified or content "
                      "hash) differs from the last ingested one; one run per version.")
    def feed_update(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
        cursor = UpdateCursor.parse(context.cursor)
        partitions = set(context.instance.get_dynamic_partitions(feeds_partitions.name))
        probeable = feed_store.list_feeds(database.engine, active_only=True, kinds=tuple(sorted(PROBEABLE_KINDS)))
        candidates = {f.id: f for f in probeable if f.id in partitions and not awaiting_first_run(f)}
        batch = next_batch(sorted(candidates), cursor.after, max_probes_per_tick)
        if not batch:
            return dg.SensorResult(skip_reason="no XML feed with a finished first run to check",
                                   cursor=UpdateCursor(files={}).dump())
        stamps = dict(cursor.files or {})
        outcomes = _check_all([candidates[i] for i in batch], stamps, options, probe_workers, tick_budget_s)
        runs: list[dg.RunRequest] = []
        unreachable = late = 0
        for feed_id in batch:
            outcome = outcomes.get(feed_id)
            if outcome is None:
                late += 1
                context.log.warning(f"skipped: feed {feed_id!r} was not checked within the tick's "
                                    f"{tick_budget_s:.0f} s budget (slow server, or a large body without "
                                    f"ETag/Last-Modified); it is checked first on the next tick")
                continue
            if isinstance(outcome, FeedVersionError):
                unreachable += 1
                context.log.warning(f"skipped: {outcome}")
                continue
            if outcome.file_stamp is not None:
                stamps[feed_id] = outcome.file_stamp
            if outcome.changed and outcome.version:
                context.log.info(f"feed {feed_id} changed ({outcome.how}): {outcome.version}")
                runs.append(dg.RunRequest(partition_key=feed_id, run_key=version_run_key(feed_id, outcome.version),
                                          tags={TRIGGER_TAG: "feed_changed"}))
        next_cursor = UpdateCursor(after=_resume_after(batch, outcomes, cursor.after),
                                   files={k: v for k, v in stamps.items() if k in candidates})
        if not runs:
            return dg.SensorResult(
                skip_reason=f"checked {len(batch) - late} feeds: none changed ({unreachable} unreachable, "
                            f"{late} not checked in time)",
                cursor=next_cursor.dump())
        return dg.SensorResult(run_requests=runs, cursor=next_cursor.dump())

    return feed_update


def _resume_after(batch: list[str], outcomes: Mapping[str, object], previous: str | None) -> str | None:
    """The last feed of the batch's leading run of finished checks: the next tick starts with the first late one."""
    after = previous
    for feed_id in batch:
        if feed_id not in outcomes:
            break
        after = feed_id
    return after


def _check_all(feeds: list[feed_store.Feed], stamps: Mapping[str, FileStamp], fetcher_options: Mapping[str, object],
               workers: int, budget_s: float) -> dict[str, FeedVersion | FeedVersionError]:
    """Check feeds concurrently on one shared HTTP client; a failure is returned in place of its result.

    Feeds whose check has not finished after `budget_s` are left out of the result: the tick must end inside
    Dagster's sensor timeout. Their threads end on their own timeouts; their results are discarded.
    """
    stamps = dict(stamps)

    def check(feed: feed_store.Feed) -> FeedVersion | FeedVersionError:
        try:
            return check_feed_version(feed, fetcher, stamps)
        except FeedVersionError as exc:
            return exc
        except Exception as exc:  # one broken feed (a malformed URL...) must not stop the others
            return FeedVersionError(f"feed {feed.id!r}: checking {redact_url(feed.url or '')!r} failed "
                                    f"({type(exc).__name__}: {exc})")

    fetcher = HttpFetcher(**fetcher_options)
    pool = ThreadPoolExecutor(max(1, min(workers, len(feeds))), thread_name_prefix="feed_update_probe")
    futures = {pool.submit(check, feed): feed.id for feed in feeds}
    done, late = wait(futures, timeout=budget_s)
    pool.shutdown(wait=False, cancel_futures=True)
    if late:  # close the shared client once the stragglers are done with it, without waiting here
        threading.Thread(target=lambda: (wait(late), fetcher.close()), name="feed_update_probe_cleanup",
                         daemon=True).start()
    else:
        fetcher.close()
    return {futures[future]: future.result() for future in done}


feed_registry_sensor = build_feed_registry_sensor()
feed_update_sensor = build_feed_update_sensor()
