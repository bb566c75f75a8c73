"""The database resource: one engine per URL per process, migrated to the newest schema on first use.

Set up for a run of a feed partition, it also opens the run's scope (resources/run_scope.py): the feed's lease
and the run's execution report, closed with the run's outcome at teardown. Every stage and check uses this
resource, so every run of a feed does this, whatever launched it.
"""
from __future__ import annotations

from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field, PrivateAttr

from feed_pipeline.resources.run_scope import open_scope_for
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.leases import DEFAULT_TTL_S

__all__ = ["DatabaseResource", "engine_for"]


class DatabaseResource(dg.ConfigurableResource):
    """The source of truth. SQLite file by default, PostgreSQL when the URL says so; same SQLAlchemy Core code."""

    url: str = Field(default="", description="SQLAlchemy URL; empty means FEED_PIPELINE_DATABASE_URL or SQLite")
    lease_ttl_s: float = Field(default=DEFAULT_TTL_S, description="a dead run's lease frees its feed after this")
    lease_wait_s: float = Field(default=0.0, description="how long a run waits for its feed's lease before failing")
    _scope: Any = PrivateAttr(default=None)

    @property
    def engine(self) -> sa.Engine:
        return engine_for(self.url or None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._scope = open_scope_for(self.engine, context, lease_ttl_s=self.lease_ttl_s,
                                     lease_wait_s=self.lease_wait_s)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        scope, self._scope = self._scope, None
        if scope is not None:
            scope.close()
