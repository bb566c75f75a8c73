"""The REST API: search the jobs, watch the feeds, trigger and follow runs. `create_app()` builds it.

Served by `feed-pipeline api` (uvicorn); OpenAPI docs at /docs and /redoc (served from local assets), the
schema at /openapi.json. docs/api.md describes the endpoints, errors and authentication; docs/security.md the
guards.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import Depends, FastAPI

from feed_pipeline.api.dependencies import require_api_token
from feed_pipeline.api.docs import install_docs
from feed_pipeline.api.errors import OPERATOR_ERRORS, install_error_handlers
from feed_pipeline.api.launchers import RunLauncher
from feed_pipeline.api.routers import aliases, feeds, health, jobs, runs
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.redacted_logging import install_log_redaction

DESCRIPTION = """Job listings from every feed, cleaned, deduplicated and AI-classified, plus the feeds' health
and their runs.

Job reads are open (unless the server sets `FEED_PIPELINE_PUBLIC_JOBS=false`). Operator endpoints (writes,
feeds, reports, runs and the seeds' aliases) need `Authorization: Bearer <token>` with the token set in
`FEED_PIPELINE_API_TOKEN` on the server; without that variable they answer 403. Feed URLs are shown with their
credentials redacted. Every error is `{"error": code, "message": ..., "details": ...}`."""


def create_app(
    database_url: str | None = None,
    *,
    api_token: str | None = None,
    dagster_graphql_url: str | None = None,
    launcher: RunLauncher | None = None,
    settings: ApiSettings | None = None,
) -> FastAPI:
    """The app. Arguments left None come from the environment (ApiSettings.from_env); `launcher` overrides the
    choice between the Dagster webserver (DAGSTER_GRAPHQL_URL) and the in-process worker."""
    settings = settings or ApiSettings.from_env()
    overrides = {k: v for k, v in {"database_url": database_url, "api_token": api_token,
                                   "dagster_graphql_url": dagster_graphql_url}.items() if v is not None}
    settings = replace(settings, **overrides)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if app.state.launcher is not None:
            app.state.launcher.close()  # lets a run in a worker thread finish its step writes

    install_log_redaction()
    app = FastAPI(title="feed_pipeline API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = None
    app.state.launcher = launcher
    install_error_handlers(app)
    install_docs(app)
    for router in (health.router, jobs.router, feeds.router):
        app.include_router(router, prefix="/api")
    app.include_router(runs.router, prefix="/api", dependencies=[Depends(require_api_token)],
                       responses=OPERATOR_ERRORS)
    app.include_router(aliases.router)
    return app
