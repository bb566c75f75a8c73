"""The asset checks: blocking ones keep a bad stage from reaching the mirror, warning ones flag what a person
should look at (a feed that shrank, lost fields, or jumped in duplicates; AI failures)."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from feed_pipeline.assets.common import MetadataCatalog, feed_check, lines_table, problems_table, table
from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.enrich import industry_enriched
from feed_pipeline.assets.ingest import coverage_table, raw_jobs
from feed_pipeline.assets.mirror import approved_records, xano_mirror
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.core.coverage import DEFAULT_DROP_WARN, coverage_drops
from feed_pipeline.core.jobs import Route
from feed_pipeline.pipeline.enrich import answer_violations
from feed_pipeline.pipeline.ingest import coverage_of_ingest, previous_coverage
from feed_pipeline.pipeline.route import threshold_violations, unclassified_approved
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.feeds import feed_taxonomy
from feed_pipeline.store.reports import get_report, previous_successful_report

DUPLICATE_RATE_JUMP_WARN = 0.20
AI_FAILURE_WARN_RATE = 0.10

SHRINK_WARN_RATIO = 0.5


def _last_good_run_check(asset: Any, measures: dict[str, str], *, description: str, figure: Callable[[dict], Any],
                         nothing_to_compare: str):
    """Makes `compare(current, before)` a warning check, named after it, of one `figure` of this run's report
    against the feed's last successful run's.

    `compare` answers (passed, metadata values), or None where `before` gives nothing to compare with; the check
    then passes with the note `nothing_to_compare`, as it does where either report lacks the figure.
    """
    def build(compare: Callable[[Any, Any], tuple[bool, dict] | None]) -> dg.AssetChecksDefinition:
        catalog = MetadataCatalog(compare.__name__, {**measures, "note": "why nothing was compared"})

        @feed_check(asset, catalog, blocking=False, description=description, name=compare.__name__)
        def check(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
            run_id = context.op_execution_context.run_id
            previous = previous_successful_report(database.engine, context.op_execution_context.partition_key,
                                                  run_id)
            this = get_report(database.engine, run_id)
            current, before = (figure(this) if this else None), (figure(previous) if previous else None)
            outcome = None if current is None or before is None else compare(current, before)
            if outcome is None:
                return _warning(catalog, True, note=nothing_to_compare)
            passed, values = outcome
            return _warning(catalog, passed, **values)

        return check

    return build


def _warning(catalog: MetadataCatalog, passed: bool, **values) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, metadata=catalog.emit(values))


@_last_good_run_check(raw_jobs, {
    "postings": "postings held after this run",
    "previous_postings": "postings held after the feed's last successful run",
    "ratio": f"postings / previous_postings; the check warns below {SHRINK_WARN_RATIO}",
}, description="Warns when the feed lost more than half of its postings since the last good run.",
    figure=lambda report: (report.get("counts") or {}).get("raw"),
    nothing_to_compare="no earlier successful run to compare with")
def feed_did_not_shrink(postings: int, previous_postings: int) -> tuple[bool, dict] | None:
    if not previous_postings:
        return None
    ratio = postings / previous_postings
    return ratio >= SHRINK_WARN_RATIO, {"postings": postings, "previous_postings": previous_postings,
                                        "ratio": round(ratio, 4)}


COVERAGE_METADATA = MetadataCatalog("coverage_did_not_drop", {
    "drops": f"fields whose share of postings fell by {DEFAULT_DROP_WARN:.0%} points or more since the "
             "previous ingest, with both shares",
    "coverage": "this ingest's share of postings with each field, and the previous ingest's",
    "note": "why nothing was compared",
})


@feed_check(raw_jobs, COVERAGE_METADATA, blocking=False,
            description=f"Warns when the share of postings with an id, title, company, location, date, type or "
                        f"salary fell by {DEFAULT_DROP_WARN:.0%} points or more since the feed's previous ingest (a "
                        "changed feed layout or a wrong profile loses fields silently).")
def coverage_did_not_drop(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    run_id = context.op_execution_context.run_id
    engine = database.engine
    current, unchanged = coverage_of_ingest(engine, feed_id, run_id)
    if current is None:
        note = ("the feed was unchanged: its data, and so its coverage, are the last ingest's"
                if unchanged else "this run recorded no coverage")
        return _warning(COVERAGE_METADATA, True, note=note)
    previous = previous_coverage(engine, feed_id, run_id)
    if previous is None:
        return _warning(COVERAGE_METADATA, True, note="no earlier ingest of this feed recorded coverage",
                        coverage=coverage_table(current, None))
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


@_last_good_run_check(deduped_jobs, {
    "duplicate_rate": "this run's duplicate rate",
    "previous": "the duplicate rate of the feed's last successful run",
    "jump": f"duplicate_rate - previous; the check warns above {DUPLICATE_RATE_JUMP_WARN}",
}, description="Warns when the duplicate rate jumped by more than 20 points since the last good run.",
    figure=lambda report: (report.get("stages") or {}).get("deduped_jobs", {}).get("duplicate_rate"),
    nothing_to_compare="no earlier successful run with a duplicate rate to compare with")
def duplicate_rate_stable(duplicate_rate: float, previous: float) -> tuple[bool, dict]:
    jump = duplicate_rate - previous
    return jump <= DUPLICATE_RATE_JUMP_WARN, {"duplicate_rate": duplicate_rate, "previous": previous,
                                              "jump": round(jump, 4)}


ANSWERS_METADATA = MetadataCatalog("industry_answers_valid", {
    "checked": "stage 1 answers checked (failed jobs have none)",
    "violations": "answers outside the rules",
    "sample": "the first violations, with what is wrong",
})


@feed_check(industry_enriched, ANSWERS_METADATA, blocking=True,
            description="Stage 1 answers are within the rules: confidences in [0, 1] and industries from the "
                        "taxonomy.")
def industry_answers_valid(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    checked, bad = answer_violations(database.engine, feed_id, feed_taxonomy(database.engine, feed_id))
    return dg.AssetCheckResult(
        passed=not bad,
        metadata=ANSWERS_METADATA.emit({"checked": checked, "violations": len(bad), "sample": problems_table(bad)}),
    )


VIOLATIONS_METADATA = MetadataCatalog("routed_jobs checks", {
    "violations": "jobs that break the rule",
    "sample": "the first violations, with what is wrong",
})
FAILURE_RATE_METADATA = MetadataCatalog("ai_failure_rate", {
    "failure_rate": f"failed / enriched jobs; the check warns above {AI_FAILURE_WARN_RATE}",
    "failed": "jobs whose AI call failed this run (retried next run)",
    "enriched": "jobs routed from an AI answer or failure (rejected postings excluded)",
})


def _rule_result(bad: list[tuple[str, str]]) -> dg.AssetCheckResult:
    """A routed_jobs rule check's result: passed when no job breaks the rule, with the first violations."""
    return dg.AssetCheckResult(passed=not bad, metadata=VIOLATIONS_METADATA.emit(
        {"violations": len(bad), "sample": problems_table(bad)}))


@feed_check(routed_jobs, VIOLATIONS_METADATA, blocking=True,
            description="Every routed job obeys the thresholds (review decisions are the only override).")
def routes_obey_thresholds(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, routing: RoutingResource
) -> dg.AssetCheckResult:
    bad = threshold_violations(database.engine, context.op_execution_context.partition_key, routing.thresholds())
    return _rule_result(bad)


@feed_check(routed_jobs, VIOLATIONS_METADATA, blocking=True,
            description="No approved job lacks a valid industry and function from the taxonomy.")
def approved_jobs_have_taxonomy(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    bad = unclassified_approved(database.engine, feed_id, feed_taxonomy(database.engine, feed_id))
    return _rule_result(bad)


@feed_check(routed_jobs, FAILURE_RATE_METADATA, blocking=False,
            description=f"Warns when more than {AI_FAILURE_WARN_RATE:.0%} of the feed's jobs failed in the AI.")
def ai_failure_rate(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    counts = job_store.route_counts(database.engine, feed_id, context.op_execution_context.run_id)
    enriched = sum(n for r, n in counts.items() if r != Route.REJECTED.value)
    rate = counts.get(Route.FAILED.value, 0) / enriched if enriched else 0.0
    return _warning(FAILURE_RATE_METADATA, rate <= AI_FAILURE_WARN_RATE, failure_rate=round(rate, 4),
                    failed=counts.get(Route.FAILED.value, 0), enriched=enriched)


MATCH_METADATA = MetadataCatalog("xano_matches_approved", {
    "approved_jobs": "approved jobs of the feed",
    "mismatches": "differences between Xano's records and the approved jobs (missing, extra, stale hash, copies)",
    "sample": "the first differences",
})


@feed_check(xano_mirror, MATCH_METADATA, blocking=True,
            description="After the sync, Xano's records for the feed equal the approved jobs (keys and hashes).")
def xano_matches_approved(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, xano: XanoResource
) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    desired = approved_records(database, feed_id)
    with xano.open_client() as client:
        mismatches = client.verify_feed(feed_id, desired)
    return dg.AssetCheckResult(passed=not mismatches, metadata=MATCH_METADATA.emit({
        "approved_jobs": job_store.route_counts(database.engine, feed_id).get(Route.APPROVED.value, 0),
        "mismatches": len(mismatches),
        "sample": lines_table("mismatch", "one difference", mismatches)}))


ASSET_CHECKS = [
    feed_did_not_shrink,
    coverage_did_not_drop,
    duplicate_rate_stable,
    industry_answers_valid,
    routes_obey_thresholds,
    approved_jobs_have_taxonomy,
    ai_failure_rate,
    xano_matches_approved,
]
