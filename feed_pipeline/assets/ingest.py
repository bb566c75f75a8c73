"""`raw_jobs`: stream the feed into the raw_jobs table; closed, expired and invalid postings kept with a reason."""

from itertools import chain

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.common import GROUP, MetadataCatalog, counts_table, stopwatch, table
from feed_pipeline.assets.versions import finish_stage, mark_working, open_gate
from feed_pipeline.core.coverage import COVERAGE_FIELDS, DEFAULT_DROP_WARN, FieldCoverage, coverage_drops
from feed_pipeline.core.dedupe import assign_dedupe_keys
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.job_apis import JobApiResource
from feed_pipeline.sources.base import FeedConfigError, FeedSpec
from feed_pipeline.sources.registry import open_feed
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import stages
from feed_pipeline.store.reports import get_report, previous_successful_report
from feed_pipeline.store.rows import utcnow


class IngestConfig(dg.Config):
    force: bool = Field(default=False, description="Parse the feed even when its version did not change")


def feed_spec(feed: feed_store.Feed) -> FeedSpec:
    return FeedSpec(id=feed.id, kind=feed.kind, url=feed.url, params=feed.params, etag=feed.etag,
                    last_modified=feed.last_modified, content_hash=feed.content_hash)


def _with_block_keys(jobs, coverage: FieldCoverage):
    for job in jobs:
        coverage.add(job)
        if job.rejection_reason is None:
            assign_dedupe_keys(job)
        yield job


RAW_METADATA = MetadataCatalog("raw_jobs", {
    "dagster/row_count": "postings of the feed's latest version held in raw_jobs (all reasons)",
    "skipped_unchanged": "true when the feed's version (ETag, Last-Modified or content hash) had not changed and "
                         "nothing was parsed: the figures below are then the last ingest's, still true of the data",
    "written_this_run": "postings parsed and written by this run (0 when skipped unchanged)",
    "accepted": "postings of the latest version that were not rejected (closed, expired, invalid)",
    "bytes_read": "bytes of the feed read by the ingest that produced the data",
    "profile": "XML profile (field mapping) used; empty for job API feeds",
    "complete": "false when the document or a source ended early: no job is treated as removed on this run",
    "incomplete_reason": "why the ingest was incomplete (only when it was)",
    "records_per_s": "parse speed of this run (only when it parsed)",
    "by_rejection_reason": "postings held, by rejection reason (accepted = kept)",
    "coverage": "share of postings (closure notices excluded) with each field, and the previous ingest's share",
    "source_errors": "job API sources that failed, with the error (multi feeds; only when any failed)",
    "reader_stats": "the reader's own figures for this read (encoding, transport, restarts, repaired records...)",
})


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    kinds={"xml", "sql"},
    description="Every posting of the feed's latest version, streamed; CLOSED/expired/invalid ones set aside.",
    metadata=RAW_METADATA.definition_metadata(),
)
def raw_jobs(
    context: dg.AssetExecutionContext, config: IngestConfig, database: DatabaseResource, job_apis: JobApiResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    feed = feed_store.get_feed(engine, feed_id)
    started_at = utcnow()
    coverage = FieldCoverage()
    settings = {"kind": feed.kind, "params": feed.params}
    # An unchanged file is parsed again when what it was parsed with changed (settings, PIPELINE_LOGIC_VERSION)
    # or when the last parse did not finish: the stored rows are then not what this code makes of the file.
    known = open_gate(engine, feed_id, "raw_jobs", upstream=None, upstream_version=feed.content_hash,
                      settings=settings)
    parsed_as_now = known.unchanged
    mark_working(context, known)
    with stopwatch() as elapsed:
        reader = open_feed(feed_spec(feed), force=config.force or not parsed_as_now, env=job_apis.as_env())
        try:
            jobs = iter(reader)
            first = next(jobs, None)
            written = 0
            if first is not None or not reader.outcome.unchanged:
                records = chain([first], jobs) if first is not None else jobs
                written = stages.replace_raw_jobs(engine, feed_id, _with_block_keys(records, coverage))
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
    ingest_stats = {"bytes_read": outcome.bytes_read, "records_seen": outcome.records_seen,
                    "profile": outcome.profile, "source_errors": outcome.source_errors}
    if not outcome.unchanged:
        ingest_stats["coverage"] = coverage.as_dict()
    stages.record_ingest(engine, feed_id, context.run_id, started_at=started_at, complete=outcome.complete,
                         unchanged=outcome.unchanged, error=outcome.error, stats=ingest_stats)
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
    data_stats, data_run = _data_ingest(engine, feed_id, context.run_id, outcome.unchanged, ingest_stats)
    data_coverage = FieldCoverage.from_dict(data_stats.get("coverage"))
    previous = stages.previous_ingest_with(engine, feed_id, data_run, "coverage")
    gate = known if outcome.unchanged else open_gate(
        engine, feed_id, "raw_jobs", upstream=None, settings=settings, upstream_version=outcome.content_hash)
    data_version = finish_stage(
        context, gate, complete=outcome.complete, rewrote=not outcome.unchanged, duration_s=duration, counts=counts,
        stats={"complete": outcome.complete, "unchanged": outcome.unchanged, "written": written,
               "bytes_read": outcome.bytes_read, "error": outcome.error, "source_errors": outcome.source_errors,
               "coverage": data_coverage.shares() if data_coverage else None})
    metadata: dict[str, object] = {
        "dagster/row_count": total,
        "skipped_unchanged": outcome.unchanged,
        "written_this_run": written,
        "accepted": by_reason.get("accepted", 0),
        "bytes_read": int(data_stats.get("bytes_read") or 0),
        "profile": data_stats.get("profile") or "",
        "complete": outcome.complete,
        "by_rejection_reason": counts_table(by_reason, "rejection reason", "postings"),
        "coverage": coverage_table(data_coverage,
                                   FieldCoverage.from_dict(((previous or {}).get("stats") or {}).get("coverage"))),
    }
    if not outcome.complete:
        metadata["incomplete_reason"] = outcome.error or ""
    if not outcome.unchanged:
        metadata["records_per_s"] = round(outcome.records_seen / duration, 1) if duration > 0 else 0.0
        metadata["reader_stats"] = dg.MetadataValue.json(outcome.stats)
    if outcome.source_errors:
        metadata["source_errors"] = dg.MetadataValue.json(outcome.source_errors)
    return dg.MaterializeResult(metadata=RAW_METADATA.emit(metadata), data_version=data_version)


def _data_ingest(engine, feed_id: str, run_id: str, unchanged: bool, stats: dict) -> tuple[dict, str]:
    """(stats, run id) of the ingest that produced the feed's data: this run's, or, when the feed was unchanged
    and nothing was read, the last ingest that read it (its figures are still true of the data)."""
    if not unchanged:
        return stats, run_id
    last = stages.previous_ingest_with(engine, feed_id, run_id, "bytes_read")
    return (last["stats"], last["run_id"]) if last else ({}, run_id)


def coverage_table(current: FieldCoverage | None, previous: FieldCoverage | None) -> dg.MetadataValue:
    """Per coverage field: postings with it, its share now and at the previous ingest (empty cells when unknown)."""
    now = current.shares() if current else {}
    before = previous.shares() if previous else {}
    return table(
        [("field", "string", "pipeline field"), ("meaning", "string", "what counts as having it"),
         ("postings_with", "int", "postings of the ingest that have it"),
         ("share", "float", "share of the ingest's postings (0-1)"),
         ("previous_share", "float", "share at the feed's previous ingest that read data (0-1)")],
        [(name, meaning, current.filled[name] if current else None, now.get(name), before.get(name))
         for name, meaning in COVERAGE_FIELDS.items()])


SHRINK_WARN_RATIO = 0.5
SHRINK_METADATA = MetadataCatalog("feed_did_not_shrink", {
    "postings": "postings held after this run",
    "previous_postings": "postings held after the feed's last successful run",
    "ratio": f"postings / previous_postings; the check warns below {SHRINK_WARN_RATIO}",
    "note": "why nothing was compared",
})


@dg.asset_check(asset=raw_jobs, blocking=False, partitions_def=feeds_partitions,
                metadata=SHRINK_METADATA.definition_metadata(),
                description="Warns when the feed lost more than half of its postings since the last good run.")
def feed_did_not_shrink(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    run_id = context.op_execution_context.run_id
    current = ((get_report(database.engine, run_id) or {}).get("counts") or {}).get("raw")
    previous = previous_successful_report(database.engine, feed_id, run_id)
    before = ((previous or {}).get("counts") or {}).get("raw")
    if current is None or not before:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata=SHRINK_METADATA.emit(
            {"note": "no earlier successful run to compare with"}))
    ratio = current / before
    return dg.AssetCheckResult(passed=ratio >= SHRINK_WARN_RATIO, severity=dg.AssetCheckSeverity.WARN,
                               metadata=SHRINK_METADATA.emit({"postings": current, "previous_postings": before,
                                                              "ratio": round(ratio, 4)}))


COVERAGE_METADATA = MetadataCatalog("coverage_did_not_drop", {
    "drops": f"fields whose share of postings fell by {DEFAULT_DROP_WARN:.0%} points or more since the "
             "previous ingest, with both shares",
    "coverage": "this ingest's share of postings with each field, and the previous ingest's",
    "note": "why nothing was compared",
})


@dg.asset_check(asset=raw_jobs, blocking=False, partitions_def=feeds_partitions,
                metadata=COVERAGE_METADATA.definition_metadata(),
                description=f"Warns when the share of postings with an id, title, company, location, date, type or "
                            f"salary fell by {DEFAULT_DROP_WARN:.0%} points or more since the feed's previous "
                            "ingest (a changed feed layout or a wrong profile loses fields silently).")
def coverage_did_not_drop(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    run_id = context.op_execution_context.run_id
    engine = database.engine
    ingest = stages.ingest_of_run(engine, feed_id, run_id)
    current = FieldCoverage.from_dict(((ingest or {}).get("stats") or {}).get("coverage"))
    if current is None:
        note = ("the feed was unchanged: its data, and so its coverage, are the last ingest's"
                if ingest and ingest["unchanged"] else "this run recorded no coverage")
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=COVERAGE_METADATA.emit({"note": note}))
    previous_row = stages.previous_ingest_with(engine, feed_id, run_id, "coverage")
    previous = FieldCoverage.from_dict(previous_row["stats"]["coverage"]) if previous_row else None
    if previous is None:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata=COVERAGE_METADATA.emit(
            {"note": "no earlier ingest of this feed recorded coverage", "coverage": coverage_table(current, None)}))
    drops = coverage_drops(current, previous)
    return dg.AssetCheckResult(
        passed=not drops, severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(drop.describe() for drop in drops) or None,
        metadata=COVERAGE_METADATA.emit({
            "drops": table([("field", "string", "pipeline field"),
                            ("previous_share", "float", "share at the previous ingest (0-1)"),
                            ("share", "float", "share now (0-1)")],
                           [(d.field, d.previous, d.current) for d in drops]),
            "coverage": coverage_table(current, previous),
        }))
