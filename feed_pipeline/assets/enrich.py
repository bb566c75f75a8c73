"""`industry_enriched` (AI stage 1 + pass 2 merge) and `function_enriched` (AI stage 2, grouped by industry).

Both stages look every job up in the enrichment cache first and write each AI batch (cache and table) the moment
it arrives, so a rerun of an unchanged feed makes no calls and a run killed halfway resumes with only the rest.

Each stage's cache key is what that stage used: the job's input, the stage's own prompt version, and the part of
the feed's taxonomy it was asked about (stage 1: the industries; stage 2: the job's industry's functions). Editing
one industry's functions re-asks only that industry's stage 2; paid stage 1 answers stay.
"""

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.assets.common import AI_KIND, GROUP, MetadataCatalog, counts_table, problems_table, stopwatch
from feed_pipeline.assets.versions import SKIP_METADATA_DESCRIPTIONS, begin_stage, finish_stage, open_gate
from feed_pipeline.core.dedupe import DedupeConfig, ai_block_key, merge_enriched_block
from feed_pipeline.core.enrichment import (
    NO_FIT_FUNCTION,
    AIUsage,
    Classifier,
    EnrichmentFailure,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
    Taxonomy,
)
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.prompts import (
    function_input_hash,
    function_result_from_json,
    industry_input_hash,
    industry_result_from_json,
    result_to_json,
)
from feed_pipeline.core.routing import is_valid_confidence
from feed_pipeline.core.taxonomy import function_stage_hash, industry_stage_hash
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.store import stages
from feed_pipeline.store.cache import get_cached, put_cached
from feed_pipeline.store.feeds import feed_taxonomy, wants_category_hint
from feed_pipeline.store.schema import enrichments

INDUSTRY_STAGE, FUNCTION_STAGE = "industry", "function"
CHUNK_JOBS = 1000  # jobs looked up in the cache and handed to the classifier at a time

_USAGE_DESCRIPTIONS = {
    "model": "the classifier's model: a Gemini model name, or the offline classifier's name and version",
    "prompt_version": "version of the prompts and response rules, both stages (each stage's own is part of its "
                      "cache key)",
    "ai_calls": "requests sent to the model this run (0 for the offline classifier or a full cache)",
    "ai_input_tokens": "prompt tokens billed this run",
    "ai_output_tokens": "response tokens billed this run",
    "ai_cache_hits": "jobs answered from the enrichment cache, no call",
    "ai_retries": "requests retried (429, 5xx, timeouts, invalid answers)",
    "ai_estimated_cost_usd": "estimated cost of this run's calls at list prices",
    "ai_quota_exhausted": "true when a daily quota ran out: the rest failed and is retried next run",
}
INDUSTRY_METADATA = MetadataCatalog("industry_enriched", {
    "dagster/row_count": "jobs after the pass 2 merge",
    "by_status": "jobs by stage 1 status after pass 2: ok, archived (below the archive threshold), failed",
    "pass2_merged_away": "jobs merged into another by pass 2 (same AI title, company and type, similar text)",
    "pass2_groups": "jobs pass 2 made from two or more",
    "before_pass2": "stage 1 status/function status counts before the pass 2 merge",
    "taxonomy_version": "content hash of the taxonomy the feed is classified in (its own, the deployment's or the "
                        "bundled one)",
    "category_hint": "whether the feed's own category went to the classifier as a hint (feed param category_hint)",
    **_USAGE_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})
FUNCTION_METADATA = MetadataCatalog("function_enriched", {
    "jobs_classified": "jobs whose function was asked for (stage 1 status ok), from the cache or the model",
    "industries": "industries those jobs fall in (one request group each)",
    "jobs_per_industry": "jobs sent to stage 2, by industry",
    "by_function_status": "jobs by stage 2 status: ok, no_fit (none of the industry's functions fits), failed, "
                          "skipped (archived at stage 1)",
    **_USAGE_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})


class EnrichConfig(dg.Config):
    similarity_threshold: float | None = None  # pass 2 description similarity (0-1); None = the dedupe default


def industry_input(job: JobRecord, taxonomy_key: str, *, category_hint: bool = False) -> IndustryInput:
    """Stage 1 input; `taxonomy_key` is industry_stage_hash of the feed's taxonomy, `category_hint` the feed's
    choice to pass the publisher's own category along."""
    inp = IndustryInput(job_key=job.job_key, title=job.title, company=job.company, description=job.description,
                        locations=tuple(job.locations), employment_type=job.employment_type, tags=tuple(job.tags),
                        category_hint=(job.category or "").strip() if category_hint else "")
    return dataclasses.replace(inp, input_hash=industry_input_hash(inp, taxonomy_key=taxonomy_key))


def function_input(industry: str, row, job: JobRecord | None, taxonomy_key: str) -> FunctionInput:
    """Stage 2 input: the stage 1 fields of enrichment `row` and the original title and plain text of `job` (the
    merged job's first member, as routing publishes it); `taxonomy_key` is function_stage_hash for `industry`."""
    inp = FunctionInput(job_key=row["job_key"], ai_title=row["ai_title"] or "",
                        ai_description=row["ai_description"] or "", skills=tuple(row["skills"] or ()),
                        title=job.title if job else "", text=job.description if job else "")
    return dataclasses.replace(inp, input_hash=function_input_hash(industry, inp, taxonomy_key=taxonomy_key))


def _first_member(row) -> str:
    return min(row["merged_keys"] or [row["job_key"]])


def stage1_row(job: JobRecord, result: IndustryResult | EnrichmentFailure, model: str, archive_below: float) -> dict:
    row: dict[str, Any] = {
        "feed_id": job.feed_id, "job_key": job.job_key, "merged_keys": [job.job_key], "locations": job.locations,
        "is_multi_location": job.is_multi_location, "content_hash": job.content_hash, "model": model,
    }
    if isinstance(result, EnrichmentFailure):
        return {**row, "status": "failed", "error": result.error, "ai_block_key": ""}
    archived = is_valid_confidence(result.confidence) and result.confidence < archive_below
    return {
        **row,
        "status": "archived" if archived else "ok",
        "function_status": "skipped" if archived else None,
        "ai_block_key": ai_block_key(job, result.ai_title),
        **_industry_columns(result),
    }


def _industry_columns(result: IndustryResult) -> dict[str, Any]:
    return {
        "industry": result.industry, "industry_confidence": result.confidence, "ai_title": result.ai_title,
        "ai_description": result.ai_description, "skills": list(result.skills), "tech_stack": list(result.tech_stack),
        "seniority": result.seniority, "remote_policy": result.remote_policy,
        "application_deadline": result.application_deadline,
    }


@contextmanager
def open_classifier(resource: ClassifierResource, taxonomy: Taxonomy) -> Iterator[Classifier]:
    """The resource's classifier for one asset run, closed afterwards (Gemini's owns a client and a loop)."""
    clf = resource.classifier(taxonomy)
    try:
        yield clf
    finally:
        close = getattr(clf, "close", None)
        if close is not None:
            close()


def stage_prompt_version(clf: Classifier, stage: str) -> str:
    """The prompt version one stage's cache entries are keyed on (the other stage's prompt is not part of it)."""
    return clf.industry_prompt_version if stage == INDUSTRY_STAGE else clf.function_prompt_version


def _classify_with_cache(engine, clf: Classifier, stage: str, inputs: Sequence, classify, from_json, on_batch) -> None:
    """Answer `inputs` from the cache, send the rest to `classify`, and hand every batch to `on_batch` as it lands."""
    with engine.connect() as conn:
        cached = get_cached(conn, stage, clf.model_name, stage_prompt_version(clf, stage),
                            [i.input_hash for i in inputs])
    hits = [from_json(i.job_key, cached[i.input_hash]) for i in inputs if i.input_hash in cached]
    clf.usage.cache_hits += len(hits)
    if hits:
        on_batch(hits, {})
    misses = [i for i in inputs if i.input_hash not in cached]
    if not misses:
        return
    hash_of = {i.job_key: i.input_hash for i in misses}
    for batch in classify(misses):
        fresh = {hash_of[r.job_key]: result_to_json(r) for r in batch if not isinstance(r, EnrichmentFailure)}
        on_batch(batch, fresh)


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    deps=["deduped_jobs"],
    kinds={AI_KIND, "sql"},
    pool="gemini",
    description="AI stage 1 (industry, confidence, standardized title/description/skills), then the pass 2 "
    "merge on the standardized title. Industry confidence below the archive threshold skips stage 2. "
    "The classifier is Gemini when GEMINI_API_KEY is set, else the offline one: see `model`.",
    metadata=INDUSTRY_METADATA.definition_metadata(),
)
def industry_enriched(
    context: dg.AssetExecutionContext,
    config: EnrichConfig,
    database: DatabaseResource,
    classifier: ClassifierResource,
    routing: RoutingResource,
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    taxonomy = feed_taxonomy(engine, feed_id)
    taxonomy_key = industry_stage_hash(taxonomy)
    category_hint = wants_category_hint(engine, feed_id)
    archive_below = routing.thresholds().archive_below
    with stopwatch() as elapsed, open_classifier(classifier, taxonomy) as clf:
        gate = open_gate(engine, feed_id, "industry_enriched", upstream="deduped_jobs", settings={
            "model": clf.model_name, "prompt_version": clf.industry_prompt_version, "taxonomy": taxonomy_key,
            "category_hint": category_hint, "archive_below": archive_below,
            "similarity_threshold": config.similarity_threshold})
        if (skipped := begin_stage(context, gate)) is not None:
            return skipped
        with engine.begin() as conn:
            stages.reset_enrichments(conn, feed_id)
        for chunk in stages.iter_deduped(engine, feed_id, chunk=CHUNK_JOBS):
            by_key = {job.job_key: job for job in chunk}

            def save(batch, fresh, by_key=by_key):
                with engine.begin() as conn:
                    put_cached(conn, INDUSTRY_STAGE, clf.model_name, stage_prompt_version(clf, INDUSTRY_STAGE), fresh)
                    stages.write_enrichments(
                        conn, [stage1_row(by_key[r.job_key], r, clf.model_name, archive_below) for r in batch]
                    )

            inputs = [industry_input(j, taxonomy_key, category_hint=category_hint) for j in chunk]
            _classify_with_cache(engine, clf, INDUSTRY_STAGE, inputs,
                                 clf.classify_industries, industry_result_from_json, save)
        stage1 = stages.enrichment_summary(engine, feed_id)
        pass2 = _merge_on_ai_title(engine, feed_id, config, archive_below)
        duration = elapsed()
    usage = clf.usage
    summary = stages.enrichment_summary(engine, feed_id)
    statuses = _status_totals(summary)
    data_version = finish_stage(  # jobs left failed are asked again next run: the stage is not done
        context, gate, complete=not statuses.get("failed") and not usage.quota_exhausted, duration_s=duration,
        stats={"pass2_merged_jobs": pass2["merged_away"], "model": clf.model_name, "statuses": statuses},
        ai_usage=usage.as_dict())
    context.log.info(f"feed {feed_id}: stage 1 {statuses}; pass 2 merged {pass2['merged_away']} jobs")
    return dg.MaterializeResult(data_version=data_version, metadata=INDUSTRY_METADATA.emit({
        "dagster/row_count": sum(statuses.values()),
        "by_status": counts_table(statuses, "stage 1 status"),
        "pass2_merged_away": pass2["merged_away"],
        "pass2_groups": pass2["groups"],
        "model": clf.model_name,
        "prompt_version": clf.prompt_version,
        "taxonomy_version": taxonomy.version,
        "category_hint": category_hint,
        **_usage_metadata(usage),
        "before_pass2": dg.MetadataValue.json(stage1),
    }))


def _status_totals(summary: dict[str, int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for key, n in summary.items():
        status = key.split("/", 1)[0]
        totals[status] = totals.get(status, 0) + n
    return totals


def _usage_metadata(usage: AIUsage) -> dict[str, Any]:
    return {f"ai_{k}": v for k, v in usage.as_dict().items()}


def _merge_on_ai_title(engine, feed_id: str, config: EnrichConfig, archive_below: float) -> dict[str, int]:
    """Pass 2: jobs whose standardized titles agree (same company and type, similar text) become one."""
    dedupe_config = DedupeConfig() if config.similarity_threshold is None else DedupeConfig(
        similarity_threshold=config.similarity_threshold)
    merged_away = groups = 0
    claimed: set[str] = set()
    where = sa.and_(enrichments.c.status != "failed", enrichments.c.ai_block_key != "")
    with engine.begin() as conn:
        for rows in stages.iter_enrichment_groups(engine, feed_id, "ai_block_key", where=where):
            if len(rows) < 2:
                claimed.update(r["job_key"] for r in rows)
                continue
            row_of = {r["job_key"]: r for r in rows}
            jobs = stages.get_deduped(conn, feed_id, row_of)
            items = [(jobs[k], _industry_result(r)) for k, r in row_of.items() if k in jobs]
            for job, result, merged_keys in merge_enriched_block(items, dedupe_config, claimed_keys=claimed):
                if len(merged_keys) < 2:
                    continue
                groups += 1
                merged_away += len(merged_keys) - 1
                stages.delete_enrichments(conn, feed_id, merged_keys)
                archived = is_valid_confidence(result.confidence) and result.confidence < archive_below
                base = row_of[min(merged_keys)]
                stages.write_enrichments(conn, [{
                    "feed_id": feed_id, "job_key": job.job_key, "merged_keys": sorted(merged_keys),
                    "ai_block_key": base["ai_block_key"], "locations": job.locations,
                    "is_multi_location": job.is_multi_location, "content_hash": job.content_hash,
                    "model": base["model"], "status": "archived" if archived else "ok",
                    "function_status": "skipped" if archived else None, **_industry_columns(result),
                }])
    return {"merged_away": merged_away, "groups": groups}


def _industry_result(row) -> IndustryResult:
    return IndustryResult(
        job_key=row["job_key"], industry=row["industry"], confidence=row["industry_confidence"],
        ai_title=row["ai_title"] or "", ai_description=row["ai_description"] or "",
        skills=tuple(row["skills"] or ()), tech_stack=tuple(row["tech_stack"] or ()), seniority=row["seniority"],
        remote_policy=row["remote_policy"], application_deadline=row["application_deadline"],
    )


ANSWERS_METADATA = MetadataCatalog("industry_answers_valid", {
    "checked": "stage 1 answers checked (failed jobs have none)",
    "violations": "answers outside the rules",
    "sample": "the first violations, with what is wrong",
})


@dg.asset_check(asset=industry_enriched, blocking=True, partitions_def=feeds_partitions,
                metadata=ANSWERS_METADATA.definition_metadata(),
                description="Stage 1 answers are within the rules: confidences in [0, 1] and industries from the "
                            "taxonomy.")
def industry_answers_valid(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
    feed_id = context.op_execution_context.partition_key
    taxonomy = feed_taxonomy(database.engine, feed_id)
    stmt = sa.select(enrichments.c.job_key, enrichments.c.industry, enrichments.c.industry_confidence).where(
        enrichments.c.feed_id == feed_id, enrichments.c.status != "failed")
    bad: list[tuple[str, str]] = []
    checked = 0
    with database.engine.connect() as conn:
        for key, industry, confidence in conn.execute(stmt):
            checked += 1
            if not taxonomy.has_industry(industry):
                bad.append((key, f"industry {industry!r} not in the taxonomy"))
            elif not is_valid_confidence(confidence):
                bad.append((key, f"confidence {confidence!r} outside [0, 1]"))
    return dg.AssetCheckResult(
        passed=not bad,
        metadata=ANSWERS_METADATA.emit({"checked": checked, "violations": len(bad), "sample": problems_table(bad)}),
    )


@dg.asset(
    partitions_def=feeds_partitions,
    group_name=GROUP,
    deps=[industry_enriched],
    kinds={AI_KIND, "sql"},
    pool="gemini",
    description="AI stage 2: the job function, chosen from the job's industry's list (one request group per "
    "industry), by Gemini or the offline classifier (see `model`).",
    metadata=FUNCTION_METADATA.definition_metadata(),
)
def function_enriched(
    context: dg.AssetExecutionContext, database: DatabaseResource, classifier: ClassifierResource
) -> dg.MaterializeResult:
    engine = database.engine
    feed_id = context.partition_key
    taxonomy = feed_taxonomy(engine, feed_id)
    per_industry: dict[str, int] = {}
    with stopwatch() as elapsed, open_classifier(classifier, taxonomy) as clf:
        gate = open_gate(engine, feed_id, "function_enriched", upstream="industry_enriched", settings={
            "model": clf.model_name, "prompt_version": clf.function_prompt_version, "taxonomy": taxonomy.version})
        if (skipped := begin_stage(context, gate)) is not None:
            return skipped
        where = enrichments.c.status == "ok"
        for rows in stages.iter_enrichment_groups(engine, feed_id, "industry", where=where, max_group=CHUNK_JOBS):
            industry = rows[0]["industry"]
            functions = taxonomy.functions_of(industry)
            per_industry[industry] = per_industry.get(industry, 0) + len(rows)
            inputs = _function_inputs(engine, feed_id, taxonomy, industry, rows)

            def save(batch, fresh):
                with engine.begin() as conn:
                    put_cached(conn, FUNCTION_STAGE, clf.model_name, stage_prompt_version(clf, FUNCTION_STAGE), fresh)
                    stages.update_enrichments(conn, feed_id, [stage2_update(r) for r in batch])

            _classify_with_cache(
                engine, clf, FUNCTION_STAGE, inputs,
                lambda misses, industry=industry, functions=functions: clf.classify_functions(
                    industry, functions, misses),
                function_result_from_json, save,
            )
        duration = elapsed()
    summary = stages.enrichment_summary(engine, feed_id)
    function_status: dict[str, int] = {}
    for key, n in summary.items():
        fs = key.split("/", 1)[1]
        function_status[fs] = function_status.get(fs, 0) + n
    data_version = finish_stage(context, gate, complete=not function_status.get("failed"), duration_s=duration,
                                stats={"function_status": function_status}, ai_usage=clf.usage.as_dict())
    return dg.MaterializeResult(data_version=data_version, metadata=FUNCTION_METADATA.emit({
        "jobs_classified": sum(per_industry.values()),
        "industries": len(per_industry),
        "jobs_per_industry": counts_table(per_industry, "industry"),
        "by_function_status": counts_table(function_status, "function status"),
        "model": clf.model_name,
        "prompt_version": clf.prompt_version,
        **_usage_metadata(clf.usage),
    }))


def _function_inputs(engine, feed_id: str, taxonomy: Taxonomy, industry: str, rows) -> list[FunctionInput]:
    """Stage 2 inputs for one group of `industry` rows, each with its posting's original title and text."""
    with engine.connect() as conn:
        originals = stages.get_deduped(conn, feed_id, {_first_member(r) for r in rows})
    taxonomy_key = function_stage_hash(taxonomy, industry)
    return [function_input(industry, r, originals.get(_first_member(r)), taxonomy_key) for r in rows]


def stage2_update(result: FunctionResult | EnrichmentFailure) -> dict[str, Any]:
    if isinstance(result, EnrichmentFailure):
        return {"job_key": result.job_key, "function_status": "failed", "function_error": result.error,
                "job_function": None, "function_confidence": None}
    if result.job_function == NO_FIT_FUNCTION:  # the classifier said none of the industry's functions fits
        return {"job_key": result.job_key, "function_status": "no_fit", "function_error": None,
                "job_function": None, "function_confidence": result.confidence}
    return {"job_key": result.job_key, "function_status": "ok", "function_error": None,
            "job_function": result.job_function, "function_confidence": result.confidence}
