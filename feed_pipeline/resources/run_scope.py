"""What every run of a feed partition does around its stages, whatever launched it (feed_job, the asset graph's
__ASSET_JOB, a backfill, the CLI, the API, a sensor), and how a finished run is described from Dagster's events.

The database resource opens a `FeedRunScope` when Dagster sets it up for a run and closes it at teardown. With
the in-process executor (the Definitions' default and feed_job's) that is once per run, before the first step
and after the last:
- open: take the feed's lease (store/leases.py; a second run fails here, before any write, with "feed X is
  already running (run <id>)"), open the run's execution report, and close the reports that dead runs of the
  feed left `started` (and their Dagster runs, if still marked in progress);
- close: judge the run from its failed steps and its report (core/run_outcome.py), record the outcome and the
  feed's health once, give the lease back.
The run status sensors (automation/health.py) and the CLI record runs that never reached `close` (a worker
killed, a resource that failed to start) with the same functions; the report's claim makes it exactly once.
"""
from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from typing import TYPE_CHECKING

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.core.run_outcome import StepFailure, judge_run
from feed_pipeline.store import leases, reports

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

log = logging.getLogger(__name__)

PARTITION_TAG = "dagster/partition"
# Dagster's own wrappers around a user error: the cause underneath is what the operator needs to read.
_WRAPPER_CLASSES = ("RetryRequestedFromPolicy", "RetryRequested")
_QUALIFIED_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)+[A-Za-z_]\w*: ")
MAX_CAUSE_CHARS = 600


def _is_wrapper(error: SerializableErrorInfo) -> bool:
    return error.cls_name is not None and (error.cls_name.startswith("Dagster") or error.cls_name in _WRAPPER_CLASSES)


def root_cause(error: SerializableErrorInfo | None) -> str | None:
    """The innermost error that is not one of Dagster's wrappers, as `message` (our and Dagster's exception
    classes) or `Class: message` (builtins like KeyError, whose class is part of the meaning)."""
    chain = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    if not chain:
        return None
    own = [e for e in chain if not _is_wrapper(e)]
    chosen = own[-1] if own else chain[-1]
    message = _QUALIFIED_PREFIX.sub("", (chosen.message or "").strip())
    return (message or chosen.cls_name or "unknown error")[:MAX_CAUSE_CHARS]


def _check_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """`check NAME on ASSET failed: why` for every failed blocking (ERROR severity) check of the run."""
    described = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        figures = ", ".join(f"{k}={v.value}" for k, v in evaluation.metadata.items()
                            if isinstance(v, dg.IntMetadataValue | dg.FloatMetadataValue | dg.TextMetadataValue)
                            and len(str(v.value)) < 80)  # numbers and short words, not tables
        why = evaluation.description or figures or "see the check's metadata"
        described.append(f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed: {why}")
    return described


def step_failures(instance: dg.DagsterInstance, run_id: str) -> list[StepFailure]:
    """The run's failed steps with their root causes; a run that failed outside any step (a resource that did
    not start, a worker that died) gives one `run` entry with Dagster's reason."""
    failures = []
    checks: list[str] | None = None
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        error = event.step_failure_data.error if event.step_failure_data else None
        if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
            checks = _check_failures(instance, run_id) if checks is None else checks
            cause = "; ".join(checks) or root_cause(error)
        else:
            cause = root_cause(error) or event.message or "failed"
        failures.append(StepFailure(event.step_key or "run", cause))
    if failures:
        return failures
    for record in instance.all_logs(run_id, of_type={dg.DagsterEventType.RUN_FAILURE,
                                                     dg.DagsterEventType.RESOURCE_INIT_FAILURE}):
        event = record.dagster_event
        error = getattr(event.event_specific_data, "error", None)
        cause = root_cause(error) or (event.message or "").strip() or "run failed"
        if all(f.cause != cause for f in failures):
            failures.append(StepFailure("run", cause))
    return failures


def refused_by_lease(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The "feed X is already running" message when the feed's lease refused this run (which then wrote nothing)."""
    for record in instance.all_logs(run_id, of_type={dg.DagsterEventType.RESOURCE_INIT_FAILURE,
                                                     dg.DagsterEventType.RUN_FAILURE}):
        error = getattr(record.dagster_event.event_specific_data, "error", None)
        while error is not None:
            if error.cls_name == leases.FeedBusyError.__name__:
                return root_cause(error)
            error = error.cause or error.context
    return None


def judge_finished_run(instance: dg.DagsterInstance, run_id: str, engine: sa.Engine) -> tuple[str, str | None]:
    """(status, error) of a run whose steps are all over, from its events and its execution report."""
    report = reports.get_report(engine, run_id) or {}
    return judge_run(report, step_failures(instance, run_id))


def feed_of(run: dg.DagsterRun | None) -> str | None:
    return run.tags.get(PARTITION_TAG) if run is not None else None


class FeedRunScope:
    """The lease and the report of one run of one feed, from before its first stage to after its last."""

    def __init__(self, engine: sa.Engine, instance: dg.DagsterInstance, run_id: str, feed_id: str, *,
                 lease_ttl_s: float = leases.DEFAULT_TTL_S, lease_wait_s: float = 0.0):
        self.engine, self.instance, self.run_id, self.feed_id = engine, instance, run_id, feed_id
        self.lease_ttl_s, self.lease_wait_s = lease_ttl_s, lease_wait_s
        self._stack = ExitStack()
        self._heartbeat: leases.Heartbeat | None = None

    def _run_is_over(self, run_id: str) -> bool:
        run = self.instance.get_run_by_id(run_id)
        return run is not None and run.is_finished

    def open(self) -> FeedRunScope:
        """Take the lease (FeedBusyError when another run holds it) and open the report; nothing is written
        when the lease is refused."""
        self._heartbeat = self._stack.enter_context(leases.held(
            self.engine, self.feed_id, self.run_id, ttl_s=self.lease_ttl_s, wait_s=self.lease_wait_s,
            holder_finished=self._run_is_over))
        try:
            reports.open_report(self.engine, self.run_id, self.feed_id)
            for stale_run_id in reports.close_stale_reports(self.engine, self.feed_id, self.run_id):
                self._close_dead_dagster_run(stale_run_id)
        except BaseException:
            self._stack.close()
            raise
        return self

    def _close_dead_dagster_run(self, run_id: str) -> None:
        """A run whose report was stale still shows STARTED in Dagster when its worker was killed: mark it failed."""
        run = self.instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            self.instance.report_run_failed(run, f"run {run_id} of feed {self.feed_id} stopped before it finished "
                                                 f"(its process died or was killed); closed by run {self.run_id}")

    def close(self) -> None:
        """Record the outcome (once per run) and give the lease back, even when recording fails."""
        with self._stack:
            failures = step_failures(self.instance, self.run_id)
            if self._heartbeat is not None and self._heartbeat.lost.is_set():
                failures.append(StepFailure("run", (
                    f"lost the lease of feed {self.feed_id} (not renewed within {self.lease_ttl_s:g} s, then taken by "
                    f"another run): another run may have written the feed at the same time; run it again")))
            status, error = judge_run(reports.get_report(self.engine, self.run_id) or {}, failures)
            reports.record_run_outcome(self.engine, self.run_id, self.feed_id, status, error=error)


def open_scope_for(engine: sa.Engine, context: dg.InitResourceContext, *, lease_ttl_s: float,
                   lease_wait_s: float) -> FeedRunScope | None:
    """A scope when Dagster sets the resource up for a run of a feed partition; None elsewhere (sensors, the API)."""
    run = context.dagster_run
    feed_id = feed_of(run)
    if run is None or not feed_id or context.instance is None:
        return None
    return FeedRunScope(engine, context.instance, run.run_id, feed_id, lease_ttl_s=lease_ttl_s,
                        lease_wait_s=lease_wait_s).open()
