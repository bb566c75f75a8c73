"""Run `feed_job` for one feed through Dagster (the same job the UI launches) and summarize the outcome."""
from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from feed_pipeline.automation.health import record_finished_run
from feed_pipeline.automation.jobs import FEED_JOB_NAME
from feed_pipeline.core.run_outcome import partial_reasons
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import engine_for
from feed_pipeline.resources.run_scope import refused_by_lease, step_failures
from feed_pipeline.settings import Settings
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports

SUMMARY_COUNTS = ("raw", "closed", "invalid", "deduped", "approved", "manual_review", "archived", "failed")
SUMMARY_AI = ("calls", "input_tokens", "output_tokens", "cache_hits")
SUMMARY_MIRROR = ("added", "updated", "deleted", "unchanged")
# `feed-pipeline run` exit status per outcome (README.md, docs/operations.md); usage errors exit 2 (click).
EXIT_CODES = {reports.SUCCESS: 0, reports.FAILED: 1, reports.CANCELED: 1, reports.PARTIAL: 3}
LOCAL_INSTANCE_CONFIG = Path(__file__).with_name("dagster_local.yaml")  # the repo's dagster.yaml links here


def default_instance() -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME (created if missing), defaulting to `.dagster_home/` in the working directory.

    A home without a dagster.yaml gets the local instance's (telemetry off, run monitoring, retries), the one
    `make dev` uses, so the CLI, the API and the UI share one instance. The environment is left as it is: a
    caller (a test, the API worker) may change directory afterwards.
    """
    home = Path(Settings.from_env().dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    with _exclusive(home / ".instance.lock"):
        if not (home / "dagster.yaml").exists():
            shutil.copyfile(LOCAL_INSTANCE_CONFIG, home / "dagster.yaml")
        instance = dg.DagsterInstance.from_config(str(home))
        # Create (or migrate) the SQLite storages now, one process at a time: two `feed-pipeline run` started
        # together on a new home would otherwise race to create the same tables.
        instance.run_storage, instance.event_log_storage, instance.schedule_storage  # noqa: B018
    return instance


@contextmanager
def _exclusive(lock_path: Path):
    """An inter-process lock on `lock_path` (POSIX flock; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:  # Windows has no flock: there, start the first run on a new home alone
        yield
        return
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def exit_code(statuses: list[str]) -> int:
    """The worst outcome decides: any failed (or canceled) run 1, else any partial run 3, else 0."""
    codes = {EXIT_CODES.get(status, 1) for status in statuses}
    return 1 if 1 in codes else 3 if 3 in codes else 0


def ensure_partition(instance: dg.DagsterInstance, feed_id: str) -> None:
    """Add the feed's partition once, even when two processes start the same new feed together."""
    if instance.has_dynamic_partition(feeds_partitions.name, feed_id):
        return
    try:
        instance.add_dynamic_partitions(feeds_partitions.name, [feed_id])
    except Exception:
        # The other process inserted it between our check and our insert (a unique-key error): that is success.
        if not instance.has_dynamic_partition(feeds_partitions.name, feed_id):
            raise


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
    """Execute feed_job for the feed's partition in this process and return the run summary.

    The run records its own outcome (resources/run_scope.py); recording it here too covers a run that failed
    before its stages began, and changes nothing otherwise. A run refused by the feed's lease wrote nothing:
    its summary says `failed` with "feed X is already running (run <id>)".
    """
    engine = engine_for(database_url)
    feed_store.get_feed(engine, feed_id)  # a clear error before Dagster starts for an unknown feed
    ensure_partition(instance, feed_id)
    start = time.perf_counter()
    result = defs.resolve_job_def(FEED_JOB_NAME).execute_in_process(
        instance=instance, partition_key=feed_id, run_config=run_config_for(
            force=force, allow_mass_delete=allow_mass_delete, log_level=log_level),
        raise_on_error=False, run_id=run_id,
    )
    duration = time.perf_counter() - start
    refusal = refused_by_lease(instance, result.run_id)
    if refusal:
        return summarize(engine, feed_id, result.run_id, reports.FAILED, duration, refusal)
    record_finished_run(instance, instance.get_run_by_id(result.run_id), engine)
    report = reports.get_report(engine, result.run_id)
    if report is None:  # the database itself failed: say why from the run's events
        error = "; ".join(str(f) for f in step_failures(instance, result.run_id)) or "run failed"
        return summarize(engine, feed_id, result.run_id, reports.FAILED, duration, error)
    return summarize(engine, feed_id, result.run_id, report["status"], duration, report["error"])


def summarize(engine, feed_id: str, run_id: str, status: str, duration_s: float, error: str | None = None) -> dict:
    """The per-feed JSON object `feed-pipeline run` prints (fields fixed by DESIGN.md), plus `error` (the root
    cause) for a failed run and `reasons` (what was left undone) for a partial one."""
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
    if status == reports.PARTIAL:
        summary["reasons"] = partial_reasons(report)
    elif error:
        summary["error"] = error
    return summary
