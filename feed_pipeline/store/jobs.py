"""The source of truth: `jobs` with each job's current route, its route history, and review decisions."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.jobs import RejectionReason, Route
from feed_pipeline.store.rows import as_utc, batched, upsert_rows, utcnow
from feed_pipeline.store.schema import job_route_history, jobs, review_decisions

PRESERVED_ON_UPDATE = ("feed_id", "job_key", "first_seen_at")


class JobNotFoundError(LookupError):
    def __init__(self, job_key: str):
        super().__init__(f"no job with key {job_key!r}; `feed-pipeline` prints job keys in the jobs table")


def upsert_routed_jobs(conn: sa.Connection, run_id: str, rows: list[dict[str, Any]]) -> int:
    """Insert or update jobs (first_seen_at kept), appending to the route history where the route changed.

    A row equal to the stored one is not rewritten (its `updated_at` and the search index stay as they are):
    only its `last_run_id` and `last_seen_at` move to this run, so the run's counts and removal still see it.
    Returns how many jobs changed route (new jobs included).
    """
    if not rows:
        return 0
    now = utcnow()
    feed_id = rows[0]["feed_id"]
    keys = [r["job_key"] for r in rows]
    columns = list(rows[0])
    stored = {
        row["job_key"]: row
        for row in conn.execute(
            sa.select(*(jobs.c[c] for c in columns)).where(jobs.c.feed_id == feed_id, jobs.c.job_key.in_(keys))
        ).mappings()
    }
    changed = [r for r in rows if not _same_row(stored.get(r["job_key"]), r)]
    if len(changed) < len(rows):
        changed_keys = {r["job_key"] for r in changed}
        touch_jobs(conn, feed_id, run_id, [k for k in keys if k not in changed_keys], now)
    if changed:
        full = [dict(r, last_run_id=run_id, first_seen_at=now, last_seen_at=now, updated_at=now) for r in changed]
        update_cols = [c for c in full[0] if c not in PRESERVED_ON_UPDATE]
        upsert_rows(conn, jobs, full, ("feed_id", "job_key"), update_cols)
    previous = {k: (row["route"], row["reason"]) for k, row in stored.items()}
    history = [
        {"feed_id": r["feed_id"], "job_key": r["job_key"], "run_id": run_id, "route": r["route"],
         "reason": r.get("reason"), "routing_confidence": r.get("routing_confidence"), "changed_at": now}
        for r in changed
        if previous.get(r["job_key"]) != (r["route"], r.get("reason"))
    ]
    if history:
        conn.execute(job_route_history.insert(), history)
    return len(history)


def touch_jobs(conn: sa.Connection, feed_id: str, run_id: str, job_keys: Sequence[str],
               now: datetime | None = None) -> None:
    """Jobs this run saw unchanged: only `last_run_id` and `last_seen_at` move (the run's counts and removal see
    them; `updated_at` and the search index stay)."""
    now = now or utcnow()
    for keys in batched(job_keys, 500):
        conn.execute(jobs.update().where(jobs.c.feed_id == feed_id, jobs.c.job_key.in_(keys))
                     .values(last_run_id=run_id, last_seen_at=now))


def routed_sources(conn: sa.Connection, feed_id: str) -> dict[str, tuple[str | None, str, float | None]]:
    """job_key -> (route_source, route, routing_confidence) of every job of the feed."""
    stmt = sa.select(jobs.c.job_key, jobs.c.route_source, jobs.c.route, jobs.c.routing_confidence).where(
        jobs.c.feed_id == feed_id)
    return {key: (source, route, confidence) for key, source, route, confidence in conn.execute(stmt)}


def review_sample_rows(conn: sa.Connection, feed_id: str, job_keys: Sequence[str]) -> list[tuple]:
    """(confidence, title, company, industry, function, url, job key) of these jobs, in the order given: the
    manual-review sample routing shows (the AI title, the feed's when none)."""
    title = sa.func.coalesce(sa.func.nullif(jobs.c.ai_title, ""), jobs.c.title)
    stmt = sa.select(jobs.c.job_key, jobs.c.routing_confidence, title, jobs.c.company, jobs.c.industry,
                     jobs.c.job_function, jobs.c.url).where(
        jobs.c.feed_id == feed_id, jobs.c.job_key.in_(list(job_keys)))
    found = {key: (round(conf, 3), *rest, key) for key, conf, *rest in conn.execute(stmt)}
    return [found[key] for key in job_keys if key in found]


def _same_row(stored: sa.RowMapping | None, row: dict[str, Any]) -> bool:
    """Whether the stored jobs row already holds every value of `row` (SQLite's naive datetimes read as UTC)."""
    if stored is None:
        return False
    for name, value in row.items():
        old = stored[name]
        if isinstance(old, datetime):
            old = as_utc(old)
        if old != value:
            return False
    return True


def mark_removed(conn: sa.Connection, feed_id: str, run_id: str) -> int:
    """Jobs that were not part of this (complete) ingest left the feed: route them rejected/removed.

    They count as seen by this run (`last_run_id`), so the run's route counts include them.
    """
    now = utcnow()
    stale = sa.and_(
        jobs.c.feed_id == feed_id,
        sa.or_(jobs.c.last_run_id.is_(None), jobs.c.last_run_id != run_id),
        sa.not_(sa.and_(jobs.c.route == Route.REJECTED.value, jobs.c.reason == RejectionReason.REMOVED.value)),
    )
    keys = [k for (k,) in conn.execute(sa.select(jobs.c.job_key).where(stale))]
    if not keys:
        return 0
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        conn.execute(
            jobs.update()
            .where(jobs.c.feed_id == feed_id, jobs.c.job_key.in_(chunk))
            .values(route=Route.REJECTED.value, reason=RejectionReason.REMOVED.value, updated_at=now,
                    last_run_id=run_id)
        )
        conn.execute(job_route_history.insert(), [
            {"feed_id": feed_id, "job_key": k, "run_id": run_id, "route": Route.REJECTED.value,
             "reason": RejectionReason.REMOVED.value, "routing_confidence": None, "changed_at": now}
            for k in chunk
        ])
    return len(keys)


def route_counts(engine: sa.Engine, feed_id: str, run_id: str | None = None) -> dict[str, int]:
    """Jobs of the feed by route; with `run_id`, only the jobs that run saw."""
    stmt = sa.select(jobs.c.route, sa.func.count()).where(jobs.c.feed_id == feed_id).group_by(jobs.c.route)
    if run_id:
        stmt = stmt.where(jobs.c.last_run_id == run_id)
    with engine.connect() as conn:
        return {route: n for route, n in conn.execute(stmt)}


def source_route_counts(engine: sa.Engine, feed_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """Jobs of these feeds by source, then by route (what `POST /api/jobs/ingest` answers)."""
    stmt = (sa.select(jobs.c.source, jobs.c.route, sa.func.count()).where(jobs.c.feed_id.in_(list(feed_ids)))
            .group_by(jobs.c.source, jobs.c.route))
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for source, route, n in conn.execute(stmt):
            counts.setdefault(source, {})[route] = n
    return counts


def iter_jobs(engine: sa.Engine, feed_id: str, route: str | None = None, chunk: int = 1000,
              columns: Iterable[str] | None = None, keys: Sequence[str] | None = None) -> Iterator[dict]:
    """The feed's jobs rows in job_key order; `columns` (names of `jobs`' columns) reads only those, `keys`
    (a batch of job_keys, one IN list) only those jobs."""
    selected = [jobs.c[name] for name in columns if name in jobs.c] if columns is not None else [jobs]
    stmt = sa.select(*selected).where(jobs.c.feed_id == feed_id).order_by(jobs.c.job_key)
    if route:
        stmt = stmt.where(jobs.c.route == route)
    if keys is not None:
        stmt = stmt.where(jobs.c.job_key.in_(keys))
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).mappings():
            yield dict(row)


def get_job(engine: sa.Engine, job_key: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.job_key == job_key)).mappings().first()
    if row is None:
        raise JobNotFoundError(job_key)
    return dict(row)


def route_history(engine: sa.Engine, job_key: str) -> list[dict[str, Any]]:
    stmt = sa.select(job_route_history).where(job_route_history.c.job_key == job_key).order_by(
        job_route_history.c.id
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def record_review(
    engine: sa.Engine, job_key: str, decision: str, note: str | None = None, decided_by: str | None = None
) -> dict[str, Any]:
    """Store an operator's decision on the job's current content; routing applies it until the content changes."""
    if decision not in ("approve", "reject"):
        raise ValueError("a review decision is 'approve' or 'reject'")
    job = get_job(engine, job_key)
    row = {"feed_id": job["feed_id"], "job_key": job_key, "decision": decision, "note": note,
           "content_hash": job["content_hash"], "decided_by": decided_by, "decided_at": utcnow()}
    with engine.begin() as conn:
        upsert_rows(conn, review_decisions, [row], ("feed_id", "job_key"),
                    ["decision", "note", "content_hash", "decided_by", "decided_at"])
    return row


def review_version(engine: sa.Engine, feed_id: str) -> str:
    """What routing must redo when it changes: the feed's review decisions (how many, the latest made)."""
    stmt = sa.select(sa.func.count(), sa.func.max(review_decisions.c.decided_at)).where(
        review_decisions.c.feed_id == feed_id)
    with engine.connect() as conn:
        count, latest = conn.execute(stmt).one()
    return f"{count}:{latest.isoformat() if latest else ''}"


def review_decisions_for(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """job_key -> (decision, content_hash the decision was made on)."""
    stmt = sa.select(review_decisions.c.job_key, review_decisions.c.decision, review_decisions.c.content_hash).where(
        review_decisions.c.feed_id == feed_id, review_decisions.c.job_key.in_(list(job_keys))
    )
    return {k: (d, h) for k, d, h in conn.execute(stmt)}
