"""Pass 1 dedupe: one job per role, re-clustering only the blocks whose postings changed since the last run.

A block's output depends only on its own postings, the pass 1 settings and the merged keys it handed out last
time, which are its own: so a block whose fingerprint (`core.dedupe.block_fingerprint`) is unchanged keeps its
rows, and the result equals a from-scratch run's.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.dedupe import DedupeConfig, DedupeStats, merge_block
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.versions import stage_input_version
from feed_pipeline.store import stages


def dedupe_settings(config: DedupeConfig) -> dict[str, Any]:
    """The settings pass 1's output depends on (the worker count does not change it)."""
    return {name: value for name, value in dataclasses.asdict(config).items() if name != "workers"}


def dedupe_feed(engine: sa.Engine, feed_id: str, run_id: str, config: DedupeConfig) -> DedupeStats:
    """Bring the feed's deduped_jobs up to date with its raw postings; the figures cover every block."""
    salt = stage_input_version(None, dedupe_settings(config))
    stats = DedupeStats()
    claimed: set[str] = set()  # merged keys handed out this run, so no key goes to two jobs

    def merge(block: list[JobRecord], previous: Mapping[str, str]) -> tuple[list[JobRecord], DedupeStats]:
        figures = DedupeStats()
        return merge_block(block, config, previous, claimed_keys=claimed, stats=figures), figures

    for figures in stages.replace_deduped_blocks(engine, feed_id, run_id, stages.iter_raw_blocks(engine, feed_id, salt),
                                                 merge):
        stats.absorb(figures)
    return stats
