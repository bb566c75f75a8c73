"""`routed_jobs`: route every job by confidence and save all categories into `jobs`, the source of truth
(the work is feed_pipeline/pipeline/route.py).

Blocking checks beside it keep a bad routing from ever reaching the mirror; warning checks flag AI failures.
"""

import dagster as dg

from feed_pipeline.assets.common import GROUP, MetadataCatalog, counts_table, problems_table, stopwatch, table
from feed_pipeline.assets.versions import SKIP_METADATA_DESCRIPTIONS, begin_stage, finish_stage, open_gate
from feed_pipeline.core.confidence_bins import ConfidenceHistogram
from feed_pipeline.core.evaluation import LABEL_METADATA_DESCRIPTIONS, run_label_metadata
from feed_pipeline.core.jobs import Route
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.pipeline.route import (
    REVIEW_SAMPLE_SIZE,
    route_feed,
    threshold_violations,
    unclassified_approved,
)
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.evaluation import labeled_run
from feed_pipeline.store.feeds import feed_taxonomy

AI_FAILURE_WARN_RATE = 0.10

ROUTED_METADATA = MetadataCatalog("routed_jobs", {
    "dagster/row_count": "jobs of the feed in `jobs` after this run, all routes",
    "routes": "jobs by route after this run (rejected = closed, expired, invalid or removed)",
    "removed": "jobs that left the feed in this run (marked rejected/removed); 0 after an incomplete ingest",
    "ingest_complete": "false when the last ingest was incomplete, so no job could be marked removed",
    "thresholds": "the routing resource's thresholds this run used: archived below archive_below, approved "
                  "at approve_at or above, manual review between",
    "confidence_histogram": "routing confidences of this run's routed jobs, in bins whose edges include the "
                            "thresholds, so each bin is one route's",
    "manual_review_sample": f"the {REVIEW_SAMPLE_SIZE} manual-review jobs nearest approval, highest confidence "
                            "first, with company and link",
    **LABEL_METADATA_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    deps=["function_enriched"],
    kinds={"sql"},
    description="Every job routed (approved / manual_review / archived / failed / rejected) and saved in `jobs`.",
    metadata=ROUTED_METADATA.definition_metadata(),
)
def routed_jobs(
    context: dg.AssetExecutionContext, database: DatabaseResource, routing: RoutingResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    run_id = context.run_id
    thresholds = routing.thresholds()
    taxonomy = feed_taxonomy(engine, feed_id)
    gate = open_gate(engine, feed_id, "routed_jobs", upstream="function_enriched", settings={
        "archive_below": thresholds.archive_below, "approve_at": thresholds.approve_at,
        "taxonomy": taxonomy.version, "reviews": job_store.review_version(engine, feed_id)})
    if (skipped := begin_stage(context, gate)) is not None:
        return skipped
    with stopwatch() as elapsed:
        outcome = route_feed(engine, feed_id, run_id, thresholds, taxonomy)
        duration = elapsed()
    counts = job_store.route_counts(engine, feed_id, run_id)
    limits = {"archive_below": thresholds.archive_below, "approve_at": thresholds.approve_at}
    data_version = finish_stage(
        context, gate, complete=True, duration_s=duration,
        counts={r.value: counts.get(r.value, 0) for r in Route if r is not Route.REJECTED} | {
            "removed": outcome.removed},
        stats={"thresholds": limits, "ingest_complete": outcome.ingest_complete})
    return dg.MaterializeResult(data_version=data_version, metadata=ROUTED_METADATA.emit({
        "dagster/row_count": sum(counts.values()),
        "routes": counts_table(counts, "route"),
        "removed": outcome.removed,
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


VIOLATIONS_METADATA = MetadataCatalog("routed_jobs checks", {
    "violations": "jobs that break the rule",
    "sample": "the first violations, with what is wrong",
})
FAILURE_RATE_METADATA = MetadataCatalog("ai_failure_rate", {
    "failure_rate": f"failed / enriched jobs; the check warns above {AI_FAILURE_WARN_RATE}",
    "failed": "jobs whose AI call failed this run (retried next run)",
    "enriched": "jobs routed from an AI answer or failure (rejected postings excluded)",
})


@dg.asset_check(asset=routed_jobs, blocking=True, partitions_def=feeds_partitions,
                metadata=VIOLATIONS_METADATA.definition_metadata(),
                description="Every routed job obeys the thresholds (review decisions are the only override).")
def routes_obey_thresholds(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, routing: RoutingResource
) -> dg.AssetCheckResult:
    bad = threshold_violations(database.engine, context.op_execution_context.partition_key, routing.thresholds())
    return dg.AssetCheckResult(passed=not bad, metadata=VIOLATIONS_METADATA.emit(
        {"violations": len(bad), "sample": problems_table(bad)}))


@dg.asset_check(asset=routed_jobs, blocking=True, partitions_def=feeds_partitions,
                metadata=VIOLATIONS_METADATA.definition_metadata(),
                description="No approved job lacks a valid industry and function from the taxonomy.")
def approved_jobs_have_taxonomy(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    bad = unclassified_approved(database.engine, feed_id, feed_taxonomy(database.engine, feed_id))
    return dg.AssetCheckResult(passed=not bad, metadata=VIOLATIONS_METADATA.emit(
        {"violations": len(bad), "sample": problems_table(bad)}))


@dg.asset_check(asset=routed_jobs, blocking=False, partitions_def=feeds_partitions,
                metadata=FAILURE_RATE_METADATA.definition_metadata(),
                description=f"Warns when more than {AI_FAILURE_WARN_RATE:.0%} of the feed's jobs failed in the AI.")
def ai_failure_rate(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    counts = job_store.route_counts(database.engine, feed_id, context.op_execution_context.run_id)
    enriched = sum(n for r, n in counts.items() if r != Route.REJECTED.value)
    rate = counts.get(Route.FAILED.value, 0) / enriched if enriched else 0.0
    return dg.AssetCheckResult(passed=rate <= AI_FAILURE_WARN_RATE, severity=dg.AssetCheckSeverity.WARN,
                               metadata=FAILURE_RATE_METADATA.emit({
                                   "failure_rate": round(rate, 4), "failed": counts.get(Route.FAILED.value, 0),
                                   "enriched": enriched}))
