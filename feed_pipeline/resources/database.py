"""The database resource: one engine per URL per process, migrated to the newest schema on first use."""
from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from feed_pipeline.store.db import engine_for

__all__ = ["DatabaseResource", "engine_for"]


class DatabaseResource(dg.ConfigurableResource):
    """The source of truth. SQLite file by default, PostgreSQL when the URL says so; same SQLAlchemy Core code."""

    url: str = Field(default="", description="SQLAlchemy URL; empty means FEED_PIPELINE_DATABASE_URL or SQLite")

    @property
    def engine(self) -> sa.Engine:
        return engine_for(self.url or None)
