"""Routing: every job of the feed routed by confidence and saved in `jobs`, the source of truth.

Removal is decided from the feed's jobs (deduped_jobs), never from the enrichments, which a crashed stage may
have left partial: a job the AI stages did not reach is failed and retried, not removed.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.confidence_bins import ConfidenceHistogram
from feed_pipeline.core.dedupe import merge_records
from feed_pipeline.core.enrichment import Taxonomy
from feed_pipeline.core.identity import digest
from feed_pipeline.core.jobs import JobRecord, Route
from feed_pipeline.core.mirror import to_xano_record
from feed_pipeline.core.routing import (
    NOT_ENRICHED,
    RouteDecision,
    Thresholds,
    route_enriched_job,
    threshold_violation,
)
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import stages
from feed_pipeline.store.rows import batched, job_to_row
from feed_pipeline.store.schema import jobs
from feed_pipeline.store.stages import STAGE2_COLUMNS

ROUTE_CHUNK = 500
REVIEW_SAMPLE_SIZE = 15


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """What routing did: whether removal was allowed, how many jobs left, and the figures for the run's page."""

    ingest_complete: bool
    removed: int
    histogram: ConfidenceHistogram
    review_sample: list[tuple]  # the manual-review jobs nearest approval, highest confidence first
    routed_again: int = 0  # enriched jobs whose route source changed (the others kept their row)


def route_feed(engine: sa.Engine, feed_id: str, run_id: str, thresholds: Thresholds, taxonomy: Taxonomy, *,
               salt: str) -> RoutingOutcome:
    """Route every enriched, unenriched and rejected job of the feed into `jobs` in one transaction, and mark
    the jobs that left the feed removed when the last ingest was complete.

    `salt` names the routing settings. A job whose source (`route_source`: its enrichment as the AI stages left it,
    its review decision and `salt`) is the one it was last routed from keeps its row: only its `last_run_id` moves.
    """
    complete = stages.last_ingest_complete(engine, feed_id)
    histogram = ConfidenceHistogram(thresholds)
    nearest_review: list[tuple[float, str]] = []  # min-heap of (confidence, job_key): the highest confidences
    enriched_keys: set[str] = set()  # deduped keys the enrichments cover (a pass 2 job covers its members)
    routed_again = 0

    def tally(key: str, route: Route, confidence: float | None) -> None:
        if confidence is None:
            return
        histogram.add(confidence)
        if route is Route.MANUAL_REVIEW:  # the jobs nearest approval (a no-fit job has no confidence)
            if len(nearest_review) < REVIEW_SAMPLE_SIZE:
                heapq.heappush(nearest_review, (confidence, key))
            else:
                heapq.heappushpop(nearest_review, (confidence, key))

    with engine.begin() as conn:
        routed = job_store.routed_sources(conn, feed_id)
        for chunk in stages.iter_enrichment_answers(engine, feed_id, chunk=ROUTE_CHUNK):
            decided = job_store.review_decisions_for(conn, feed_id, [e["job_key"] for e in chunk])
            kept: list[str] = []
            redo: dict[str, str | None] = {}
            for e in chunk:
                key = e["job_key"]
                enriched_keys.update(e["merged_keys"] or [key])
                source = route_source(salt, e, decided.get(key))
                held = routed.get(key)
                if source is not None and held is not None and held[0] == source:
                    kept.append(key)
                    tally(key, Route(held[1]), held[2])
                else:
                    redo[key] = source
            job_store.touch_jobs(conn, feed_id, run_id, kept)
            if not redo:
                continue
            routed_again += len(redo)
            full = stages.get_enrichments(conn, feed_id, redo)
            members = stages.get_deduped(conn, feed_id, {k for e in full.values() for k in e["merged_keys"]})
            rows = []
            for key in sorted(redo):
                e = full[key]
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
                tally(key, route.route, route.routing_confidence)
                rows.append(_job_row(job, e, route, redo[key]))
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
        sample = [key for _, key in sorted(nearest_review, key=lambda item: (-item[0], item[1]))]
        review_sample = job_store.review_sample_rows(conn, feed_id, sample)
    return RoutingOutcome(complete, removed, histogram, review_sample, routed_again)


def route_source(salt: str, answers: Mapping[str, Any], decision: tuple[str, str] | None) -> str | None:
    """What a job's route and row are made from besides its deduped jobs (which its enrichment's `answer_hash`
    covers): the enrichment as stage 1 wrote it, stage 2's answer, its review decision, and the routing settings.
    None for an enrichment written before answers were hashed: such a job is always routed again."""
    if not answers["answer_hash"]:
        return None
    return digest("route", salt, answers["answer_hash"], *(repr(answers[c]) for c in STAGE2_COLUMNS), repr(decision))


def threshold_violations(engine: sa.Engine, feed_id: str, thresholds: Thresholds) -> list[tuple[str, str]]:
    """(job key, what is wrong) for each routed job whose route disagrees with its confidence."""
    with engine.connect() as conn:
        return [(key, problem) for key, route, reason, conf, _, _ in _feed_rows(
            conn, feed_id, Route.APPROVED, Route.MANUAL_REVIEW, Route.ARCHIVED)
            if (problem := threshold_violation(route, conf, reason, thresholds))]


def unclassified_approved(engine: sa.Engine, feed_id: str, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """(job key, its pair) for each approved job whose industry and function are not a pair of the taxonomy."""
    with engine.connect() as conn:
        return [(key, f"industry {industry!r} / function {function!r}")
                for key, _, _, _, industry, function in _feed_rows(conn, feed_id, Route.APPROVED)
                if not taxonomy.has_function(industry, function)]


def _feed_rows(conn: sa.Connection, feed_id: str, *routes: Route):
    stmt = sa.select(jobs.c.job_key, jobs.c.route, jobs.c.reason, jobs.c.routing_confidence, jobs.c.industry,
                     jobs.c.job_function).where(jobs.c.feed_id == feed_id, jobs.c.route.in_([r.value for r in routes]))
    return conn.execute(stmt)


def _merged_job(members: list[JobRecord], enrichment: dict[str, Any]) -> JobRecord:
    """The job as published: a deduped job as it is, or pass 2's merge of several by the same rule pass 2 used."""
    if len(members) == 1 and members[0].job_key == enrichment["job_key"]:
        return members[0]
    return merge_records(members, enrichment["job_key"])


def _job_row(job: JobRecord, enrichment: dict[str, Any] | None, decision: RouteDecision,
             source: str | None = None) -> dict[str, Any]:
    row = job_to_row(job)
    e = enrichment or {}
    row.update(
        industry=e.get("industry"), industry_confidence=_finite(e.get("industry_confidence")),
        job_function=e.get("job_function"), function_confidence=_finite(e.get("function_confidence")),
        routing_confidence=decision.routing_confidence, ai_title=e.get("ai_title"),
        ai_description=e.get("ai_description"), skills=list(e.get("skills") or []),
        tech_stack=list(e.get("tech_stack") or []), seniority=e.get("seniority"),
        remote_policy=e.get("remote_policy"), route=decision.route.value, reason=decision.reason,
        route_source=source,
    )
    row["record_hash"] = _record_hash(row) if decision.route is Route.APPROVED else None
    return row


def _record_hash(row: dict[str, Any]) -> str | None:
    """What the mirror publishes of an approved job, hashed once here rather than rebuilt by every sync and check.
    None when the row cannot be published: the mirror then builds the record itself and reports why."""
    try:
        return to_xano_record(row)["record_hash"]
    except (TypeError, ValueError):
        return None


def _finite(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None
