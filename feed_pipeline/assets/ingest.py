"""`raw_jobs`: stream the feed into the raw_jobs table; closed, expired and invalid postings kept with a reason."""

from itertools import chain

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.common import GROUP, counts_table, stopwatch
from feed_pipeline.core.dedupe import assign_dedupe_keys
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.sources.base import FeedConfigError, FeedSpec
from feed_pipeline.sources.registry import open_feed
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import stages
from feed_pipeline.store.reports import get_report, previous_successful_report, report_stage
from feed_pipeline.store.rows import utcnow


class IngestConfig(dg.Config):
    force: bool = Field(default=False, description="Parse the feed even when its version did not change")


def feed_spec(feed: feed_store.Feed) -> FeedSpec:
    return FeedSpec(id=feed.id, kind=feed.kind, url=feed.url, params=feed.params, etag=feed.etag,
                    last_modified=feed.last_modified, content_hash=feed.content_hash)


def _with_block_keys(jobs):
    for job in jobs:
        if job.rejection_reason is None:
            assign_dedupe_keys(job)
        yield job


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    kinds={"xml", "sql"},
    description="Every posting of the feed's latest version, streamed; CLOSED/expired/invalid ones set aside.",
)
def raw_jobs(
    context: dg.AssetExecutionContext, config: IngestConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    feed = feed_store.get_feed(engine, feed_id)
    started_at = utcnow()
    with stopwatch() as elapsed:
        reader = open_feed(feed_spec(feed), force=config.force)
        try:
            jobs = iter(reader)
            first = next(jobs, None)
            written = 0
            if first is not None or not reader.outcome.unchanged:
                records = chain([first], jobs) if first is not None else jobs
                written = stages.replace_raw_jobs(engine, feed_id, _with_block_keys(records))
        except Exception as exc:
            stages.record_ingest(engine, feed_id, context.run_id, started_at=started_at, complete=False,
                                 unchanged=False, error=f"{type(exc).__name__}: {exc}", stats={})
            if isinstance(exc, FeedConfigError):  # retrying cannot fix a feed's configuration
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
            raise
        finally:
            reader.close()
        outcome = reader.outcome
        duration = elapsed()
    stages.record_ingest(engine, feed_id, context.run_id, started_at=started_at, complete=outcome.complete,
                         unchanged=outcome.unchanged, error=outcome.error,
                         stats={"bytes_read": outcome.bytes_read, "records_seen": outcome.records_seen,
                                "profile": outcome.profile, "source_errors": outcome.source_errors})
    if outcome.complete and not outcome.unchanged:
        feed_store.save_fetch_state(engine, feed_id, etag=outcome.etag, last_modified=outcome.last_modified,
                                    content_hash=outcome.content_hash)
    by_reason = stages.raw_counts(engine, feed_id)
    total = sum(by_reason.values())
    counts = {"raw": total, "closed": by_reason.get("closed", 0), "expired": by_reason.get("expired", 0),
              "invalid": by_reason.get("invalid", 0)}
    if outcome.complete:
        context.log.info(f"feed {feed_id}: {total} postings ({written} written this run)")
    else:
        context.log.warning(f"feed {feed_id}: ingest INCOMPLETE ({outcome.error}); no job will be treated as removed")
    report_stage(engine, context.run_id, feed_id, "raw_jobs", duration_s=duration, counts=counts,
                 stats={"complete": outcome.complete, "unchanged": outcome.unchanged, "written": written,
                        "bytes_read": outcome.bytes_read, "error": outcome.error,
                        "source_errors": outcome.source_errors})
    return dg.MaterializeResult(
        metadata={
            "postings": total,
            "written_this_run": written,
            "unchanged": outcome.unchanged,
            "incomplete": not outcome.complete,
            "incomplete_reason": outcome.error or "",
            "profile": outcome.profile or "",
            "bytes_read": outcome.bytes_read,
            "records_per_s": round(outcome.records_seen / duration, 1) if duration > 0 else 0.0,
            "by_rejection_reason": counts_table(by_reason, "rejection reason"),
            "source_errors": dg.MetadataValue.json(outcome.source_errors),
            **{k: v for k, v in outcome.stats.items() if isinstance(v, int | float | str | bool)},
        }
    )


SHRINK_WARN_RATIO = 0.5


@dg.asset_check(asset=raw_jobs, blocking=False,
                description="Warns when the feed lost more than half of its postings since the last good run.")
def feed_did_not_shrink(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    run_id = context.op_execution_context.run_id
    current = ((get_report(database.engine, run_id) or {}).get("counts") or {}).get("raw")
    previous = previous_successful_report(database.engine, feed_id, run_id)
    before = ((previous or {}).get("counts") or {}).get("raw")
    if current is None or not before:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"note": "no earlier successful run to compare with"})
    ratio = current / before
    return dg.AssetCheckResult(passed=ratio >= SHRINK_WARN_RATIO, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"postings": current, "previous_postings": before,
                                         "ratio": round(ratio, 4)})
