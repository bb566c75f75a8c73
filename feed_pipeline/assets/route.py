"""`routed_jobs`: route every job by confidence and save all categories into `jobs`, the source of truth
(the work is feed_pipeline/pipeline/route.py).

Blocking checks beside it keep a bad routing from ever reaching the mirror; warning checks flag AI failures.
"""

import dagster as dg

from feed_pipeline.assets.catalogs import ROUTED_METADATA
from feed_pipeline.assets.common import counts_table, stage_asset, stage_scope, stopwatch, table
from feed_pipeline.assets.enrich import function_enriched
from feed_pipeline.assets.versions import begin_stage, finish_stage, open_gate
from feed_pipeline.core.confidence_bins import ConfidenceHistogram
from feed_pipeline.core.evaluation import run_label_metadata
from feed_pipeline.core.jobs import Route
from feed_pipeline.core.mirror import XANO_FIELDS
from feed_pipeline.core.versions import stage_input_version
from feed_pipeline.pipeline.route import (
    route_feed,
)
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.evaluation import labeled_run
from feed_pipeline.store.feeds import feed_taxonomy


@stage_asset(
    ROUTED_METADATA,
    deps=[function_enriched],
    kinds={"sql"},
    description="Every job routed (approved / manual_review / archived / failed / rejected) and saved in `jobs`.",
)
def routed_jobs(
    context: dg.AssetExecutionContext, database: DatabaseResource, routing: RoutingResource
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
    run_id = context.run_id
    thresholds = routing.thresholds()
    taxonomy = feed_taxonomy(engine, feed_id)
    settings = {"archive_below": thresholds.archive_below, "approve_at": thresholds.approve_at,
                "taxonomy": taxonomy.version,
                "published_fields": XANO_FIELDS}  # routing stores each approved job's record hash (jobs.record_hash)
    gate = open_gate(engine, feed_id, "routed_jobs", upstream="function_enriched",
                     settings={**settings, "reviews": job_store.review_version(engine, feed_id)})
    if (skipped := begin_stage(context, gate)) is not None:
        return skipped
    with stopwatch() as elapsed:  # each job's own review decision is part of its route source, not of the salt
        outcome = route_feed(engine, feed_id, run_id, thresholds, taxonomy, salt=stage_input_version(None, settings))
        duration = elapsed()
    counts = job_store.route_counts(engine, feed_id, run_id)
    limits = {"archive_below": thresholds.archive_below, "approve_at": thresholds.approve_at}
    data_version = finish_stage(
        context, gate, complete=True, duration_s=duration,
        counts={r.value: counts.get(r.value, 0) for r in Route if r is not Route.REJECTED} | {
            "removed": outcome.removed},
        stats={"thresholds": limits, "ingest_complete": outcome.ingest_complete, "routed_again": outcome.routed_again})
    return dg.MaterializeResult(data_version=data_version, metadata=ROUTED_METADATA.emit({
        "dagster/row_count": sum(counts.values()),
        "routes": counts_table(counts, "route"),
        "removed": outcome.removed,
        "routed_again": outcome.routed_again,
        "ingest_complete": outcome.ingest_complete,
        "thresholds": dg.MetadataValue.json(limits),
        "confidence_histogram": table(
            [("confidence", "string", "bin of routing confidence: [low, high)"),
             ("route", "string", "the route every confidence of the bin gets"),
             ("jobs", "int", "jobs of this run in the bin"),
             ("bar", "string", "the count drawn to scale")],
            _histogram_rows(outcome.histogram)),
        "manual_review_sample": table(
            [("confidence", "float", "routing confidence (the lower of industry and function)"),
             ("title", "string", "the AI's standardized title (the feed's when none)"),
             ("company", "string", "company"), ("industry", "string", "stage 1 industry"),
             ("function", "string", "stage 2 function"), ("url", "string", "the posting's link"),
             ("job_key", "string", "key in `jobs` and the review API")],
            outcome.review_sample),
        **run_label_metadata(labeled_run(engine, feed_id, run_id), thresholds),  # feeds with a label_field
    }))


def _histogram_rows(histogram: ConfidenceHistogram) -> list[tuple]:
    bins = histogram.bins()
    peak = max((b.jobs for b in bins), default=0) or 1
    return [(b.label, b.route.value, b.jobs, "█" * round(20 * b.jobs / peak)) for b in bins]
