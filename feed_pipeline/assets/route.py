"""`routed_jobs`: route every job by confidence and save all categories into `jobs`, the source of truth.

Blocking checks beside it keep a bad routing from ever reaching the mirror; warning checks flag AI failures.
"""

import math
from typing import Any

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.assets.common import GROUP, counts_table, markdown_table, stopwatch
from feed_pipeline.core.dedupe import merge_records
from feed_pipeline.core.evaluation import run_label_metadata
from feed_pipeline.core.jobs import JobRecord, Route
from feed_pipeline.core.routing import NOT_ENRICHED, RouteDecision, route_enriched_job, threshold_violation
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import stages
from feed_pipeline.store.evaluation import labeled_run
from feed_pipeline.store.feeds import feed_taxonomy
from feed_pipeline.store.reports import report_stage
from feed_pipeline.store.rows import batched, job_to_row
from feed_pipeline.store.schema import enrichments, jobs

ROUTE_CHUNK = 500
AI_FAILURE_WARN_RATE = 0.10


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
)
def routed_jobs(
    context: dg.AssetExecutionContext, database: DatabaseResource, routing: RoutingResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    run_id = context.run_id
    thresholds = routing.thresholds()
    taxonomy = feed_taxonomy(engine, feed_id)
    complete = stages.last_ingest_complete(engine, feed_id)
    confidences: list[float] = []
    review_sample: list[tuple] = []
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
                        confidences.append(route.routing_confidence)
                    if route.route is Route.MANUAL_REVIEW and len(review_sample) < 15:
                        review_sample.append((job.job_key, e["ai_title"], e["industry"], e["job_function"],
                                              _shown(route.routing_confidence)))
                    rows.append(_job_row(job, e, route))
                    enriched_keys.update(e["merged_keys"] or [e["job_key"]])
                job_store.upsert_routed_jobs(conn, run_id, rows)
        # Removal below is decided from the feed's jobs (deduped_jobs), never from the enrichments, which a
        # crashed stage may have left partial: a job the AI stages did not reach is failed and retried.
        for batch in stages.iter_deduped(engine, feed_id, chunk=ROUTE_CHUNK):
            missing = [job for job in batch if job.job_key not in enriched_keys]
            job_store.upsert_routed_jobs(conn, run_id, [
                _job_row(job, None, RouteDecision(Route.FAILED, NOT_ENRICHED, None)) for job in missing])
        for batch in batched(stages.iter_rejected_raw(engine, feed_id), ROUTE_CHUNK):
            for job in batch:
                job.member_keys, job.source_ids = [job.job_key], [job.source_id] if job.source_id else []
            job_store.upsert_routed_jobs(conn, run_id, [
                _job_row(job, None, RouteDecision(Route.REJECTED, job.rejection_reason, None)) for job in batch
            ])
        removed = job_store.mark_removed(conn, feed_id, run_id) if complete else 0
        duration = elapsed()
    counts = job_store.route_counts(engine, feed_id, run_id)
    report_stage(engine, run_id, feed_id, "routed_jobs", duration_s=duration,
                 counts={r.value: counts.get(r.value, 0) for r in Route if r is not Route.REJECTED} | {
                     "removed": removed},
                 stats={"thresholds": {"archive_below": thresholds.archive_below,
                                       "approve_at": thresholds.approve_at}, "ingest_complete": complete})
    return dg.MaterializeResult(
        metadata={
            "routes": counts_table(counts, "route"),
            **{f"route_{r.value}": counts.get(r.value, 0) for r in Route},
            "removed": removed,
            "ingest_complete": complete,
            "confidence_histogram": _histogram(confidences),
            "manual_review_sample": markdown_table(
                ["job_key", "ai_title", "industry", "function", "confidence"], review_sample),
            "archive_below": thresholds.archive_below,
            "approve_at": thresholds.approve_at,
            **run_label_metadata(labeled_run(engine, feed_id, run_id), thresholds),  # feeds with a label_field
        }
    )


def _shown(confidence: float | None) -> str:
    return "-" if confidence is None else f"{confidence:.3f}"  # a no-fit job has no routing confidence


def _histogram(values: list[float], bins: int = 10) -> dg.MetadataValue:
    counts = [0] * bins
    for v in values:
        counts[min(int(v * bins), bins - 1)] += 1
    peak = max(counts) or 1
    rows = [(f"{i / bins:.1f}–{(i + 1) / bins:.1f}", n, "█" * round(20 * n / peak)) for i, n in enumerate(counts)]
    return markdown_table(["routing confidence", "jobs", ""], rows)


def _feed_rows(conn: sa.Connection, feed_id: str, *routes: Route):
    stmt = sa.select(jobs.c.job_key, jobs.c.route, jobs.c.reason, jobs.c.routing_confidence, jobs.c.industry,
                     jobs.c.job_function).where(jobs.c.feed_id == feed_id, jobs.c.route.in_([r.value for r in routes]))
    return conn.execute(stmt)


@dg.asset_check(asset=routed_jobs, blocking=True,
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
    return dg.AssetCheckResult(passed=not bad, metadata={
        "violations": len(bad), "sample": markdown_table(["job_key", "problem"], bad[:20])})


@dg.asset_check(asset=routed_jobs, blocking=True,
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
    return dg.AssetCheckResult(passed=not bad, metadata={
        "violations": len(bad), "sample": markdown_table(["job_key", "problem"], bad[:20])})


@dg.asset_check(asset=routed_jobs, blocking=False,
                description=f"Warns when more than {AI_FAILURE_WARN_RATE:.0%} of the feed's jobs failed in the AI.")
def ai_failure_rate(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    counts = job_store.route_counts(database.engine, feed_id, context.op_execution_context.run_id)
    enriched = sum(n for r, n in counts.items() if r != Route.REJECTED.value)
    rate = counts.get(Route.FAILED.value, 0) / enriched if enriched else 0.0
    return dg.AssetCheckResult(passed=rate <= AI_FAILURE_WARN_RATE, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"failure_rate": round(rate, 4), "failed": counts.get(Route.FAILED.value, 0),
                                         "enriched": enriched})

