"""The database resource: one engine per URL per process, migrated to the newest schema on first use."""
from __future__ import annotations

import threading

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from feed_pipeline.store.db import default_database_url, make_engine, migrate

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def engine_for(url: str | None = None) -> sa.Engine:
    """A migrated engine for `url` (default: FEED_PIPELINE_DATABASE_URL or the local SQLite file)."""
    url = url or default_database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


class DatabaseResource(dg.ConfigurableResource):
    """The source of truth. SQLite file by default, PostgreSQL when the URL says so; same SQLAlchemy Core code."""

    url: str = Field(default="", description="SQLAlchemy URL; empty means FEED_PIPELINE_DATABASE_URL or SQLite")

    @property
    def engine(self) -> sa.Engine:
        return engine_for(self.url or None)
