"""`xano_mirror`: make the feed's records in Xano an exact copy of its approved jobs (delete, add, patch)."""

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.common import GROUP, MetadataCatalog, stopwatch, table
from feed_pipeline.core.jobs import Route
from feed_pipeline.core.mirror import DEFAULT_MAX_DELETE_SHARE, DEFAULT_MIN_MASS_DELETE, to_xano_record
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.xano import MirrorBlockedError, XanoAuthError, XanoResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import stages
from feed_pipeline.store.reports import report_stage


class MirrorConfig(dg.Config):
    max_delete_share: float = Field(
        default=DEFAULT_MAX_DELETE_SHARE,
        description="Refuse a delete of more than this share of the feed's Xano records (when it is also over "
                    "min_mass_delete records), or one that shrinks the copy by more than this share")
    min_mass_delete: int = Field(
        default=DEFAULT_MIN_MASS_DELETE, description="A delete of at most this many records is not a mass delete")
    allow_mass_delete: bool = Field(
        default=False, description="Delete even past the valve's limits or after an incomplete ingest")


MIRROR_METADATA = MetadataCatalog("xano_mirror", {
    "approved_jobs": "approved jobs of the feed: the records Xano should hold",
    "added": "records created (POST)",
    "updated": "records patched with their changed fields (PATCH)",
    "deleted": "records deleted: stale jobs and extra copies (DELETE, 404 counted as done)",
    "unchanged": "records already exact: no call",
    "deletes_blocked": "why the safety valve held back the stale deletes (empty when it did not)",
    "deletes_skipped": "stale records the safety valve left in place",
    "duplicates_removed": "extra copies of one job removed (always allowed)",
    "already_gone": "deletes answered 404",
    "already_present": "adds skipped because the job's record appeared since the listing (another writer raced)",
    "existing_records": "the feed's records in Xano before the sync, copies included",
    "desired_records": "records the feed should have after the sync",
    "foreign_records": "other feeds' and unkeyed records listed and left alone",
    "calls": "HTTP requests made to Xano",
    "list_calls": "list-page requests (the whole table is listed: Xano's GET has no filter)",
    "write_calls": "POST/PATCH/DELETE requests",
    "retries": "requests retried after 5xx, timeouts or dropped connections",
    "rate_limited": "429 answers received",
    "rate_limit_wait_s": "seconds waited on 429s",
    "backoff_wait_s": "seconds waited between retries",
    "elapsed_s": "seconds the sync took",
    "record_error_count": "records Xano refused (4xx on one record); the others went on",
    "record_errors": "the first refused records, with Xano's answer",
})
MATCH_METADATA = MetadataCatalog("xano_matches_approved", {
    "approved_jobs": "approved jobs of the feed",
    "mismatches": "differences between Xano's records and the approved jobs (missing, extra, stale hash, copies)",
    "sample": "the first differences",
})


def _lines_table(column: str, description: str, lines: list[str], limit: int = 20) -> dg.MetadataValue:
    return table([(column, "string", description)], [(line,) for line in lines[:limit]])


def approved_records(database: DatabaseResource, feed_id: str) -> list[dict]:
    return [to_xano_record(row) for row in job_store.iter_jobs(database.engine, feed_id, route=Route.APPROVED.value)]


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    deps=["routed_jobs"],
    kinds={"xano"},
    metadata=MIRROR_METADATA.definition_metadata(),
    # The client already retries each request; one step retry covers a sync cut off as a whole (it converges).
    retry_policy=dg.RetryPolicy(max_retries=1, delay=10, jitter=dg.Jitter.PLUS_MINUS),
    description="Xano's records for this feed, kept equal to the approved jobs (by job_key and content_hash).",
)
def xano_mirror(
    context: dg.AssetExecutionContext, config: MirrorConfig, database: DatabaseResource, xano: XanoResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    desired = approved_records(database, feed_id)
    complete = stages.last_ingest_complete(engine, feed_id)
    with stopwatch() as elapsed, xano.open_client() as client:
        try:
            outcome = client.sync_feed(feed_id, desired, max_delete_share=config.max_delete_share,
                                       min_mass_delete=config.min_mass_delete, ingest_complete=complete,
                                       allow_mass_delete=config.allow_mass_delete)
        except MirrorBlockedError as blocked:
            report_stage(engine, context.run_id, feed_id, "xano_mirror", duration_s=elapsed(),
                         mirror=_mirror_counts(blocked.outcome), stats={"deletes_blocked": blocked.reason})
            raise dg.Failure(description=str(blocked), metadata=blocked.outcome.to_metadata(),
                             allow_retries=False) from blocked
        except XanoAuthError as denied:  # a wrong token stays wrong: fail at once, no step retry
            raise dg.Failure(description=str(denied), allow_retries=False) from denied
        duration = elapsed()
    report_stage(engine, context.run_id, feed_id, "xano_mirror", duration_s=duration, mirror=_mirror_counts(outcome),
                 stats={"calls": outcome.calls, "retries": outcome.retries, "errors": len(outcome.record_errors)})
    for error in outcome.record_errors:
        context.log.warning(f"xano: {error}")
    counts = {key: value for key, value in outcome.to_metadata().items() if key not in ("feed_id", "record_errors")}
    return dg.MaterializeResult(metadata=MIRROR_METADATA.emit({
        "approved_jobs": len(desired),
        **counts,
        "deletes_blocked": outcome.deletes_blocked or "",
        "record_errors": _lines_table("error", "a refused record and Xano's answer", outcome.record_errors),
    }))


def _mirror_counts(outcome) -> dict[str, int]:
    return {"added": outcome.added, "updated": outcome.updated, "deleted": outcome.deleted,
            "unchanged": outcome.unchanged, "errors": len(outcome.record_errors)}


@dg.asset_check(asset=xano_mirror, blocking=True, partitions_def=feeds_partitions,
                metadata=MATCH_METADATA.definition_metadata(),
                description="After the sync, Xano's records for the feed equal the approved jobs (keys and hashes).")
def xano_matches_approved(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, xano: XanoResource
) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    desired = approved_records(database, feed_id)
    with xano.open_client() as client:
        mismatches = client.verify_feed(feed_id, desired)
    return dg.AssetCheckResult(passed=not mismatches, metadata=MATCH_METADATA.emit({
        "approved_jobs": len(desired), "mismatches": len(mismatches),
        "sample": _lines_table("mismatch", "one difference", mismatches)}))
