"""`industry_enriched` (AI stage 1 + pass 2 merge) and `function_enriched` (AI stage 2, grouped by industry):
Dagster shells around feed_pipeline/pipeline/enrich.py."""

from typing import Any

import dagster as dg

from feed_pipeline.assets.catalogs import FUNCTION_METADATA, INDUSTRY_METADATA
from feed_pipeline.assets.common import AI_KIND, MetadataCatalog, counts_table, stage_asset, stage_scope, stopwatch
from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.versions import begin_stage, finish_stage, open_gate
from feed_pipeline.core.dedupe import DedupeConfig
from feed_pipeline.core.enrichment import AIUsage
from feed_pipeline.core.taxonomy import industry_stage_hash
from feed_pipeline.core.versions import stage_input_version
from feed_pipeline.pipeline.enrich import enrich_functions, enrich_industries
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.sources.xml_profiles import feed_date_order
from feed_pipeline.store.feeds import category_hint_of, feed_taxonomy, get_feed


class EnrichConfig(dg.Config):
    similarity_threshold: float | None = None  # pass 2 description similarity (0-1); None = the dedupe default


def _ai_stage_asset(catalog: MetadataCatalog, upstream: Any, description: str):
    """`stage_asset` for a stage that asks the classifier: AI and SQL kinds, and the `gemini` pool that dagster.yaml
    limits across runs."""
    return stage_asset(catalog, deps=[upstream], kinds={AI_KIND, "sql"}, pool="gemini", description=description)


@_ai_stage_asset(
    INDUSTRY_METADATA, deduped_jobs,
    "AI stage 1 (industry, confidence, standardized title/description/skills), then the pass 2 "
    "merge on the standardized title. Industry confidence below the archive threshold skips stage 2. "
    "The classifier is Gemini when GEMINI_API_KEY is set, else the offline one: see `model`.",
)
def industry_enriched(
    context: dg.AssetExecutionContext,
    config: EnrichConfig,
    database: DatabaseResource,
    classifier: ClassifierResource,
    routing: RoutingResource,
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
    taxonomy = feed_taxonomy(engine, feed_id)
    taxonomy_key = industry_stage_hash(taxonomy)
    params = get_feed(engine, feed_id).params
    category_hint, date_order = category_hint_of(params), feed_date_order(params)
    archive_below = routing.thresholds().archive_below
    with stopwatch() as elapsed, classifier.open_classifier(taxonomy) as clf:
        settings = {"model": clf.model_name, "prompt_version": clf.industry_prompt_version, "taxonomy": taxonomy_key,
                    "category_hint": category_hint, "date_order": date_order, "archive_below": archive_below,
                    "similarity_threshold": config.similarity_threshold}
        gate = open_gate(engine, feed_id, "industry_enriched", upstream="deduped_jobs", settings=settings)
        incremental = gate.last_run_finished  # read before begin_stage marks this run as working
        if (skipped := begin_stage(context, gate)) is not None:
            return skipped
        dedupe_config = DedupeConfig() if config.similarity_threshold is None else DedupeConfig(
            similarity_threshold=config.similarity_threshold)
        outcome = enrich_industries(engine, feed_id, clf, taxonomy_key=taxonomy_key, category_hint=category_hint,
                                    date_order=date_order, archive_below=archive_below, dedupe_config=dedupe_config,
                                    salt=stage_input_version(None, settings), incremental=incremental)
        duration = elapsed()
    usage, statuses = clf.usage, outcome.statuses
    data_version = finish_stage(  # jobs left failed are asked again next run: the stage is not done
        context, gate, complete=not statuses.get("failed") and not usage.quota_exhausted, duration_s=duration,
        stats={"pass2_merged_jobs": outcome.merged_away, "model": clf.model_name, "statuses": statuses,
               "answered_jobs": outcome.answered, "kept_rows": outcome.kept_rows},
        ai_usage=usage.as_dict())
    context.log.info(f"feed {feed_id}: stage 1 {statuses}; pass 2 merged {outcome.merged_away} jobs")
    return dg.MaterializeResult(data_version=data_version, metadata=INDUSTRY_METADATA.emit({
        "dagster/row_count": sum(statuses.values()),
        "by_status": counts_table(statuses, "stage 1 status"),
        "pass2_merged_away": outcome.merged_away,
        "pass2_groups": outcome.groups,
        "answered_jobs": outcome.answered,
        "kept_rows": outcome.kept_rows,
        "model": clf.model_name,
        "prompt_version": clf.prompt_version,
        "taxonomy_version": taxonomy.version,
        "category_hint": category_hint,
        **_usage_metadata(usage),
        "before_pass2": dg.MetadataValue.json(outcome.before_pass2),
    }))


def _usage_metadata(usage: AIUsage) -> dict[str, Any]:
    return {f"ai_{k}": v for k, v in usage.as_dict().items()}


@_ai_stage_asset(
    FUNCTION_METADATA, industry_enriched,
    "AI stage 2: the job function, chosen from the job's industry's list (one request group per "
    "industry), by Gemini or the offline classifier (see `model`).",
)
def function_enriched(
    context: dg.AssetExecutionContext, database: DatabaseResource, classifier: ClassifierResource
) -> dg.MaterializeResult:
    engine, feed_id = stage_scope(context, database)
    taxonomy = feed_taxonomy(engine, feed_id)
    with stopwatch() as elapsed, classifier.open_classifier(taxonomy) as clf:
        gate = open_gate(engine, feed_id, "function_enriched", upstream="industry_enriched", settings={
            "model": clf.model_name, "prompt_version": clf.function_prompt_version, "taxonomy": taxonomy.version})
        if (skipped := begin_stage(context, gate)) is not None:
            return skipped
        outcome = enrich_functions(engine, feed_id, clf, taxonomy)
        duration = elapsed()
    data_version = finish_stage(context, gate, complete=not outcome.function_status.get("failed"),
                                duration_s=duration, stats={"function_status": outcome.function_status,
                                                            "answered_jobs": outcome.answered},
                                ai_usage=clf.usage.as_dict())
    return dg.MaterializeResult(data_version=data_version, metadata=FUNCTION_METADATA.emit({
        "jobs_classified": sum(outcome.per_industry.values()),
        "answered_jobs": outcome.answered,
        "industries": len(outcome.per_industry),
        "jobs_per_industry": counts_table(outcome.per_industry, "industry"),
        "by_function_status": counts_table(outcome.function_status, "function status"),
        "model": clf.model_name,
        "prompt_version": clf.prompt_version,
        **_usage_metadata(clf.usage),
    }))
