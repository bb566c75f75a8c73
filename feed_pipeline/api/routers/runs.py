"""Runs: start `feed_job` for a feed (202 with the run id at once) and follow it to its summary."""
from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Response

from feed_pipeline.api.dependencies import get_engine, get_launcher, require_write_token
from feed_pipeline.api.errors import ERROR_RESPONSES, NOT_FOUND, WRITE_ERRORS, ApiError, ErrorBody, not_found
from feed_pipeline.api.launchers import LaunchError, RunConflictError, RunLauncher, RunOptions
from feed_pipeline.api.models import RunIn, RunLaunched, RunStatus, RunSummary, SafeText
from feed_pipeline.api.routers.feeds import feed_or_404

router = APIRouter(tags=["runs"])

LAUNCH_ERRORS = {
    409: {"model": ErrorBody, "description": "The feed already has a run in progress (its lease is held)."},
    502: {"model": ErrorBody, "description": "The Dagster webserver did not accept the run."},
}


@router.post("/feeds/{feed_id}/runs", status_code=202, response_model=RunLaunched,
             responses={**ERROR_RESPONSES, **NOT_FOUND, **WRITE_ERRORS, **LAUNCH_ERRORS},
             dependencies=[Depends(require_write_token)])
def start_run(
    feed_id: SafeText,
    response: Response,
    body: RunIn | None = Body(None),
    engine: sa.Engine = Depends(get_engine),
    launcher: RunLauncher = Depends(get_launcher),
) -> RunLaunched:
    """Launch feed_job for the feed's partition; poll the returned status_url for the outcome."""
    feed_or_404(engine, feed_id)
    options = RunOptions(force=body.force, allow_mass_delete=body.allow_mass_delete) if body else RunOptions()
    try:
        run_id = launcher.launch(feed_id, options)
    except RunConflictError as exc:
        raise ApiError(409, "run_in_progress", str(exc), details={"run_id": exc.run_id}) from exc
    except LaunchError as exc:
        raise ApiError(502, "dagster_unavailable", str(exc)) from exc
    status_url = f"/api/runs/{run_id}"
    response.headers["Location"] = status_url
    return RunLaunched(run_id=run_id, feed_id=feed_id, status="queued", launched_via=launcher.via,
                       status_url=status_url)


@router.get("/runs/{run_id}", response_model=RunStatus,
            responses={**ERROR_RESPONSES, **NOT_FOUND,
                       502: {"model": ErrorBody, "description": "The Dagster webserver did not answer."}})
def get_run(run_id: SafeText, launcher: RunLauncher = Depends(get_launcher)) -> RunStatus:
    """Where the run is; once finished, its summary (the object `feed-pipeline run` prints)."""
    try:
        state = launcher.state(run_id)
    except LaunchError as exc:
        raise ApiError(502, "dagster_unavailable", str(exc)) from exc
    if state is None:
        raise not_found("run", f"no run {run_id!r} is known to Dagster; run ids come from POST "
                               f"/api/feeds/{{feed_id}}/runs")
    return RunStatus(run_id=state.run_id, feed_id=state.feed_id, status=state.status, finished=state.finished,
                     dagster_status=state.dagster_status,
                     summary=RunSummary(**state.summary) if state.summary else None, error=state.error)
