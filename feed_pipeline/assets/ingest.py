"""`raw_jobs`: stream the feed into the raw_jobs table; closed, expired and invalid postings kept with a reason."""

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.catalogs import RAW_METADATA
from feed_pipeline.assets.common import counts_table, stage_asset, stage_scope, stopwatch, table
from feed_pipeline.assets.versions import finish_stage, mark_working, open_gate
from feed_pipeline.core.coverage import COVERAGE_FIELDS, FieldCoverage
from feed_pipeline.pipeline.ingest import data_ingest, ingest_feed, previous_coverage
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.job_apis import JobApiResource
from feed_pipeline.sources.base import FeedConfigError
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.rows import utcnow


class IngestConfig(dg.Config):
    force: bool = Field(default=False, description="Parse the feed even when its version did not change")





@stage_asset(
    RAW_METADATA,
    kinds={"xml", "sql"},
    description="Every posting of the feed's latest version, streamed; CLOSED/expired/invalid ones set aside.",
)
def raw_jobs(
    context: dg.AssetExecutionContext, config: IngestConfig, database: DatabaseResource, job_apis: JobApiResource
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
    feed = feed_store.get_feed(engine, feed_id)
    settings = {"kind": feed.kind, "params": feed.params}
    # An unchanged file is parsed again when what it was parsed with changed (settings, PIPELINE_LOGIC_VERSION)
    # or when the last parse did not finish: the stored rows are then not what this code makes of the file.
    known = open_gate(engine, feed_id, "raw_jobs", upstream=None, upstream_version=feed.content_hash,
                      settings=settings)
    mark_working(context, known)
    with stopwatch() as elapsed:
        try:
            result = ingest_feed(engine, feed, context.run_id, force=config.force or not known.unchanged,
                                 started_at=utcnow(), env=job_apis.as_env())
        except FeedConfigError as exc:  # retrying cannot fix a feed's configuration
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        duration = elapsed()
    read, by_reason = result.read, result.by_reason
    total = sum(by_reason.values())
    if read.complete:
        context.log.info(f"feed {feed_id}: {total} postings ({result.written} written this run, "
                         f"{result.kept_unread} read unchanged)")
    else:
        context.log.warning(f"feed {feed_id}: ingest INCOMPLETE ({read.error}); no job will be treated as removed")
    data_stats, data_run = data_ingest(engine, feed_id, context.run_id, result)
    data_coverage = FieldCoverage.from_dict(data_stats.get("coverage"))
    gate = known if read.unchanged else open_gate(
        engine, feed_id, "raw_jobs", upstream=None, settings=settings, upstream_version=read.content_hash)
    data_version = finish_stage(
        context, gate, complete=read.complete, rewrote=not read.unchanged, duration_s=duration,
        counts={"raw": total} | {reason: by_reason.get(reason, 0) for reason in ("closed", "expired", "invalid")},
        stats={"complete": read.complete, "unchanged": read.unchanged, "written": result.written,
               "kept_unread": result.kept_unread,
               "bytes_read": read.bytes_read, "error": read.error, "source_errors": read.source_errors,
               "coverage": data_coverage.shares() if data_coverage else None})
    metadata: dict[str, object] = {
        "dagster/row_count": total,
        "skipped_unchanged": read.unchanged,
        "written_this_run": result.written,
        "kept_unread": result.kept_unread,
        "accepted": by_reason.get("accepted", 0),
        "bytes_read": int(data_stats.get("bytes_read") or 0),
        "profile": data_stats.get("profile") or "",
        "complete": read.complete,
        "by_rejection_reason": counts_table(by_reason, "rejection reason", "postings"),
        "coverage": coverage_table(data_coverage, previous_coverage(engine, feed_id, data_run)),
    }
    if not read.complete:
        metadata["incomplete_reason"] = read.error or ""
    if not read.unchanged:
        metadata["records_per_s"] = round(read.records_seen / duration, 1) if duration > 0 else 0.0
        metadata["reader_stats"] = dg.MetadataValue.json(read.stats)
    if read.source_errors:
        metadata["source_errors"] = dg.MetadataValue.json(read.source_errors)
    return dg.MaterializeResult(metadata=RAW_METADATA.emit(metadata), data_version=data_version)


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
