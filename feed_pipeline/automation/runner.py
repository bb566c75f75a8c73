"""Run `feed_job` for one feed through Dagster (the same job the UI launches) and summarize the outcome."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import dagster as dg

from feed_pipeline.automation.health import describe_failure
from feed_pipeline.automation.jobs import FEED_JOB_NAME
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline.store.rows import utcnow

SUMMARY_COUNTS = ("raw", "closed", "invalid", "deduped", "approved", "manual_review", "archived", "failed")
SUMMARY_AI = ("calls", "input_tokens", "output_tokens", "cache_hits")
SUMMARY_MIRROR = ("added", "updated", "deleted", "unchanged")


def default_instance() -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME (created if missing), defaulting to `.dagster_home/` in the working directory.

    The environment is left as it is: a caller (a test, the API worker) may change directory afterwards.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(home))


def ensure_partition(instance: dg.DagsterInstance, feed_id: str) -> None:
    if not instance.has_dynamic_partition(feeds_partitions.name, feed_id):
        instance.add_dynamic_partitions(feeds_partitions.name, [feed_id])


def run_config_for(*, force: bool = False, allow_mass_delete: bool = False, log_level: str = "INFO") -> dict[str, Any]:
    ops: dict[str, Any] = {}
    if force:
        ops["raw_jobs"] = {"config": {"force": True}}
    if allow_mass_delete:
        ops["xano_mirror"] = {"config": {"allow_mass_delete": True}}
    config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if ops:
        config["ops"] = ops
    return config


def run_feed(
    defs: dg.Definitions, instance: dg.DagsterInstance, feed_id: str, *, database_url: str | None = None,
    force: bool = False, allow_mass_delete: bool = False, run_id: str | None = None, log_level: str = "INFO",
) -> dict[str, Any]:
    """Execute feed_job for the feed's partition in this process and return the run summary."""
    engine = engine_for(database_url)
    feed_store.get_feed(engine, feed_id)  # a clear error before Dagster starts for an unknown feed
    ensure_partition(instance, feed_id)
    started_at = utcnow()
    start = time.perf_counter()
    result = defs.resolve_job_def(FEED_JOB_NAME).execute_in_process(
        instance=instance, partition_key=feed_id, run_config=run_config_for(
            force=force, allow_mass_delete=allow_mass_delete, log_level=log_level),
        raise_on_error=False, run_id=run_id,
    )
    status = reports.SUCCESS if result.success else reports.FAILURE
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure or e.event_type_value == "RUN_FAILURE"]
        error = "; ".join(describe_failure(e) for e in failures) or "run failed"
    reports.record_run_outcome(engine, result.run_id, feed_id, status, started_at=started_at, error=error)
    return summarize(engine, feed_id, result.run_id, status, time.perf_counter() - start, error)


def summarize(engine, feed_id: str, run_id: str, status: str, duration_s: float, error: str | None = None) -> dict:
    """The per-feed JSON object `feed-pipeline run` prints (fields fixed by DESIGN.md)."""
    report = reports.get_report(engine, run_id) or {}
    counts = report.get("counts") or {}
    usage = report.get("ai_usage") or {}
    mirror = report.get("mirror") or {}
    summary = {
        "feed_id": feed_id,
        "status": status,
        "run_id": run_id,
        "duration_s": round(duration_s, 3),
        "counts": {k: int(counts.get(k, 0)) for k in SUMMARY_COUNTS},
        "ai": {k: int(usage.get(k, 0)) for k in SUMMARY_AI},
        "mirror": {k: int(mirror.get(k, 0)) for k in SUMMARY_MIRROR},
    }
    if error:
        summary["error"] = error
    return summary
