"""The routes of the systems this product replaces, kept as aliases so their clients switch without rewrites.

- `POST /trigger-feed/{feed_id}`: `POST /api/feeds/{feed_id}/runs` under its old name (202, run in the background).
- `GET /execution-status/{feed_id}`: the feed's health and last execution report.
- `POST /api/jobs/ingest`: a run of every active job-API feed (remoteok, jsearch, adzuna, multi), answered with
  each run's outcome and the jobs per source.

All three are operator endpoints (API token). They reuse the runs and feeds routes' code and the same launcher.
"""
from __future__ import annotations

import time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from feed_pipeline.api.dependencies import get_engine, get_launcher, require_api_token
from feed_pipeline.api.errors import ERROR_RESPONSES, NOT_FOUND, OPERATOR_ERRORS, ApiError
from feed_pipeline.api.launchers import LaunchError, RunConflictError, RunLauncher, RunOptions
from feed_pipeline.api.models import ExecutionStatus, IngestedFeed, IngestResult, RunCounts, RunLaunched, SafeText
from feed_pipeline.api.routers import runs
from feed_pipeline.api.routers.feeds import feed_or_404, health_of, report_model
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import reports

router = APIRouter(tags=["aliases"], dependencies=[Depends(require_api_token)], responses=OPERATOR_ERRORS)

JOB_API_KINDS = ("remoteok", "jsearch", "adzuna", "multi")
POLL_INTERVAL_S = 0.5
MAX_WAIT_S = 3600


# `POST /api/feeds/{feed_id}/runs` itself under its old path (without the write token the runs route asks for):
# `name` keeps the alias's own OpenAPI summary and operation id.
router.post("/trigger-feed/{feed_id}", status_code=202, response_model=RunLaunched,
            responses={**ERROR_RESPONSES, **NOT_FOUND, **runs.LAUNCH_ERRORS}, name="trigger_feed",
            description="Alias of `POST /api/feeds/{feed_id}/runs`: start the feed's run in the background; "
                        "202 with its run id.")(runs.start_run)


@router.get("/execution-status/{feed_id}", response_model=ExecutionStatus, responses={**ERROR_RESPONSES, **NOT_FOUND})
def execution_status(feed_id: SafeText, engine: sa.Engine = Depends(get_engine)) -> ExecutionStatus:
    """The feed's health and its newest execution report (status, timings per stage, counts, error)."""
    feed = feed_or_404(engine, feed_id)
    newest = reports.list_reports(engine, feed_id, limit=1)
    return ExecutionStatus(feed_id=feed_id, health=health_of(feed),
                           last_report=report_model(newest[0]) if newest else None)


@router.post("/api/jobs/ingest", response_model=IngestResult,
             responses={**ERROR_RESPONSES, 502: runs.LAUNCH_ERRORS[502]})
def ingest_job_apis(
    engine: sa.Engine = Depends(get_engine),
    launcher: RunLauncher = Depends(get_launcher),
    wait_s: Annotated[int, Query(ge=0, le=MAX_WAIT_S, description="how long to wait for the runs to finish; "
                                 "0 answers at once with the run ids")] = 600,
) -> IngestResult:
    """Run every active job-API feed (kinds remoteok, jsearch, adzuna, multi), wait for the runs, and answer with
    each run's outcome and the feeds' jobs per source and route."""
    feeds = feed_store.list_feeds(engine, active_only=True, kinds=JOB_API_KINDS)
    started: list[IngestedFeed] = []
    for feed in feeds:
        try:
            run_id = launcher.launch(feed.id, RunOptions())
        except RunConflictError as exc:
            started.append(IngestedFeed(feed_id=feed.id, kind=feed.kind, run_id=exc.run_id, status="already_running",
                                        counts=None, error=str(exc)))
            continue
        except LaunchError as exc:
            raise ApiError(502, "dagster_unavailable", str(exc)) from exc
        started.append(IngestedFeed(feed_id=feed.id, kind=feed.kind, run_id=run_id, status="running", counts=None))
    deadline = time.monotonic() + wait_s
    pending = [f for f in started if f.status == "running"]
    while pending:
        for entry in list(pending):
            state = launcher.state(entry.run_id)
            if state is not None and state.finished:
                entry.status = state.summary["status"] if state.summary else state.status
                entry.counts = RunCounts(**state.summary["counts"]) if state.summary else None
                entry.error = state.error
                pending.remove(entry)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL_S)
    return IngestResult(feeds=started, sources=job_store.source_route_counts(engine, [f.id for f in feeds]),
                        finished=not pending)
