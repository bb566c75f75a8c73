"""Ingest: stream the feed's latest version into raw_jobs and record what the read saw.

Closed, expired and invalid postings are kept with a reason. A read that fails or ends early is recorded as an
incomplete ingest, so no later stage treats a job as removed on its account.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.coverage import FieldCoverage
from feed_pipeline.core.dedupe import assign_dedupe_keys
from feed_pipeline.core.jobs import JobRecord, UnchangedPosting
from feed_pipeline.sources.base import FeedSpec, IngestOutcome
from feed_pipeline.sources.registry import RECORD_SKIPPING_KINDS, open_feed
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import stages

log = logging.getLogger(__name__)


def feed_spec(feed: feed_store.Feed) -> FeedSpec:
    return FeedSpec(id=feed.id, kind=feed.kind, url=feed.url, params=feed.params, etag=feed.etag,
                    last_modified=feed.last_modified, content_hash=feed.content_hash)


@dataclass(slots=True)
class IngestResult:
    """The read's outcome, postings written this run, this ingest's stats as stored, postings by reason, and the
    postings kept because their records were read byte for byte as last time (not normalized again)."""

    read: IngestOutcome
    written: int
    stats: dict[str, Any] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    kept_unread: int = 0


def ingest_feed(engine: sa.Engine, feed: feed_store.Feed, run_id: str, *, force: bool, started_at: datetime,
                env: Mapping[str, str] | None = None, now: datetime | None = None) -> IngestResult:
    """Read the feed (skipping an unchanged file unless `force`) into raw_jobs and record the ingest; a failed
    read is recorded as incomplete, then raised. `env` holds the job APIs' credentials (JobApiResource.as_env);
    `now` is when expiry is judged (the current time by default).

    A record read byte for byte as last time keeps its stored posting without being normalized again (see
    `sources.xml_feed.XmlFeedReader`); when a document repeats a posting id so that this would keep the wrong
    occurrence, the feed is read again without skipping.
    """
    now = now or datetime.now(UTC)
    known = partial(stages.known_raw_postings, engine, feed.id, now) if feed.kind in RECORD_SKIPPING_KINDS else None
    try:
        return _ingest(engine, feed, run_id, force=force, started_at=started_at, env=env, now=now, known=known)
    except stages.RereadNeeded as exc:
        log.info("%s; reading the feed again without skipping unchanged records", exc)
        return _ingest(engine, feed, run_id, force=True, started_at=started_at, env=env, now=now, known=None)


def _ingest(engine: sa.Engine, feed: feed_store.Feed, run_id: str, *, force: bool, started_at: datetime,
            env: Mapping[str, str] | None, now: datetime,
            known: Callable[[], Mapping[str, UnchangedPosting]] | None) -> IngestResult:
    coverage = FieldCoverage()
    reader = open_feed(feed_spec(feed), force=force, env=env, now=now, known=known)
    write = stages.RawWrite()
    try:
        jobs = iter(reader)
        first = next(jobs, None)
        if first is not None or not reader.outcome.unchanged:
            records = chain([first], jobs) if first is not None else jobs
            write = stages.replace_raw_jobs(engine, feed.id, _with_block_keys(records, coverage))
    except stages.RereadNeeded:
        raise
    except Exception as exc:
        stages.record_ingest(engine, feed.id, run_id, started_at=started_at, complete=False, unchanged=False,
                             error=f"{type(exc).__name__}: {exc}", stats={})
        raise
    finally:
        reader.close()
    read = reader.outcome
    stats: dict[str, Any] = {"bytes_read": read.bytes_read, "records_seen": read.records_seen,
                             "profile": read.profile, "source_errors": read.source_errors}
    if not read.unchanged:
        stats["coverage"] = coverage.as_dict()
    stages.record_ingest(engine, feed.id, run_id, started_at=started_at, complete=read.complete,
                         unchanged=read.unchanged, error=read.error, stats=stats)
    if read.complete and not read.unchanged:
        feed_store.save_fetch_state(engine, feed.id, etag=read.etag, last_modified=read.last_modified,
                                    content_hash=read.content_hash)
    return IngestResult(read, write.written, stats, stages.raw_counts(engine, feed.id), write.kept_unread)


def _with_block_keys(jobs: Iterable[JobRecord | UnchangedPosting],
                     coverage: FieldCoverage) -> Iterator[JobRecord | UnchangedPosting]:
    for job in jobs:
        coverage.add(job)
        if isinstance(job, JobRecord) and job.rejection_reason is None:
            assign_dedupe_keys(job)
        yield job


def data_ingest(engine: sa.Engine, feed_id: str, run_id: str, outcome: IngestResult) -> tuple[dict, str]:
    """(stats, run id) of the ingest that produced the feed's data: this run's, or, when the feed was unchanged
    and nothing was read, the last ingest that read it (its figures are still true of the data)."""
    if not outcome.read.unchanged:
        return outcome.stats, run_id
    last = stages.previous_ingest_with(engine, feed_id, run_id, "bytes_read")
    return (last["stats"], last["run_id"]) if last else ({}, run_id)


def coverage_of_ingest(engine: sa.Engine, feed_id: str, run_id: str) -> tuple[FieldCoverage | None, bool]:
    """(coverage this run's ingest recorded, whether that ingest found the feed unchanged)."""
    ingest = stages.ingest_of_run(engine, feed_id, run_id)
    return FieldCoverage.from_dict(((ingest or {}).get("stats") or {}).get("coverage")), bool(
        ingest and ingest["unchanged"])


def previous_coverage(engine: sa.Engine, feed_id: str, run_id: str) -> FieldCoverage | None:
    """The coverage of the feed's last ingest before `run_id`'s that recorded one."""
    previous = stages.previous_ingest_with(engine, feed_id, run_id, "coverage")
    return FieldCoverage.from_dict(previous["stats"]["coverage"]) if previous else None
