"""`routed_jobs`: route every job by confidence and save all categories into `jobs`, the source of truth.

Blocking checks beside it keep a bad routing from ever reaching the mirror; warning checks flag AI failures.
"""

import heapq
import math
from typing import Any

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.assets.common import GROUP, MetadataCatalog, counts_table, problems_table, stopwatch, table
from feed_pipeline.assets.versions import SKIP_METADATA_DESCRIPTIONS, begin_stage, finish_stage, open_gate
from feed_pipeline.core.confidence_bins import ConfidenceHistogram
from feed_pipeline.core.dedupe import merge_records
from feed_pipeline.core.evaluation import LABEL_METADATA_DESCRIPTIONS, run_label_metadata
from feed_pipeline.core.jobs import JobRecord, Route
from feed_pipeline.core.routing import NOT_ENRICHED, RouteDecision, route_enriched_job, threshold_violation
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import stages
from feed_pipeline.store.evaluation import labeled_run
from feed_pipeline.store.feeds import feed_taxonomy
from feed_pipeline.store.rows import batched, job_to_row
from feed_pipeline.store.schema import enrichments, jobs

ROUTE_CHUNK = 500
AI_FAILURE_WARN_RATE = 0.10
REVIEW_SAMPLE_SIZE = 15

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


def _merged_job(members: list[JobRecord], enrichment: dict[str, Any]) -> JobRecord:
    """The job as published: a deduped job as it is, or pass 2's merge of several by the same rule pass 2 used."""
    if len(members) == 1 and members[0].job_key == enrichment["job_key"]:
        return members[0]
    return merge_records(members, enrichment["job_key"])


def _job_row(job: JobRecord, enrichment: dict[str, Any] | None, decision: RouteDecision) -> dict[str, Any]:
    row = job_to_row(job)
    e = enrichment or {}
    row.update(
        industry=e.get("industry"), industry_confidence=_finite(e.get("industry_confidence")),
        job_function=e.get("job_function"), function_confidence=_finite(e.get("function_confidence")),
        routing_confidence=decision.routing_confidence, ai_title=e.get("ai_title"),
        ai_description=e.get("ai_description"), skills=list(e.get("skills") or []),
        tech_stack=list(e.get("tech_stack") or []), seniority=e.get("seniority"),
        remote_policy=e.get("remote_policy"), route=decision.route.value, reason=decision.reason,
    )
    return row


def _finite(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None


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
    complete = stages.last_ingest_complete(engine, feed_id)
    histogram = ConfidenceHistogram(thresholds)
    nearest_review: list[tuple] = []  # min-heap of (confidence, job_key, row) holding the highest confidences
    enriched_keys: set[str] = set()  # deduped keys the enrichments cover (a pass 2 job covers its members)
    with stopwatch() as elapsed, engine.begin() as conn:
        stmt = sa.select(enrichments).where(enrichments.c.feed_id == feed_id).order_by(enrichments.c.job_key)
        with engine.connect() as reader:
            result = reader.execution_options(stream_results=True, yield_per=ROUTE_CHUNK).execute(stmt).mappings()
            for chunk in result.partitions(ROUTE_CHUNK):
                members = stages.get_deduped(conn, feed_id, {k for e in chunk for k in e["merged_keys"]})
                decided = job_store.review_decisions_for(conn, feed_id, [e["job_key"] for e in chunk])
                rows = []
                for e in chunk:
                    job = _merged_job([members[k] for k in sorted(e["merged_keys"]) if k in members], e)
                    decision, content_hash = decided.get(job.job_key, (None, None))
                    route = route_enriched_job(
                        enrichment_status=e["status"], enrichment_error=e["error"],
                        industry_confidence=e["industry_confidence"], function_confidence=e["function_confidence"],
                        function_status=e["function_status"], function_error=e["function_error"],
                        taxonomy_valid=taxonomy.has_function(e["industry"], e["job_function"]),
                        thresholds=thresholds,
                        review_decision=decision if content_hash == job.content_hash else None,
                    )
                    if route.routing_confidence is not None:
                        histogram.add(route.routing_confidence)
                    if route.route is Route.MANUAL_REVIEW and route.routing_confidence is not None:
                        # the jobs nearest approval; a no-fit job has no routing confidence and is not among them
                        entry = (route.routing_confidence, job.job_key,
                                 (round(route.routing_confidence, 3), e["ai_title"] or job.title, job.company,
                                  e["industry"], e["job_function"], job.url, job.job_key))
                        if len(nearest_review) < REVIEW_SAMPLE_SIZE:
                            heapq.heappush(nearest_review, entry)
                        else:
                            heapq.heappushpop(nearest_review, entry)
                    rows.append(_job_row(job, e, route))
                    enriched_keys.update(e["merged_keys"] or [e["job_key"]])
                job_store.upsert_routed_jobs(conn, run_id, rows)
        # Removal below is decided from the feed's jobs (deduped_jobs), never from the enrichments, which a
        # crashed stage may have left partial: a job the AI stages did not reach is failed and retried.
        for keys in stages.iter_deduped_keys(engine, feed_id, chunk=ROUTE_CHUNK):
            if not (missing_keys := [k for k in keys if k not in enriched_keys]):
                continue
            missing = stages.get_deduped(conn, feed_id, missing_keys)
            job_store.upsert_routed_jobs(conn, run_id, [
                _job_row(missing[k], None, RouteDecision(Route.FAILED, NOT_ENRICHED, None)) for k in sorted(missing)])
        for batch in batched(stages.iter_rejected_raw(engine, feed_id), ROUTE_CHUNK):
            for job in batch:
                job.member_keys, job.source_ids = [job.job_key], [job.source_id] if job.source_id else []
            job_store.upsert_routed_jobs(conn, run_id, [
                _job_row(job, None, RouteDecision(Route.REJECTED, job.rejection_reason, None)) for job in batch
            ])
        removed = job_store.mark_removed(conn, feed_id, run_id) if complete else 0
        duration = elapsed()
    counts = job_store.route_counts(engine, feed_id, run_id)
    data_version = finish_stage(
        context, gate, complete=True, duration_s=duration,
        counts={r.value: counts.get(r.value, 0) for r in Route if r is not Route.REJECTED} | {"removed": removed},
        stats={"thresholds": {"archive_below": thresholds.archive_below, "approve_at": thresholds.approve_at},
               "ingest_complete": complete})
    review_sample = [row for _, _, row in sorted(nearest_review, key=lambda item: (-item[0], item[1]))]
    return dg.MaterializeResult(data_version=data_version, metadata=ROUTED_METADATA.emit({
        "dagster/row_count": sum(counts.values()),
        "routes": counts_table(counts, "route"),
        "removed": removed,
        "ingest_complete": complete,
        "thresholds": dg.MetadataValue.json({"archive_below": thresholds.archive_below,
                                             "approve_at": thresholds.approve_at}),
        "confidence_histogram": table(
            [("confidence", "string", "bin of routing confidence: [low, high)"),
             ("route", "string", "the route every confidence of the bin gets"),
             ("jobs", "int", "jobs of this run in the bin"),
             ("bar", "string", "the count drawn to scale")],
            _histogram_rows(histogram)),
        "manual_review_sample": table(
            [("confidence", "float", "routing confidence (the lower of industry and function)"),
             ("title", "string", "the AI's standardized title (the feed's when none)"),
             ("company", "string", "company"), ("industry", "string", "stage 1 industry"),
             ("function", "string", "stage 2 function"), ("url", "string", "the posting's link"),
             ("job_key", "string", "key in `jobs` and the review API")],
            review_sample),
        **run_label_metadata(labeled_run(engine, feed_id, run_id), thresholds),  # feeds with a label_field
    }))


def _histogram_rows(histogram: ConfidenceHistogram) -> list[tuple]:
    bins = histogram.bins()
    peak = max((b.jobs for b in bins), default=0) or 1
    return [(b.label, b.route.value, b.jobs, "█" * round(20 * b.jobs / peak)) for b in bins]


def _feed_rows(conn: sa.Connection, feed_id: str, *routes: Route):
    stmt = sa.select(jobs.c.job_key, jobs.c.route, jobs.c.reason, jobs.c.routing_confidence, jobs.c.industry,
                     jobs.c.job_function).where(jobs.c.feed_id == feed_id, jobs.c.route.in_([r.value for r in routes]))
    return conn.execute(stmt)


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
    feed_id = context.op_execution_context.partition_key
    thresholds = routing.thresholds()
    bad = []
    with database.engine.connect() as conn:
        for key, route, reason, conf, _, _ in _feed_rows(conn, feed_id, Route.APPROVED, Route.MANUAL_REVIEW,
                                                         Route.ARCHIVED):
            problem = threshold_violation(route, conf, reason, thresholds)
            if problem:
                bad.append((key, problem))
    return dg.AssetCheckResult(passed=not bad, metadata=VIOLATIONS_METADATA.emit(
        {"violations": len(bad), "sample": problems_table(bad)}))


@dg.asset_check(asset=routed_jobs, blocking=True, partitions_def=feeds_partitions,
                metadata=VIOLATIONS_METADATA.definition_metadata(),
                description="No approved job lacks a valid industry and function from the taxonomy.")
def approved_jobs_have_taxonomy(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    taxonomy = feed_taxonomy(database.engine, feed_id)
    bad = []
    with database.engine.connect() as conn:
        for key, _, _, _, industry, function in _feed_rows(conn, feed_id, Route.APPROVED):
            if not taxonomy.has_function(industry, function):
                bad.append((key, f"industry {industry!r} / function {function!r}"))
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
