"""What each stage of a feed last ran on: the record that lets an unchanged stage skip its work."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feed_pipeline.store.rows import utcnow
from feed_pipeline.store.schema import dedupe_blocks, stage_versions


@dataclass(frozen=True, slots=True)
class StageVersion:
    input_version: str
    output_version: str
    run_id: str
    figures: dict[str, Any]


def get_stage_version(engine: sa.Engine, feed_id: str, stage: str) -> StageVersion | None:
    stmt = sa.select(stage_versions).where(stage_versions.c.feed_id == feed_id, stage_versions.c.stage == stage)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    return StageVersion(row["input_version"], row["output_version"], row["run_id"], dict(row["figures"] or {}))


def save_stage_version(engine: sa.Engine, feed_id: str, stage: str, version: StageVersion) -> None:
    """Replace the stage's record; written after the stage's own writes are committed."""
    values = {"input_version": version.input_version, "output_version": version.output_version,
              "run_id": version.run_id, "figures": version.figures, "updated_at": utcnow()}
    with engine.begin() as conn:
        updated = conn.execute(stage_versions.update().where(
            stage_versions.c.feed_id == feed_id, stage_versions.c.stage == stage).values(**values)).rowcount
        if not updated:
            conn.execute(stage_versions.insert().values(feed_id=feed_id, stage=stage, **values))


def forget_stage_versions(engine: sa.Engine, feed_id: str, stages: tuple[str, ...] | None = None) -> None:
    """Make the next run of these stages (all by default) do their work, e.g. before reprocessing a feed; pass 1
    then also clusters every block again."""
    stmt = stage_versions.delete().where(stage_versions.c.feed_id == feed_id)
    if stages is not None:
        stmt = stmt.where(stage_versions.c.stage.in_(stages))
    with engine.begin() as conn:
        conn.execute(stmt)
        if stages is None or "deduped_jobs" in stages:
            conn.execute(dedupe_blocks.delete().where(dedupe_blocks.c.feed_id == feed_id))
