"""The feeds registry: what to ingest, its fetch state, and its health."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.enrichment import Taxonomy
from feed_pipeline.core.redact import redact_params, redact_url
from feed_pipeline.core.taxonomy import TaxonomyError, resolve_taxonomy, taxonomy_from_dict, taxonomy_to_dict
from feed_pipeline.settings import Settings
from feed_pipeline.store.rows import as_utc, utcnow
from feed_pipeline.store.schema import feeds

FEED_KINDS = ("xml", "remoteok", "jsearch", "adzuna", "multi")
CATEGORY_HINT_PARAM = "category_hint"  # feed param: pass the publisher's <category> to the classifier as a hint
KEEP = object()  # upsert_feed(taxonomy=KEEP): leave the stored taxonomy as it is


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
    taxonomy: dict[str, Any] | None = None  # the feed's own taxonomy (as parsed); None = the deployment's

    @property
    def taxonomy_version(self) -> str | None:
        """The content hash of the feed's own taxonomy, or None when it uses the deployment's. A stored taxonomy
        that newer rules refuse is shown as such (its runs fail with the same message) rather than breaking the
        listing."""
        if not self.taxonomy:
            return None
        try:
            return taxonomy_from_dict(self.taxonomy, where=f"feed {self.id!r}'s taxonomy").version
        except TaxonomyError as exc:
            return f"invalid: {exc}"

    def as_dict(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["last_run_at"] = self.last_run_at.isoformat() if self.last_run_at else None
        del data["taxonomy"]  # the content can be long: echo its identity, `feed_taxonomy` gives the rest
        data["taxonomy_version"] = self.taxonomy_version
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
        taxonomy=row["taxonomy"],
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
    params: dict[str, Any] | None = None, active: bool = True, taxonomy: Mapping[str, Any] | object | None = KEEP,
) -> Feed:
    """Register or update a feed. `taxonomy`: the feed's own taxonomy (JSON content, validated here), None to
    go back to the deployment's, KEEP (default) to leave what is stored."""
    validate_feed_id(feed_id)
    if kind not in FEED_KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; expected one of {', '.join(FEED_KINDS)}")
    if kind == "xml" and not url:
        raise ValueError("an xml feed needs --url (http(s)://, file:// or a local path)")
    now = utcnow()
    values = {"name": name or feed_id, "kind": kind, "url": url, "params": params or {}, "active": active,
              "updated_at": now}
    if taxonomy is not KEEP:
        values["taxonomy"] = _checked_taxonomy(feed_id, taxonomy)
    with engine.begin() as conn:
        exists = conn.execute(sa.select(feeds.c.id).where(feeds.c.id == feed_id)).first()
        if exists:
            conn.execute(feeds.update().where(feeds.c.id == feed_id).values(**values))
        else:
            conn.execute(feeds.insert().values(id=feed_id, created_at=now, **values))
    return get_feed(engine, feed_id)


def set_feed_taxonomy(engine: sa.Engine, feed_id: str, taxonomy: Mapping[str, Any] | None) -> Feed:
    """Give a registered feed its own taxonomy (validated), or None to go back to the deployment's."""
    return _update_feed(engine, feed_id, taxonomy=_checked_taxonomy(feed_id, taxonomy))


def _checked_taxonomy(feed_id: str, taxonomy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The taxonomy content to store; TaxonomyError (a ValueError naming the entry) when a classifier could not
    answer in it. The content is stored, not a path, so a moved file never breaks the feed's runs."""
    if taxonomy is None:
        return None
    return taxonomy_to_dict(taxonomy_from_dict(taxonomy, where=f"feed {feed_id!r}'s taxonomy"))


def feed_taxonomy(engine: sa.Engine, feed_id: str, settings: Settings | None = None) -> Taxonomy:
    """The taxonomy `feed_id` is classified in: its own, else the deployment's, else the bundled one.

    Every stage and check that needs a feed's taxonomy asks here. An unregistered feed gets the deployment's.
    """
    with engine.connect() as conn:
        own = conn.execute(sa.select(feeds.c.taxonomy).where(feeds.c.id == feed_id)).scalar_one_or_none()
    return resolve_taxonomy(feed_id, own, (settings or Settings.from_env()).taxonomy_path)


def wants_category_hint(engine: sa.Engine, feed_id: str) -> bool:
    """Whether the feed's params ask for its own <category> to reach the classifier as a hint (off by default)."""
    with engine.connect() as conn:
        params = conn.execute(sa.select(feeds.c.params).where(feeds.c.id == feed_id)).scalar_one_or_none()
    return category_hint_of(params)


def category_hint_of(params: dict | None) -> bool:
    """Whether a feed's params ask for its category hint (see wants_category_hint)."""
    value = (params or {}).get(CATEGORY_HINT_PARAM, False)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return value is True or value == 1


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
    return _update_feed(engine, feed_id, active=active)


def _update_feed(engine: sa.Engine, feed_id: str, **values: Any) -> Feed:
    """Set columns of a registered feed (FeedNotFoundError when it is not) and return it."""
    with engine.begin() as conn:
        updated = conn.execute(
            feeds.update().where(feeds.c.id == feed_id).values(**values, updated_at=utcnow())
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
