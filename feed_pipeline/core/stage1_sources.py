"""Which stage 1 rows are still true of the feed's deduped jobs, so a rerun redoes only what changed.

Every enrichment row records what it was made from (`source_hash`): stage 1's settings and the digest of each deduped
job it stands for (one job, or the jobs pass 2 merged into it). A row whose sources are unchanged is kept. The jobs
of every other row, and the jobs that have no row yet, get their stage 1 answer again (from the cache, where the
input is unchanged), and pass 2 merges again every group (`ai_block_key`) that such a job left or joins.

This equals a from-scratch run because a pass 2 group's result depends only on its own jobs' rows and answers: the
merged key of a cluster is its smallest member key (`assign_merged_keys` without history), and the members of two
groups never overlap.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from feed_pipeline.core.identity import digest


def job_source(salt: str, job_key: str, row_hash: str | None) -> str:
    """What stage 1 made one deduped job's answer from: its settings (`salt`) and the job's stored digest."""
    return digest("stage1", salt, job_key, row_hash or "")


def row_source(member_sources: Iterable[str]) -> str:
    """The source of an enrichment row from its jobs' sources: a single job's own, or a digest of a merge's."""
    sources = sorted(member_sources)
    return sources[0] if len(sources) == 1 else digest("merged", *sources)


class EnrichmentSource(NamedTuple):
    """What the planner reads of one stored enrichment row."""

    job_key: str
    merged_keys: list[str]
    ai_block_key: str
    status: str
    source_hash: str | None


@dataclass(slots=True)
class Stage1Plan:
    """`redo`: deduped jobs to answer again; `stale_rows`: enrichment rows to delete; `blocks`: the pass 2 groups
    those rows were in (merged again with whatever their jobs' new answers join)."""

    redo: set[str] = field(default_factory=set)
    stale_rows: list[str] = field(default_factory=list)
    blocks: set[str] = field(default_factory=set)
    kept_rows: int = 0


def plan_stage1(salt: str, current: Mapping[str, str | None], rows: Iterable[EnrichmentSource]) -> Stage1Plan:
    """Compare the stored rows with the deduped jobs as they are now (`current`: job key -> row digest).

    A row is stale when a job it stands for is gone or changed, when it was made under other settings, when it has
    no recorded source (written before sources were kept), or when stage 1 failed for it (asked again every run).
    """
    plan = Stage1Plan()
    covered: set[str] = set()
    for row in rows:
        members = row.merged_keys or [row.job_key]
        trusted = (row.status != "failed" and row.source_hash is not None
                   and all(current.get(m) is not None for m in members)
                   and row.source_hash == row_source(job_source(salt, m, current[m]) for m in members))
        if trusted:
            covered.update(members)
            plan.kept_rows += 1
            continue
        plan.stale_rows.append(row.job_key)
        if row.ai_block_key:
            plan.blocks.add(row.ai_block_key)
    plan.redo = {key for key in current if key not in covered}
    return plan
