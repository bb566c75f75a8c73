"""Routing thresholds as a resource, so the routing asset and its blocking checks read the same numbers."""
from __future__ import annotations

import dagster as dg
from pydantic import Field

from feed_pipeline.core.routing import DEFAULT_APPROVE_AT, DEFAULT_ARCHIVE_BELOW, Thresholds


class RoutingResource(dg.ConfigurableResource):
    archive_below: float = Field(default=DEFAULT_ARCHIVE_BELOW, description="Routing confidence below this is archived")
    approve_at: float = Field(default=DEFAULT_APPROVE_AT, description="Routing confidence at or above this is approved")

    def thresholds(self) -> Thresholds:
        return Thresholds(archive_below=self.archive_below, approve_at=self.approve_at)
