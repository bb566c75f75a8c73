"""Run status sensors: every finished run of a feed partition (feed_job, the asset graph's __ASSET_JOB, a backfill)
lands in its execution report and the feed's health, also when it never reached its own end (a worker killed and
marked failed by run monitoring, a canceled run, a resource that failed to start).

A run normally records itself as its last act (resources/run_scope.py); these sensors are the backstop, and the
report's claim makes the two record a run exactly once. `dead_feed_runs_sensor` finds runs whose process died
without a trace (Dagster's default run launcher cannot tell): their lease expired unrenewed.
"""
from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.run_scope import PARTITION_TAG, judge_finished_run, refused_by_lease
from feed_pipeline.store import leases, reports

__all__ = ["PARTITION_TAG", "dead_feed_runs_sensor", "feed_health_sensors", "record_finished_run"]

WATCHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def record_finished_run(instance: dg.DagsterInstance, run: dg.DagsterRun, engine: sa.Engine) -> bool:
    """Fold one finished run into its execution report and the feed's health (idempotent per run).

    A run the feed's lease refused wrote nothing and changes no health: another run of the feed was working.
    """
    feed_id = run.tags.get(PARTITION_TAG)
    if not feed_id or refused_by_lease(instance, run.run_id):
        return False
    stats = instance.get_run_stats(run.run_id)
    started = datetime.fromtimestamp(stats.start_time, UTC) if stats.start_time else None
    finished = datetime.fromtimestamp(stats.end_time, UTC) if stats.end_time else None
    if run.status == dg.DagsterRunStatus.CANCELED:
        status, error = reports.CANCELED, "canceled"
    else:
        status, error = judge_finished_run(instance, run.run_id, engine)
        if run.status == dg.DagsterRunStatus.FAILURE and status == reports.SUCCESS:
            status, error = reports.FAILED, "the run failed without a failed step (see its Dagster events)"
    return reports.record_run_outcome(engine, run.run_id, feed_id, status, started_at=started,
                                      finished_at=finished, error=error)


def _sensor(status: dg.DagsterRunStatus):
    @dg.run_status_sensor(
        name=f"feed_health_on_{status.value.lower()}",
        run_status=status,
        # No monitored_jobs: every job of this code location, the asset graph's __ASSET_JOB included.
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Records {status.value.lower()} runs of a feed partition (any job) in execution_reports and "
                    f"the feed's health, unless the run already recorded itself.",
    )
    def record(context: dg.RunStatusSensorContext, database: DatabaseResource):
        recorded = record_finished_run(context.instance, context.dagster_run, database.engine)
        context.log.info(f"run {context.dagster_run.run_id}: health {'recorded' if recorded else 'already recorded'}")

    return record


feed_health_sensors = [_sensor(s) for s in WATCHED]


def close_dead_runs(instance: dg.DagsterInstance, engine: sa.Engine) -> list[str]:
    """Close the runs whose lease expired unrenewed: the Dagster run (if still in progress) and the report are
    marked failed with the reason; returns their run ids."""
    closed = []
    for lease in leases.abandoned_leases(engine):
        reason = (f"run {lease.run_id} of feed {lease.feed_id} stopped renewing its lease at "
                  f"{lease.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC on {lease.holder or 'an unknown host'} "
                  f"(its process died or was killed)")
        run = instance.get_run_by_id(lease.run_id)
        if run is not None and not run.is_finished:
            instance.report_run_failed(run, reason)
        reports.record_run_outcome(engine, lease.run_id, lease.feed_id, reports.FAILED, error=reason,
                                   duration_known=False)
        leases.mark_reaped(engine, lease)
        closed.append(lease.run_id)
    return closed


@dg.sensor(name="dead_feed_runs_sensor", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks failed the feed runs whose process died (their lease expired unrenewed), in Dagster "
                       "and in execution_reports, so no run stays `started` forever.")
def dead_feed_runs_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource):
    closed = close_dead_runs(context.instance, database.engine)
    if not closed:
        return dg.SkipReason("no run stopped renewing its lease")
    context.log.warning(f"closed {len(closed)} dead run(s): {', '.join(closed)}")
    return dg.SkipReason(f"closed {len(closed)} dead run(s)")
