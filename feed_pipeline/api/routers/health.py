"""`GET /api/health`: 200 when the database answers, 503 when it does not (for load balancers and probes)."""
from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request

from feed_pipeline.api.dependencies import get_engine, get_settings
from feed_pipeline.api.errors import ErrorBody, database_unavailable
from feed_pipeline.api.models import Health
from feed_pipeline.api.settings import ApiSettings

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health,
            responses={503: {"model": ErrorBody, "description": "The database did not answer."}})
def health(request: Request, settings: ApiSettings = Depends(get_settings)) -> Health:
    try:
        engine = get_engine(request)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise database_unavailable(exc) from exc
    return Health(status="ok", database=engine.dialect.name, schema_revision=revision,
                  writes_enabled=bool(settings.api_token), public_jobs=settings.public_jobs,
                  run_launcher="graphql" if settings.dagster_graphql_url else "worker")
