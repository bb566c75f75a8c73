"""`deduped_jobs`: pass 1 merge of one role posted in several places, block by block from the database."""

import dagster as dg
from pydantic import Field

from feed_pipeline.assets.catalogs import DEDUPED_METADATA
from feed_pipeline.assets.common import stage_asset, stage_scope, stopwatch, table
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.assets.versions import begin_stage, finish_stage, open_gate
from feed_pipeline.core.dedupe import DedupeConfig
from feed_pipeline.pipeline.dedupe import dedupe_feed, dedupe_settings
from feed_pipeline.resources.database import DatabaseResource


class DedupeRunConfig(dg.Config):
    similarity_threshold: float | None = Field(
        default=None, description="Description similarity (0-1) for a fuzzy merge; None = the default (0.85)")


@stage_asset(
    DEDUPED_METADATA,
    deps=[raw_jobs],
    kinds={"sql"},
    description="One job per role: postings blocked by normalized title/company, then merged on near-identical "
                "descriptions (different stated employment types or requisition ids never merge).",
)
def deduped_jobs(
    context: dg.AssetExecutionContext, config: DedupeRunConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
    dedupe_config = DedupeConfig() if config.similarity_threshold is None else DedupeConfig(
        similarity_threshold=config.similarity_threshold)
    gate = open_gate(engine, feed_id, "deduped_jobs", upstream="raw_jobs", settings=dedupe_settings(dedupe_config))
    if (skipped := begin_stage(context, gate)) is not None:
        return skipped
    with stopwatch() as elapsed:
        stats = dedupe_feed(engine, feed_id, context.run_id, dedupe_config)
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
