"""What routes get injected: the settings, a migrated engine, the run launcher, and the API token checks."""
from __future__ import annotations

import hmac
import threading

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from feed_pipeline.api.errors import ApiError, database_unavailable
from feed_pipeline.api.launchers import GraphQLRunLauncher, RunLauncher, WorkerRunLauncher
from feed_pipeline.api.settings import PUBLIC_JOBS_ENV, TOKEN_ENV, ApiSettings
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store.search import TextCondition

_lock = threading.Lock()
bearer = HTTPBearer(auto_error=False, description=f"The token set in {TOKEN_ENV} on the API server.")


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def get_engine(request: Request) -> sa.Engine:
    """The migrated engine, created on first use so the API starts (and /api/health answers) with the DB down."""
    state = request.app.state
    if state.engine is None:
        with _lock:
            if state.engine is None:
                try:
                    state.engine = engine_for(state.settings.database_url)
                except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as exc:
                    raise database_unavailable(exc) from exc
    return state.engine


def get_launcher(request: Request) -> RunLauncher:
    state = request.app.state
    if state.launcher is None:
        with _lock:
            if state.launcher is None:
                settings: ApiSettings = state.settings
                if settings.dagster_graphql_url:
                    state.launcher = GraphQLRunLauncher(settings.dagster_graphql_url, settings.database_url)
                else:
                    state.launcher = WorkerRunLauncher(settings.database_url)
    return state.launcher


def get_text_condition() -> TextCondition | None:
    """How `search` is matched: None is the full-text index. Override (app.dependency_overrides) to compare
    other strategies; bench/bench_api.py swaps in ILIKE this way."""
    return None


def _check_token(settings: ApiSettings, scheme: str, token: str, closed_what: str) -> None:
    """One rule for every endpoint behind the token: 403 when none is configured, 401 unless it is the Bearer one."""
    if not settings.api_token:
        raise ApiError(403, "token_not_configured",
                       f"{closed_what} and no {TOKEN_ENV} is set on this server: set it where the API runs, then "
                       f"send it as 'Authorization: Bearer <token>'")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.api_token.encode()):
        raise ApiError(401, "unauthorized",
                       f"send 'Authorization: Bearer <token>' with the token set in {TOKEN_ENV} on the API server",
                       headers={"WWW-Authenticate": "Bearer"})


def require_api_token(
    settings: ApiSettings = Depends(get_settings),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> None:
    """Operator endpoints (writes, feeds, reports, runs, the aliases) need `Authorization: Bearer
    <FEED_PIPELINE_API_TOKEN>`; with no token configured they are off (403)."""
    _check_token(settings, credentials.scheme if credentials else "", credentials.credentials if credentials else "",
                 "this endpoint is for operators")


require_write_token = require_api_token  # the name the write routes were written with; one rule for both


def require_job_reader(request: Request, settings: ApiSettings = Depends(get_settings)) -> None:
    """Job reads are open unless FEED_PIPELINE_PUBLIC_JOBS=false, which puts them behind the API token too.

    The header is read here rather than through `bearer`, so the schema does not mark open reads as secured."""
    if settings.public_jobs:
        return
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    _check_token(settings, scheme, token, f"job reads are closed on this server ({PUBLIC_JOBS_ENV}=false)")
