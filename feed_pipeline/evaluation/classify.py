"""Both classification stages and routing for a list of JobRecords, as a run does them, with no cache or table.

The inputs, the stage 1 archive rule, the stage 2 grouping by industry and the routing are the pipeline's own
(`assets.enrich` builds the inputs and rows, `core.routing` routes): only the storage is left out, so what
`evaluate` measures is what a run would publish (pass 2's merge on the standardized title aside).
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feed_pipeline.core.enrichment import Classifier, Taxonomy
from feed_pipeline.core.evaluation import LABEL_RECORD_FIELDS
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.routing import RouteDecision, Thresholds, route_enriched_job
from feed_pipeline.core.taxonomy import deployment_taxonomy, function_stage_hash, industry_stage_hash, load_taxonomy
from feed_pipeline.pipeline.enrich import function_input, industry_input, stage1_row, stage2_update
from feed_pipeline.settings import Settings
from feed_pipeline.store.feeds import feed_taxonomy


def resolve_taxonomy(path: str | Path | None = None, *, engine=None, feed_id: str | None = None) -> Taxonomy:
    """The taxonomy an evaluation classifies with: `--taxonomy PATH` when given, else the one the feed's runs use
    (its own, else the deployment's, else the bundled one)."""
    if path is not None:
        return load_taxonomy(path)
    if engine is not None and feed_id is not None:
        return feed_taxonomy(engine, feed_id)
    return deployment_taxonomy(Settings.from_env().taxonomy_path)


def classify_records(clf: Classifier, taxonomy: Taxonomy, jobs: Sequence[JobRecord], *,
                     archive_below: float) -> list[dict[str, Any]]:
    """Stage 1 for every job, stage 2 (per industry) for those not archived: one enrichment row per job.

    The rows have the columns of the `enrichments` table (status, industry, industry_confidence,
    function_status, job_function, function_confidence, errors...). Job keys must be distinct.
    """
    by_key = {job.job_key: job for job in jobs}
    if len(by_key) != len(jobs):
        raise ValueError("classify_records needs distinct job keys")
    rows: dict[str, dict[str, Any]] = {}
    stage1_key = industry_stage_hash(taxonomy)
    for batch in clf.classify_industries([industry_input(job, stage1_key) for job in jobs]):
        for result in batch:
            rows[result.job_key] = stage1_row(by_key[result.job_key], result, clf.model_name, archive_below)
    by_industry: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows.values():
        if row["status"] == "ok":
            by_industry[row["industry"]].append(row)
    for industry, group in by_industry.items():
        stage2_key = function_stage_hash(taxonomy, industry)
        inputs = [function_input(industry, row, stage2_key, title=by_key[row["job_key"]].title,
                                 text=by_key[row["job_key"]].description) for row in group]
        for batch in clf.classify_functions(industry, taxonomy.functions_of(industry), inputs):
            for result in batch:
                rows[result.job_key].update(stage2_update(result))
    return [rows[job.job_key] for job in jobs]


def route_row(row: dict[str, Any], taxonomy: Taxonomy, thresholds: Thresholds) -> RouteDecision:
    """The route `routed_jobs` would give this enrichment row (no review decision applies)."""
    return route_enriched_job(
        enrichment_status=row["status"], enrichment_error=row.get("error"),
        industry_confidence=row.get("industry_confidence"), function_confidence=row.get("function_confidence"),
        function_status=row.get("function_status"), function_error=row.get("function_error"),
        taxonomy_valid=taxonomy.has_function(row.get("industry"), row.get("job_function")),
        thresholds=thresholds,
    )


def blind(job: JobRecord, label_field: str) -> JobRecord:
    """A copy of the job without its reference label, so no classifier (or a category hint) can read it."""
    if label_field in LABEL_RECORD_FIELDS:
        return dataclasses.replace(job, **{label_field: None})
    return dataclasses.replace(job, extra={k: v for k, v in job.extra.items() if k != label_field})
