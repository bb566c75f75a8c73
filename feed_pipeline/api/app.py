"""The REST API: search the jobs, watch the feeds, trigger and follow runs. `create_app()` builds it.

Served by `feed-pipeline api` (uvicorn); OpenAPI docs at /docs, the schema at /openapi.json. docs/api.md
describes the endpoints, errors and authentication.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI

from feed_pipeline.api.errors import install_error_handlers
from feed_pipeline.api.launchers import RunLauncher
from feed_pipeline.api.routers import feeds, health, jobs, runs
from feed_pipeline.api.settings import ApiSettings

DESCRIPTION = """Job listings from every feed, cleaned, deduplicated and AI-classified, plus the feeds' health
and their runs.

Reads are open. Writes (`POST`) need `Authorization: Bearer <token>` with the token set in
`FEED_PIPELINE_API_TOKEN` on the server; without that variable they answer 403. Every error is
`{"error": code, "message": ..., "details": ...}`."""


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

    app = FastAPI(title="feed_pipeline API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = None
    app.state.launcher = launcher
    install_error_handlers(app)
    for router in (health.router, jobs.router, feeds.router, runs.router):
        app.include_router(router, prefix="/api")
    return app
