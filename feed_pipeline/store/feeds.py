"""The feeds registry: what to ingest, its fetch state, and its health."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.redact import redact_params, redact_url
from feed_pipeline.store.rows import as_utc, utcnow
from feed_pipeline.store.schema import feeds

FEED_KINDS = ("xml", "remoteok", "jsearch", "adzuna", "multi")


class FeedNotFoundError(LookupError):
    def __init__(self, feed_id: str):
        super().__init__(f"feed {feed_id!r} is not registered; add it with `feed-pipeline feeds add {feed_id} ...`")
        self.feed_id = feed_id


@dataclass(frozen=True)
class Feed:
    id: str
    name: str
    kind: str
    url: str | None
    params: dict[str, Any]
    active: bool
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    last_run_at: Any
    last_run_status: str | None
    avg_processing_time_s: float | None
    consecutive_failure_count: int
    run_count: int

    def as_dict(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["last_run_at"] = self.last_run_at.isoformat() if self.last_run_at else None
        return data

    def as_redacted_dict(self) -> dict[str, Any]:
        """`as_dict()` with the URL's credentials and secret-looking params shown as `***`: what may be printed."""
        data = self.as_dict()
        data["url"] = redact_url(self.url) if self.url else self.url
        data["params"] = redact_params(self.params)
        return data


def _to_feed(row: sa.RowMapping) -> Feed:
    return Feed(
        id=row["id"], name=row["name"], kind=row["kind"], url=row["url"], params=row["params"] or {},
        active=bool(row["active"]), etag=row["etag"], last_modified=row["last_modified"],
        content_hash=row["content_hash"], last_run_at=as_utc(row["last_run_at"]),
        last_run_status=row["last_run_status"], avg_processing_time_s=row["avg_processing_time_s"],
        consecutive_failure_count=row["consecutive_failure_count"], run_count=row["run_count"],
    )


def validate_feed_id(feed_id: str) -> None:
    """Feed ids become Dagster partition keys, which forbid some characters."""
    if not feed_id or len(feed_id) > 200:
        raise ValueError("a feed id must be 1 to 200 characters")
    bad = [c for c in feed_id if c in ",|/\\" or ord(c) < 32 or c.isspace()]
    if bad or "..." in feed_id:
        raise ValueError(
            f"feed id {feed_id!r} may not contain spaces, control characters, ',', '|', slashes or '...'"
        )


def upsert_feed(
    engine: sa.Engine, feed_id: str, *, url: str | None, kind: str = "xml", name: str | None = None,
    params: dict[str, Any] | None = None, active: bool = True,
) -> Feed:
    validate_feed_id(feed_id)
    if kind not in FEED_KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; expected one of {', '.join(FEED_KINDS)}")
    if kind == "xml" and not url:
        raise ValueError("an xml feed needs --url (http(s)://, file:// or a local path)")
    now = utcnow()
    values = {"name": name or feed_id, "kind": kind, "url": url, "params": params or {}, "active": active,
              "updated_at": now}
    with engine.begin() as conn:
        exists = conn.execute(sa.select(feeds.c.id).where(feeds.c.id == feed_id)).first()
        if exists:
            conn.execute(feeds.update().where(feeds.c.id == feed_id).values(**values))
        else:
            conn.execute(feeds.insert().values(id=feed_id, created_at=now, **values))
    return get_feed(engine, feed_id)


def get_feed(engine: sa.Engine, feed_id: str) -> Feed:
    with engine.connect() as conn:
        row = conn.execute(sa.select(feeds).where(feeds.c.id == feed_id)).mappings().first()
    if row is None:
        raise FeedNotFoundError(feed_id)
    return _to_feed(row)


def list_feeds(engine: sa.Engine, *, active_only: bool = False, kinds: tuple[str, ...] | None = None) -> list[Feed]:
    stmt = sa.select(feeds).order_by(feeds.c.id)
    if active_only:
        stmt = stmt.where(feeds.c.active.is_(True))
    if kinds:
        stmt = stmt.where(feeds.c.kind.in_(kinds))
    with engine.connect() as conn:
        return [_to_feed(r) for r in conn.execute(stmt).mappings()]


def set_feed_active(engine: sa.Engine, feed_id: str, active: bool) -> Feed:
    with engine.begin() as conn:
        updated = conn.execute(
            feeds.update().where(feeds.c.id == feed_id).values(active=active, updated_at=utcnow())
        ).rowcount
    if not updated:
        raise FeedNotFoundError(feed_id)
    return get_feed(engine, feed_id)


def save_fetch_state(
    engine: sa.Engine, feed_id: str, *, etag: str | None, last_modified: str | None, content_hash: str | None
) -> None:
    """Remember the version we ingested so the next conditional fetch can skip an unchanged feed."""
    with engine.begin() as conn:
        conn.execute(
            feeds.update()
            .where(feeds.c.id == feed_id)
            .values(etag=etag, last_modified=last_modified, content_hash=content_hash, updated_at=utcnow())
        )
