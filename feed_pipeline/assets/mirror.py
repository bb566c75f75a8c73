"""`xano_mirror`: make the feed's records in Xano an exact copy of its approved jobs (delete, add, patch)."""

from collections.abc import Iterator, Sequence

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.catalogs import MIRROR_METADATA
from feed_pipeline.assets.common import lines_table, stage_asset, stage_scope, stopwatch
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.core.jobs import Route
from feed_pipeline.core.mirror import (
    DEFAULT_MAX_DELETE_SHARE,
    DEFAULT_MIN_MASS_DELETE,
    VERSION_FIELDS,
    XANO_FIELDS,
    DesiredRecords,
    to_xano_record,
)
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.xano import MirrorBlockedError, XanoAuthError, XanoResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import stages
from feed_pipeline.store.reports import report_stage
from feed_pipeline.store.rows import batched


class MirrorConfig(dg.Config):
    max_delete_share: float = Field(
        default=DEFAULT_MAX_DELETE_SHARE,
        description="Refuse a delete of more than this share of the feed's Xano records (when it is also over "
                    "min_mass_delete records), or one that shrinks the copy by more than this share")
    min_mass_delete: int = Field(
        default=DEFAULT_MIN_MASS_DELETE, description="A delete of at most this many records is not a mass delete")
    allow_mass_delete: bool = Field(
        default=False, description="Delete even past the valve's limits or after an incomplete ingest")


def approved_records(database: DatabaseResource, feed_id: str) -> DesiredRecords:
    """The feed's approved jobs as Xano records: their versions read from `jobs` (routing stored each record's hash),
    whole records built from the published columns only for the jobs written."""
    engine = database.engine

    def load(keys: Sequence[str] | None) -> Iterator[dict]:
        rows = job_store.iter_jobs(engine, feed_id, route=Route.APPROVED.value, columns=XANO_FIELDS, keys=keys)
        return (to_xano_record(row) for row in rows)

    def versions() -> Iterator[dict]:
        unhashed: list[str] = []  # routed before jobs.record_hash existed: their records are built
        for row in job_store.iter_jobs(engine, feed_id, route=Route.APPROVED.value, columns=VERSION_FIELDS):
            if row["record_hash"] is None:
                unhashed.append(row["job_key"])
            else:
                yield row
        for keys in batched(unhashed, stages.WRITE_BATCH):
            yield from load(keys)

    return DesiredRecords(load, versions)


@stage_asset(
    MIRROR_METADATA,
    deps=[routed_jobs],
    kinds={"xano"},
    # The client already retries each request; one step retry covers a sync cut off as a whole (it converges).
    retry_policy=dg.RetryPolicy(max_retries=1, delay=10, jitter=dg.Jitter.PLUS_MINUS),
    description="Xano's records for this feed, kept equal to the approved jobs (by job_key and content_hash).",
)
def xano_mirror(
    context: dg.AssetExecutionContext, config: MirrorConfig, database: DatabaseResource, xano: XanoResource
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
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
        "approved_jobs": outcome.desired_records,
        **counts,
        "deletes_blocked": outcome.deletes_blocked or "",
        "record_errors": lines_table("error", "a refused record and Xano's answer", outcome.record_errors),
    }))


def _mirror_counts(outcome) -> dict[str, int]:
    return {"added": outcome.added, "updated": outcome.updated, "deleted": outcome.deleted,
            "unchanged": outcome.unchanged, "errors": len(outcome.record_errors)}
