"""Jobs written the way routing writes them (store.jobs.upsert_routed_jobs), so the search triggers fire."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.rows import job_to_row

ENRICHMENT_DEFAULTS: dict[str, Any] = {
    "industry": "Information Technology", "industry_confidence": 0.95, "job_function": "Software Engineering",
    "function_confidence": 0.93, "routing_confidence": 0.93, "ai_title": None, "ai_description": None,
    "skills": [], "tech_stack": [], "seniority": "mid", "remote_policy": "onsite", "route": "approved",
    "reason": None,
}


def job_row(feed_id: str = "feed-a", source_id: str = "1", title: str = "Software Engineer", **fields: Any) -> dict:
    """A `jobs` row: JobRecord fields plus enrichment and route; any of them can be overridden."""
    record_fields = {k: v for k, v in fields.items() if k in JobRecord.__slots__}
    record = JobRecord(feed_id=feed_id, source=fields.pop("source", "xml"), source_id=source_id, title=title,
                       **{k: v for k, v in record_fields.items() if k != "source"})
    assign_identity(record)
    record.member_keys = [record.job_key]
    record.source_ids = [source_id]
    row = job_to_row(record)
    row.update(ENRICHMENT_DEFAULTS)
    row.update({k: v for k, v in fields.items() if k not in JobRecord.__slots__})
    row.setdefault("ai_title", title)
    return row


def insert_jobs(engine: sa.Engine, rows: list[dict], run_id: str = "run-1") -> list[str]:
    """Upsert rows per feed, as routed_jobs does; returns their job keys in order."""
    with engine.begin() as conn:
        for feed_id in dict.fromkeys(r["feed_id"] for r in rows):
            job_store.upsert_routed_jobs(conn, run_id, [r for r in rows if r["feed_id"] == feed_id])
    return [r["job_key"] for r in rows]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)
