"""`deduped_jobs`: pass 1 merge of one role posted in several places, block by block from the database."""

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.common import GROUP, MetadataCatalog, stopwatch, table
from feed_pipeline.assets.versions import SKIP_METADATA_DESCRIPTIONS, begin_stage, finish_stage, open_gate
from feed_pipeline.core.dedupe import DedupeConfig, DedupeStats, merge_block
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.store import stages
from feed_pipeline.store.reports import get_report, previous_successful_report

DUPLICATE_RATE_JUMP_WARN = 0.20

DEDUPED_METADATA = MetadataCatalog("deduped_jobs", {
    "dagster/row_count": "jobs after pass 1 (one per role)",
    "input_jobs": "accepted raw postings merged",
    "output_jobs": "jobs after pass 1 (one per role)",
    "duplicate_rate": "1 - output_jobs / input_jobs: the share of postings that were another posting's role",
    "merged_groups": "jobs made of two or more postings",
    "largest_group": "postings in the largest merged job",
    "blocks": "title/company blocks compared",
    "largest_block": "postings in the largest block (cost grows with it)",
    "largest_block_key": "block_key of the largest block (to look it up in raw_jobs)",
    "windowed_blocks": "blocks too large to compare whole, read in sorted windows",
    "comparisons": "description pairs scored",
    "multi_location_jobs": "jobs posted in more than one location",
    "total_locations": "locations over all jobs",
    "locations_per_job": "jobs by how many locations they carry",
    "split_groups": "roles with more postings than one job may hold (max_members), split into several jobs",
    "split_jobs": "the jobs those split roles became",
    **SKIP_METADATA_DESCRIPTIONS,
})


class DedupeRunConfig(dg.Config):
    similarity_threshold: float | None = Field(
        default=None, description="Description similarity (0-1) for a fuzzy merge; None = the default (0.85)")


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    deps=["raw_jobs"],
    kinds={"sql"},
    metadata=DEDUPED_METADATA.definition_metadata(),
    description="One job per role: postings blocked by normalized title/company, then merged on near-identical "
                "descriptions (different stated employment types or requisition ids never merge).",
)
def deduped_jobs(
    context: dg.AssetExecutionContext, config: DedupeRunConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    dedupe_config = DedupeConfig() if config.similarity_threshold is None else DedupeConfig(
        similarity_threshold=config.similarity_threshold)
    gate = open_gate(engine, feed_id, "deduped_jobs", upstream="raw_jobs", settings={
        "similarity_threshold": dedupe_config.similarity_threshold, "max_members": dedupe_config.max_members})
    if (skipped := begin_stage(context, gate)) is not None:
        return skipped
    stats = DedupeStats()
    claimed: set[str] = set()  # merged keys handed out this run, so no key goes to two jobs

    def merge(block, previous):
        return merge_block(block, dedupe_config, previous, claimed_keys=claimed, stats=stats)

    with stopwatch() as elapsed:
        for _ in stages.replace_deduped_blocks(engine, feed_id, context.run_id, stages.iter_raw_blocks(engine, feed_id),
                                               merge):
            pass
        duration = elapsed()
    metadata = stats.as_metadata()
    data_version = finish_stage(context, gate, complete=True, duration_s=duration,
                                counts={"deduped": stats.output_jobs}, stats=metadata)
    location_counts = metadata.pop("location_counts")
    return dg.MaterializeResult(data_version=data_version, metadata=DEDUPED_METADATA.emit({
        "dagster/row_count": stats.output_jobs,
        **metadata,
        "locations_per_job": table([("locations", "string", "locations per job (a range)"),
                                    ("jobs", "int", "jobs with that many locations")], location_counts.items()),
    }))


RATE_METADATA = MetadataCatalog("duplicate_rate_stable", {
    "duplicate_rate": "this run's duplicate rate",
    "previous": "the duplicate rate of the feed's last successful run",
    "jump": f"duplicate_rate - previous; the check warns above {DUPLICATE_RATE_JUMP_WARN}",
    "note": "why nothing was compared",
})


@dg.asset_check(asset=deduped_jobs, blocking=False, partitions_def=feeds_partitions,
                metadata=RATE_METADATA.definition_metadata(),
                description="Warns when the duplicate rate jumped by more than 20 points since the last good run.")
def duplicate_rate_stable(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    run_id = context.op_execution_context.run_id
    previous = previous_successful_report(database.engine, feed_id, run_id)
    current = _duplicate_rate(database.engine, feed_id, run_id)
    if previous is None or current is None:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=RATE_METADATA.emit({"note": "no earlier successful run to compare with"}))
    before = (previous["stages"].get("deduped_jobs") or {}).get("duplicate_rate")
    if before is None:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=RATE_METADATA.emit({"note": "the earlier run recorded no duplicate rate"}))
    jump = current - before
    return dg.AssetCheckResult(passed=jump <= DUPLICATE_RATE_JUMP_WARN, severity=dg.AssetCheckSeverity.WARN,
                               metadata=RATE_METADATA.emit({"duplicate_rate": current, "previous": before,
                                                            "jump": round(jump, 4)}))


def _duplicate_rate(engine, feed_id: str, run_id: str) -> float | None:
    report = get_report(engine, run_id)
    return ((report or {}).get("stages") or {}).get("deduped_jobs", {}).get("duplicate_rate")
