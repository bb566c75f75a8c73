"""Run status sensors: every finished feed run (success, failure, crash, cancel) lands in the feed's health."""

from datetime import UTC, datetime

import dagster as dg

from feed_pipeline.automation.jobs import feed_job
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.store import reports

PARTITION_TAG = "dagster/partition"
STATUS_NAMES = {
    dg.DagsterRunStatus.SUCCESS: reports.SUCCESS,
    dg.DagsterRunStatus.FAILURE: reports.FAILURE,
    dg.DagsterRunStatus.CANCELED: reports.CANCELED,
}


def describe_failure(event: dg.DagsterEvent) -> str:
    """`step: first line of the error` for a failure event, not Dagster's generic "step failed" message."""
    data = event.step_failure_data if event.is_step_failure else None
    if data is not None and data.error is not None:
        message = data.error.message.strip().splitlines()[0]
    else:
        message = event.message or "failed"
    return f"{event.step_key or 'run'}: {message}"


def record_finished_run(instance: dg.DagsterInstance, run: dg.DagsterRun, database: DatabaseResource) -> bool:
    """Fold one finished run into its execution report and the feed's health (idempotent per run)."""
    feed_id = run.tags.get(PARTITION_TAG)
    if not feed_id:
        return False
    stats = instance.get_run_stats(run.run_id)
    started = datetime.fromtimestamp(stats.start_time, UTC) if stats.start_time else None
    finished = datetime.fromtimestamp(stats.end_time, UTC) if stats.end_time else None
    error = None
    if run.status == dg.DagsterRunStatus.FAILURE:
        failures = instance.all_logs(run.run_id, of_type={dg.DagsterEventType.STEP_FAILURE,
                                                           dg.DagsterEventType.RUN_FAILURE})
        error = "; ".join(describe_failure(e.dagster_event) for e in failures[-3:] if e.dagster_event)
        error = error or "run failed"
    return reports.record_run_outcome(database.engine, run.run_id, feed_id, STATUS_NAMES[run.status],
                                      started_at=started, finished_at=finished, error=error)


def _sensor(status: dg.DagsterRunStatus):
    @dg.run_status_sensor(
        name=f"feed_health_on_{status.value.lower()}",
        run_status=status,
        monitored_jobs=[feed_job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Records {status.value.lower()} feed runs in execution_reports and the feeds' health.",
    )
    def record(context: dg.RunStatusSensorContext, database: DatabaseResource):
        recorded = record_finished_run(context.instance, context.dagster_run, database)
        context.log.info(f"run {context.dagster_run.run_id}: health {'recorded' if recorded else 'already recorded'}")

    return record


feed_health_sensors = [_sensor(s) for s in STATUS_NAMES]
