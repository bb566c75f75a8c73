"""Execution reports (one row per run) and the feed health they roll up into."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.run_outcome import CANCELED, FAILED, PARTIAL, STARTED, SUCCESS
from feed_pipeline.store.rows import as_utc, utcnow
from feed_pipeline.store.schema import execution_reports, feeds

__all__ = ["CANCELED", "FAILED", "PARTIAL", "STARTED", "SUCCESS", "close_stale_reports", "get_report", "list_reports",
           "open_report", "previous_successful_report", "record_run_outcome", "report_stage"]


def _ensure_report(conn: sa.Connection, run_id: str, feed_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(execution_reports).where(execution_reports.c.run_id == run_id)).mappings().first()
    if row is not None:
        return dict(row)
    values = {"run_id": run_id, "feed_id": feed_id, "status": STARTED, "started_at": utcnow(), "stages": {},
              "counts": {}, "ai_usage": {}, "mirror": {}}
    conn.execute(execution_reports.insert().values(**values))
    return values


def open_report(engine: sa.Engine, run_id: str, feed_id: str) -> None:
    """The run's report, `started`, from its first moment: a run that dies before any stage reports still shows."""
    with engine.begin() as conn:
        _ensure_report(conn, run_id, feed_id)


def close_stale_reports(engine: sa.Engine, feed_id: str, current_run_id: str) -> list[str]:
    """Close as failed the feed's reports still `started` by earlier runs; returns their run ids.

    Only the holder of the feed's lease calls this: no other run of the feed is alive then, so a report still
    `started` belongs to a run whose process died (killed, out of memory, machine lost).
    """
    stmt = sa.select(execution_reports.c.run_id).where(
        execution_reports.c.feed_id == feed_id, execution_reports.c.status == STARTED,
        execution_reports.c.health_recorded.is_(False), execution_reports.c.run_id != current_run_id)
    with engine.connect() as conn:
        stale = list(conn.execute(stmt).scalars())
    for run_id in stale:
        record_run_outcome(engine, run_id, feed_id, FAILED, error=(
            f"run {run_id} stopped before it finished (its process died or was killed); closed by run "
            f"{current_run_id}"), duration_known=False)
    return stale


def report_stage(
    engine: sa.Engine, run_id: str, feed_id: str, stage: str, *, duration_s: float,
    stats: dict[str, Any] | None = None, counts: dict[str, int] | None = None,
    ai_usage: dict[str, Any] | None = None, mirror: dict[str, Any] | None = None,
) -> None:
    """Merge one stage's figures into the run's report (created on first use)."""
    with engine.begin() as conn:
        report = _ensure_report(conn, run_id, feed_id)
        stages = dict(report["stages"] or {})
        stages[stage] = {"duration_s": round(duration_s, 3), **(stats or {})}
        merged_counts = dict(report["counts"] or {}, **(counts or {}))
        usage = dict(report["ai_usage"] or {})
        for key, value in (ai_usage or {}).items():
            usage[key] = usage.get(key, 0) + value if isinstance(value, int | float) and not isinstance(
                value, bool) else value
        conn.execute(
            execution_reports.update()
            .where(execution_reports.c.run_id == run_id)
            .values(stages=stages, counts=merged_counts, ai_usage=usage,
                    mirror=dict(report["mirror"] or {}, **(mirror or {})))
        )


def record_run_outcome(
    engine: sa.Engine, run_id: str, feed_id: str, status: str, *, started_at: datetime | None = None,
    finished_at: datetime | None = None, error: str | None = None, duration_known: bool = True,
) -> bool:
    """Close the run's report and fold it into the feed's health, exactly once per run.

    Called at the end of the run itself (resources/run_scope.py), by the run status sensors and by the CLI;
    whichever comes second changes nothing. Returns whether this call recorded the health.
    """
    finished_at = finished_at or utcnow()
    with engine.begin() as conn:
        report = _ensure_report(conn, run_id, feed_id)
        started = as_utc(started_at) or as_utc(report["started_at"])
        duration = max(0.0, (finished_at - started).total_seconds()) if started and duration_known else None
        claimed = conn.execute(
            execution_reports.update()
            .where(execution_reports.c.run_id == run_id, execution_reports.c.health_recorded.is_(False))
            .values(status=status, started_at=started, finished_at=finished_at, duration_s=duration,
                    error=error, health_recorded=True)
        ).rowcount
        if not claimed:
            return False
        feed = conn.execute(sa.select(feeds).where(feeds.c.id == feed_id)).mappings().first()
        if feed is None:
            return True
        runs = feed["run_count"] or 0
        avg = feed["avg_processing_time_s"]
        if duration is not None:
            avg = duration if avg is None or runs == 0 else (avg * runs + duration) / (runs + 1)
        # A partial run did its work and published; only failed and canceled runs extend the failure streak.
        failures = 0 if status in (SUCCESS, PARTIAL) else (feed["consecutive_failure_count"] or 0) + 1
        conn.execute(
            feeds.update().where(feeds.c.id == feed_id).values(
                last_run_id=run_id, last_run_at=finished_at, last_run_status=status, run_count=runs + 1,
                avg_processing_time_s=avg, consecutive_failure_count=failures, updated_at=utcnow(),
            )
        )
        return True


def get_report(engine: sa.Engine, run_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(execution_reports).where(execution_reports.c.run_id == run_id)).mappings().first()
    return dict(row) if row else None


def list_reports(engine: sa.Engine, feed_id: str, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    stmt = (
        sa.select(execution_reports)
        .where(execution_reports.c.feed_id == feed_id)
        .order_by(execution_reports.c.started_at.desc(), execution_reports.c.run_id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def previous_successful_report(engine: sa.Engine, feed_id: str, before_run_id: str) -> dict[str, Any] | None:
    """The last successful run before this one, for the shrink and duplicate-rate warnings."""
    stmt = (
        sa.select(execution_reports)
        .where(execution_reports.c.feed_id == feed_id, execution_reports.c.run_id != before_run_id,
               execution_reports.c.status == SUCCESS)
        .order_by(execution_reports.c.started_at.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None
