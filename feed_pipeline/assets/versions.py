"""Skip what did not change: each stage reads its upstream's version, does nothing when its input is the same as
last time (carrying its last figures into this run's report and metadata), and records what it ran on."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.core.versions import is_unchanged, stage_input_version, stage_output_version
from feed_pipeline.store.reports import report_stage
from feed_pipeline.store.stage_versions import StageVersion, get_stage_version, save_stage_version

SKIPPED_KEY = "skipped_unchanged"
# The keys a skipped stage adds to the metadata it carries (each stage's MetadataCatalog includes them).
SKIP_METADATA_DESCRIPTIONS = {
    SKIPPED_KEY: "true when this stage's input (its upstream's version and its settings) was the one it last "
                 "finished on, so it did nothing; the other figures are that run's",
    "figures_from_run": "the run whose work and figures a skipped stage carries",
}


@dataclass(frozen=True, slots=True)
class StageGate:
    """One stage's input version for one feed, and what the stage last ran on."""

    engine: sa.Engine
    feed_id: str
    stage: str
    input_version: str
    previous: StageVersion | None
    upstream_known: bool

    @property
    def last_run_finished(self) -> bool:
        """The stage's last run got to its end (complete or not): its table is whole, not half written. A finished
        run records its figures; `mark_working` records none."""
        return self.previous is not None and "counts" in self.previous.figures

    @property
    def unchanged(self) -> bool:
        previous = self.previous
        return self.upstream_known and previous is not None and is_unchanged(
            self.input_version, previous.input_version, previous.output_version)


def open_gate(engine: sa.Engine, feed_id: str, stage: str, *, upstream: str | None,
              settings: Mapping[str, Any], upstream_version: str | None = None) -> StageGate:
    """The gate of `stage`: its input is `upstream`'s recorded output (or `upstream_version` given) and `settings`."""
    if upstream is not None:
        record = get_stage_version(engine, feed_id, upstream)
        upstream_version = record.output_version if record else None
    return StageGate(engine, feed_id, stage, stage_input_version(upstream_version, settings),
                     get_stage_version(engine, feed_id, stage), upstream_known=upstream_version is not None)


def begin_stage(context: dg.AssetExecutionContext, gate: StageGate) -> dg.MaterializeResult | None:
    """The skipped result when the input is unchanged; otherwise None, after marking the stage as working, so a
    run that dies halfway leaves a version no later run matches (its table may be half written)."""
    if gate.unchanged:
        return skip_stage(context, gate)
    mark_working(context, gate)
    return None


def mark_working(context: dg.AssetExecutionContext, gate: StageGate) -> None:
    """Record that this run is rewriting the stage's table: until it finishes, no run may skip the stage."""
    save_stage_version(gate.engine, gate.feed_id, gate.stage, StageVersion(
        gate.input_version, stage_output_version(gate.input_version, complete=False, run_id=context.run_id),
        context.run_id, {}))


def finish_stage(
    context: dg.AssetExecutionContext, gate: StageGate, *, complete: bool, duration_s: float,
    counts: Mapping[str, int] | None = None, stats: Mapping[str, Any] | None = None,
    ai_usage: Mapping[str, Any] | None = None, mirror: Mapping[str, Any] | None = None, rewrote: bool = True,
) -> dg.DataVersion:
    """Report the stage's figures into the run's report and record the version it hands downstream.

    `rewrote=False` (raw_jobs finding its feed unchanged) keeps the version handed on last time when the stage
    had finished on this same input, so the stages after it can skip.
    """
    counts, stats = dict(counts or {}), dict(stats or {})
    report_stage(gate.engine, context.run_id, gate.feed_id, gate.stage, duration_s=duration_s, counts=counts,
                 stats=stats, ai_usage=dict(ai_usage or {}), mirror=dict(mirror or {}))
    if not rewrote and complete and gate.unchanged:
        output = gate.previous.output_version
    else:
        output = stage_output_version(gate.input_version, complete=complete, run_id=context.run_id)
    save_stage_version(gate.engine, gate.feed_id, gate.stage, StageVersion(
        gate.input_version, output, context.run_id,
        {"counts": counts, "stats": stats, "mirror": dict(mirror or {})}))
    return dg.DataVersion(output)


def skip_stage(context: dg.AssetExecutionContext, gate: StageGate) -> dg.MaterializeResult:
    """The stage's result when its input is unchanged: last run's figures, reported again, and no work."""
    previous = gate.previous
    assert previous is not None and gate.unchanged
    figures = previous.figures
    report_stage(gate.engine, context.run_id, gate.feed_id, gate.stage, duration_s=0.0,
                 counts=figures.get("counts") or {}, stats={**(figures.get("stats") or {}), SKIPPED_KEY: True},
                 mirror=figures.get("mirror") or {})
    context.log.info(f"feed {gate.feed_id}: {gate.stage} input unchanged since run {previous.run_id}; skipped")
    metadata = dict(_last_metadata(context))
    metadata[SKIPPED_KEY] = dg.MetadataValue.bool(True)
    metadata["figures_from_run"] = dg.MetadataValue.text(previous.run_id)
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(previous.output_version))


def _last_metadata(context: dg.AssetExecutionContext) -> Mapping[str, dg.MetadataValue]:
    """The metadata of this asset's last materialization for the partition (carried, so it stays true)."""
    record = context.instance.get_latest_data_version_record(context.asset_key, partition_key=context.partition_key)
    materialization = record.asset_materialization if record is not None else None
    if materialization is None:
        return {}
    return {k: v for k, v in materialization.metadata.items() if k not in (SKIPPED_KEY, "figures_from_run")}
