"""AI stages 1 and 2 over the feed's deduped jobs, and the pass 2 merge on the standardized title.

Both stages look every job up in the enrichment cache first and write each AI batch (cache and table) the moment
it arrives, so a rerun of an unchanged feed makes no calls and a run killed halfway resumes with only the rest.

Each stage's cache key is what that stage used: the job's input, the stage's own prompt version, and the part of
the feed's taxonomy it was asked about (stage 1: the industries; stage 2: the job's industry's functions). Editing
one industry's functions re-asks only that industry's stage 2; paid stage 1 answers stay.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.dates import TEXT_DATE_ORDER
from feed_pipeline.core.dedupe import DedupeConfig, ai_block_key, merge_enriched_block
from feed_pipeline.core.enrichment import NO_FIT_FUNCTION, Classifier, EnrichmentFailure, FunctionInput, FunctionResult

# isort: split
from feed_pipeline.core.enrichment import IndustryInput, IndustryResult, Taxonomy
from feed_pipeline.core.identity import digest
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.prompts import (
    function_input_hash,
    function_result_from_json,
    industry_input_hash,
    industry_result_from_json,
    result_to_json,
)
from feed_pipeline.core.routing import is_valid_confidence
from feed_pipeline.core.stage1_sources import job_source, plan_stage1, row_source
from feed_pipeline.core.taxonomy import function_stage_hash
from feed_pipeline.store import stages
from feed_pipeline.store.cache import get_cached, put_cached
from feed_pipeline.store.rows import batched
from feed_pipeline.store.schema import enrichments

INDUSTRY_STAGE, FUNCTION_STAGE = "industry", "function"
CHUNK_JOBS = 4000  # jobs looked up in the cache and handed to the classifier at a time (in batches)
PASS2_BATCH = 500  # jobs of multi-job pass 2 groups fetched in one query


@dataclass(frozen=True, slots=True)
class IndustryOutcome:
    """What stage 1 and pass 2 did: statuses before and after the merge and the merge's figures (the whole feed's),
    the jobs answered again this run and the rows kept from the last."""

    before_pass2: dict[str, int]
    statuses: dict[str, int]
    merged_away: int
    groups: int
    answered: int = 0
    kept_rows: int = 0


@dataclass(slots=True)
class FunctionOutcome:
    """What stage 2 did: the feed's stage 2 jobs per industry, how many were answered this run, and every job's
    function status after it."""

    per_industry: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    function_status: dict[str, int] = field(default_factory=dict)


def enrich_industries(engine: sa.Engine, feed_id: str, clf: Classifier, *, taxonomy_key: str, category_hint: bool,
                      date_order: str, archive_below: float, dedupe_config: DedupeConfig, salt: str,
                      incremental: bool) -> IndustryOutcome:
    """Stage 1 (from the cache where it can), then pass 2.

    `salt` names the settings the answers and merges depend on. With `incremental` (the stage last finished on this
    feed, so its table is whole), only the jobs whose rows no longer match their sources and the pass 2 groups they
    leave or join are redone (`core.stage1_sources`); otherwise every job is.
    """
    stage1 = _Stage1(engine, feed_id, clf, taxonomy_key, category_hint, date_order, archive_below, salt)
    if incremental:
        kept, blocks = _redo_changed(engine, feed_id, stage1)
    else:
        kept, blocks = 0, None
        with engine.begin() as conn:
            stages.reset_enrichments(conn, feed_id)
        for chunk in stages.iter_deduped(engine, feed_id, chunk=CHUNK_JOBS):
            stage1.answer(chunk)
    merge_on_ai_title(engine, feed_id, dedupe_config, archive_below, blocks)
    before, merged_away, groups = stages.pass2_totals(engine, feed_id)
    return IndustryOutcome(before, status_totals(stages.enrichment_summary(engine, feed_id)), merged_away, groups,
                           answered=stage1.answered, kept_rows=kept)


@dataclass(slots=True)
class _Stage1:
    """Answers stage 1 for chunks of deduped jobs and writes their rows (before pass 2), each with its source."""

    engine: sa.Engine
    feed_id: str
    clf: Classifier
    taxonomy_key: str
    category_hint: bool
    date_order: str
    archive_below: float
    salt: str
    answered: int = 0

    def answer(self, chunk: list[tuple[JobRecord, str | None]]) -> set[str]:
        """Answer and write `chunk` ((job, row digest) pairs); returns the pass 2 groups of its rows."""
        by_key = {job.job_key: (job, row_hash) for job, row_hash in chunk}
        blocks: set[str] = set()
        clf = self.clf

        def save(batch, fresh):
            rows = []
            for result in batch:
                job, row_hash = by_key[result.job_key]
                row = stage1_row(job, result, clf.model_name, self.archive_below)
                row["source_hash"] = job_source(self.salt, job.job_key, row_hash)
                blocks.add(row["ai_block_key"])
                rows.append(row)
            with self.engine.begin() as conn:
                put_cached(conn, INDUSTRY_STAGE, clf.model_name, stage_prompt_version(clf, INDUSTRY_STAGE), fresh)
                stages.write_enrichments(conn, rows)

        inputs = [industry_input(job, self.taxonomy_key, category_hint=self.category_hint, date_order=self.date_order)
                  for job, _ in chunk]
        _classify_with_cache(self.engine, clf, INDUSTRY_STAGE, inputs, clf.classify_industries,
                             industry_result_from_json, save)
        self.answered += len(chunk)
        blocks.discard("")
        return blocks


def _redo_changed(engine: sa.Engine, feed_id: str, stage1: _Stage1) -> tuple[int, set[str]]:
    """Redo stage 1 for the jobs whose rows are stale and for the merged jobs of the pass 2 groups they leave or
    join; returns (rows kept, the groups pass 2 must merge again)."""
    plan = plan_stage1(stage1.salt, stages.deduped_row_hashes(engine, feed_id),
                       stages.iter_enrichment_sources(engine, feed_id))
    with engine.begin() as conn:
        stages.delete_enrichments(conn, feed_id, plan.stale_rows)
    blocks: set[str] = set()
    frontier, todo, written = set(plan.blocks), set(plan.redo), set()
    taken = 0
    while todo or frontier:
        # A group some job leaves or joins is merged again from its jobs' own answers: take its merged rows apart
        # (a row pass 2 left alone already is one).
        with engine.begin() as conn:
            rows, members = stages.take_enrichment_blocks(conn, feed_id, frontier, keep=written)
        taken += rows
        todo |= members
        blocks |= frontier
        found: set[str] = set()
        for chunk in stages.iter_deduped(engine, feed_id, chunk=CHUNK_JOBS, job_keys=todo - written):
            found |= stage1.answer(chunk)
            written.update(job.job_key for job, _ in chunk)
        todo, frontier = set(), found - blocks
    return plan.kept_rows - taken, blocks


def enrich_functions(engine: sa.Engine, feed_id: str, clf: Classifier, taxonomy: Taxonomy) -> FunctionOutcome:
    """Stage 2 for the jobs stage 1 kept that have no current answer, one request group per industry (from the cache
    where it can).

    Each answer records the stage 2 settings of its industry (`function_source`). A row stage 1 rewrote has none,
    so a rerun answers only those, the failed ones, and every row of an industry whose functions or prompt changed.
    """
    outcome = FunctionOutcome()
    for industry, jobs in stages.enrichment_industries(engine, feed_id).items():
        outcome.per_industry[industry] = jobs
        functions = taxonomy.functions_of(industry)
        taxonomy_key = function_stage_hash(taxonomy, industry)
        settings = function_settings(clf, taxonomy_key)
        stale = sa.or_(enrichments.c.function_source.is_(None), enrichments.c.function_source != settings,
                       enrichments.c.function_status == "failed")
        where = sa.and_(enrichments.c.status == "ok", enrichments.c.industry == industry, stale)
        for rows in stages.iter_enrichment_groups(engine, feed_id, "industry", where=where, max_group=CHUNK_JOBS):
            outcome.answered += len(rows)
            inputs = function_inputs(engine, feed_id, taxonomy_key, industry, rows)

            def save(batch, fresh, settings=settings):
                with engine.begin() as conn:
                    put_cached(conn, FUNCTION_STAGE, clf.model_name, stage_prompt_version(clf, FUNCTION_STAGE), fresh)
                    stages.update_enrichments(conn, feed_id, [
                        dict(stage2_update(r), function_source=settings) for r in batch])

            _classify_with_cache(
                engine, clf, FUNCTION_STAGE, inputs,
                lambda misses, industry=industry, functions=functions: clf.classify_functions(
                    industry, functions, misses),
                function_result_from_json, save,
            )
    outcome.function_status = status_totals(stages.enrichment_summary(engine, feed_id), part=1)
    return outcome


def function_settings(clf: Classifier, taxonomy_key: str) -> str:
    """What a stage 2 answer in one industry depends on besides its row: the model, its prompt and the industry's
    functions (`function_stage_hash`)."""
    return digest("stage2", clf.model_name, stage_prompt_version(clf, FUNCTION_STAGE), taxonomy_key)


def answer_violations(engine: sa.Engine, feed_id: str, taxonomy: Taxonomy) -> tuple[int, list[tuple[str, str]]]:
    """(answers checked, (job key, what is wrong) for each stage 1 answer outside the taxonomy or [0, 1])."""
    stmt = sa.select(enrichments.c.job_key, enrichments.c.industry, enrichments.c.industry_confidence).where(
        enrichments.c.feed_id == feed_id, enrichments.c.status != "failed")
    bad: list[tuple[str, str]] = []
    checked = 0
    with engine.connect() as conn:
        for key, industry, confidence in conn.execute(stmt):
            checked += 1
            if not taxonomy.has_industry(industry):
                bad.append((key, f"industry {industry!r} not in the taxonomy"))
            elif not is_valid_confidence(confidence):
                bad.append((key, f"confidence {confidence!r} outside [0, 1]"))
    return checked, bad


def industry_input(job: JobRecord, taxonomy_key: str, *, category_hint: bool = False,
                   date_order: str = TEXT_DATE_ORDER) -> IndustryInput:
    """Stage 1 input; `taxonomy_key` is industry_stage_hash of the feed's taxonomy, `category_hint` the feed's
    choice to pass the publisher's own category along, `date_order` its day/month order (feed_date_order)."""
    inp = IndustryInput(job_key=job.job_key, title=job.title, company=job.company, description=job.description,
                        locations=tuple(job.locations), employment_type=job.employment_type, tags=tuple(job.tags),
                        category_hint=(job.category or "").strip() if category_hint else "", date_order=date_order)
    return dataclasses.replace(inp, input_hash=industry_input_hash(inp, taxonomy_key=taxonomy_key))


def function_input(industry: str, row, taxonomy_key: str, *, title: str, text: str) -> FunctionInput:
    """Stage 2 input: the stage 1 fields of enrichment `row` and the original `title` and `text` of its posting (the
    merged job's first member, as routing publishes it); `taxonomy_key` is function_stage_hash for `industry`."""
    inp = FunctionInput(job_key=row["job_key"], ai_title=row["ai_title"] or "",
                        ai_description=row["ai_description"] or "", skills=tuple(row["skills"] or ()),
                        title=title, text=text)
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


def status_totals(summary: dict[str, int], part: int = 0) -> dict[str, int]:
    """Counts by stage 1 status (`part` 0) or stage 2 status (1) from enrichment_summary's "status/function
    status" keys."""
    totals: dict[str, int] = {}
    for key, n in summary.items():
        status = key.split("/", 1)[part]
        totals[status] = totals.get(status, 0) + n
    return totals


def merge_on_ai_title(engine, feed_id: str, dedupe_config: DedupeConfig, archive_below: float,
                      blocks: set[str] | None = None) -> None:
    """Pass 2: jobs whose standardized titles agree (same company and type, similar text) become one, over every
    group or only `blocks` (their rows must be stage 1's, before any merge). Groups are read in order and their
    jobs fetched PASS2_BATCH keys at a time (one query, not one per group)."""
    claimed: set[str] = set()
    where = sa.and_(enrichments.c.status != "failed", enrichments.c.ai_block_key != "")
    pending: list[list] = []
    with engine.begin() as conn:

        def flush() -> None:
            jobs = stages.get_deduped(conn, feed_id, [r["job_key"] for rows in pending if len(rows) > 1 for r in rows])
            replaced: list[str] = []
            rows_out: list[dict[str, Any]] = []
            for rows in pending:
                if len(rows) < 2:
                    claimed.update(r["job_key"] for r in rows)
                    continue
                row_of = {r["job_key"]: r for r in rows}
                items = [(jobs[k], _industry_result(r)) for k, r in row_of.items() if k in jobs]
                for job, result, merged_keys in merge_enriched_block(items, dedupe_config, claimed_keys=claimed,
                                                                      singletons=False):
                    replaced.extend(merged_keys)
                    row = _merged_row(feed_id, job, result, merged_keys, row_of[min(merged_keys)], archive_below)
                    row["source_hash"] = row_source(row_of[k]["source_hash"] or "" for k in merged_keys)
                    rows_out.append(row)
            stages.delete_enrichments(conn, feed_id, replaced)
            stages.write_enrichments(conn, rows_out)
            pending.clear()

        if blocks is None:
            groups = stages.iter_enrichment_groups(engine, feed_id, "ai_block_key", where=where)
        else:
            groups = (rows for chunk in batched(sorted(blocks), PASS2_BATCH)
                      for rows in stages.iter_enrichment_groups(
                          engine, feed_id, "ai_block_key", where=sa.and_(where, enrichments.c.ai_block_key.in_(chunk))))
        waiting = 0
        for rows in groups:
            pending.append(rows)
            waiting += len(rows) if len(rows) > 1 else 0
            if waiting >= PASS2_BATCH:
                flush()
                waiting = 0
        flush()


def _merged_row(feed_id: str, job: JobRecord, result: IndustryResult, merged_keys: list[str], base,
                archive_below: float) -> dict[str, Any]:
    """The enrichment row of a pass 2 merge: the merged job, the best-supported stage 1 answer."""
    archived = is_valid_confidence(result.confidence) and result.confidence < archive_below
    return {"feed_id": feed_id, "job_key": job.job_key, "merged_keys": sorted(merged_keys),
            "ai_block_key": base["ai_block_key"], "locations": job.locations,
            "is_multi_location": job.is_multi_location, "content_hash": job.content_hash, "model": base["model"],
            "status": "archived" if archived else "ok", "function_status": "skipped" if archived else None,
            **_industry_columns(result)}


def _industry_result(row) -> IndustryResult:
    return IndustryResult(
        job_key=row["job_key"], industry=row["industry"], confidence=row["industry_confidence"],
        ai_title=row["ai_title"] or "", ai_description=row["ai_description"] or "",
        skills=tuple(row["skills"] or ()), tech_stack=tuple(row["tech_stack"] or ()), seniority=row["seniority"],
        remote_policy=row["remote_policy"], application_deadline=row["application_deadline"],
    )


def function_inputs(engine, feed_id: str, taxonomy_key: str, industry: str, rows) -> list[FunctionInput]:
    """Stage 2 inputs for one group of `industry` rows, each with its posting's original title and text;
    `taxonomy_key` is function_stage_hash for `industry`."""
    with engine.connect() as conn:
        originals = stages.deduped_titles_and_texts(conn, feed_id, {_first_member(r) for r in rows})
    return [function_input(industry, r, taxonomy_key, title=title, text=text)
            for r in rows for title, text in [originals.get(_first_member(r), ("", ""))]]


def stage2_update(result: FunctionResult | EnrichmentFailure) -> dict[str, Any]:
    if isinstance(result, EnrichmentFailure):
        return {"job_key": result.job_key, "function_status": "failed", "function_error": result.error,
                "job_function": None, "function_confidence": None}
    if result.job_function == NO_FIT_FUNCTION:  # the classifier said none of the industry's functions fits
        return {"job_key": result.job_key, "function_status": "no_fit", "function_error": None,
                "job_function": None, "function_confidence": result.confidence}
    return {"job_key": result.job_key, "function_status": "ok", "function_error": None,
            "job_function": result.job_function, "function_confidence": result.confidence}
