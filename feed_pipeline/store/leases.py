"""One run per feed at a time, whatever launched it: a lease row per feed in the database.

Every run of a feed partition (feed_job, the asset graph, a backfill, the CLI, the API, a sensor) takes its
feed's lease before its first stage and gives it back after its last (resources/run_scope.py). While it works
it renews the lease every third of `ttl_s`, so a run whose process died frees its feed within `ttl_s`.
The same SQLAlchemy Core statements serve SQLite and PostgreSQL: taking a lease is one conditional UPDATE
(free, expired or already ours) or, for a feed never leased, an INSERT that only one racer can win.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from feed_pipeline.store.rows import as_utc, utcnow
from feed_pipeline.store.schema import run_leases

DEFAULT_TTL_S = 60.0
MIN_TTL_S = 3.0


class FeedBusyError(RuntimeError):
    """Another run holds the feed's lease. The run that meets this writes nothing."""

    def __init__(self, feed_id: str, run_id: str, expires_at: datetime):
        super().__init__(
            f"feed {feed_id} is already running (run {run_id}); wait for that run to finish (a run whose process "
            f"died frees the feed when its lease expires, at {expires_at:%Y-%m-%d %H:%M:%S} UTC)")
        self.feed_id, self.run_id, self.expires_at = feed_id, run_id, expires_at


@dataclass(frozen=True)
class Lease:
    feed_id: str
    run_id: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def current_lease(engine: sa.Engine, feed_id: str) -> Lease | None:
    """The feed's lease row (possibly expired), or None when no run ever took it."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(run_leases).where(run_leases.c.feed_id == feed_id)).mappings().first()
    if row is None:
        return None
    return Lease(row["feed_id"], row["run_id"], row["holder"], as_utc(row["acquired_at"]),
                 as_utc(row["heartbeat_at"]), as_utc(row["expires_at"]))


def live_lease(engine: sa.Engine, feed_id: str) -> Lease | None:
    """The feed's lease while a run holds it (not expired), else None."""
    lease = current_lease(engine, feed_id)
    return lease if lease is not None and lease.expires_at > utcnow() else None


def abandoned_leases(engine: sa.Engine) -> list[Lease]:
    """Leases that expired without being released: their run stopped renewing them (its process died).

    A renewed lease has `heartbeat_at` = `expires_at` - ttl; `release` and `mark_reaped` set `heartbeat_at`
    after `expires_at`, so a lease is reported here once.
    """
    now = utcnow()
    stmt = sa.select(run_leases).where(run_leases.c.expires_at < now,
                                       run_leases.c.heartbeat_at < run_leases.c.expires_at)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [Lease(r["feed_id"], r["run_id"], r["holder"], as_utc(r["acquired_at"]), as_utc(r["heartbeat_at"]),
                  as_utc(r["expires_at"])) for r in rows]


def mark_reaped(engine: sa.Engine, lease: Lease) -> None:
    """The abandoned lease's run has been closed: leave the row free and no longer abandoned."""
    with engine.begin() as conn:
        conn.execute(run_leases.update().where(run_leases.c.feed_id == lease.feed_id,
                                               run_leases.c.run_id == lease.run_id,
                                               run_leases.c.expires_at < utcnow())
                     .values(heartbeat_at=utcnow()))


def _try_acquire(engine: sa.Engine, feed_id: str, run_id: str, holder: str, ttl_s: float,
                 takeover_run_id: str | None) -> bool:
    now = utcnow()
    values = {"run_id": run_id, "holder": holder, "acquired_at": now, "heartbeat_at": now,
              "expires_at": now + timedelta(seconds=ttl_s)}
    claimable = [run_leases.c.run_id == run_id, run_leases.c.expires_at < now]
    if takeover_run_id:
        claimable.append(run_leases.c.run_id == takeover_run_id)
    with engine.begin() as conn:
        taken = conn.execute(
            run_leases.update().where(run_leases.c.feed_id == feed_id, sa.or_(*claimable)).values(**values)
        ).rowcount
    if taken:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(run_leases.insert().values(feed_id=feed_id, **values))
    except sa.exc.IntegrityError:  # the row exists and another run holds it (or just won the race to insert it)
        return False
    return True


def acquire(
    engine: sa.Engine, feed_id: str, run_id: str, *, ttl_s: float = DEFAULT_TTL_S, wait_s: float = 0.0,
    poll_s: float = 0.5, holder_finished: Callable[[str], bool] | None = None,
) -> Lease:
    """Take the feed's lease for `run_id` (taking it again is a no-op renewal), waiting up to `wait_s`.

    `holder_finished(run_id)` may say that the holder's run is known to be over (Dagster marked it failed or
    canceled): its lease is then taken over at once instead of waiting for it to expire.
    Raises FeedBusyError when another live run still holds it after `wait_s`.
    """
    if ttl_s < MIN_TTL_S:
        raise ValueError(f"a lease must last at least {MIN_TTL_S} s, got {ttl_s}")
    holder = this_process()
    deadline = time.monotonic() + max(wait_s, 0.0)
    while True:
        existing = current_lease(engine, feed_id)
        takeover = None
        if (existing is not None and existing.run_id != run_id and holder_finished is not None
                and holder_finished(existing.run_id)):
            takeover = existing.run_id
        if _try_acquire(engine, feed_id, run_id, holder, ttl_s, takeover):
            return current_lease(engine, feed_id)
        existing = current_lease(engine, feed_id)
        if existing is None:  # released between our two statements: try again at once
            continue
        if time.monotonic() >= deadline:
            raise FeedBusyError(feed_id, existing.run_id, existing.expires_at)
        time.sleep(poll_s)


def renew(engine: sa.Engine, feed_id: str, run_id: str, ttl_s: float = DEFAULT_TTL_S) -> bool:
    """Push the lease's expiry `ttl_s` ahead; False when `run_id` no longer holds it."""
    now = utcnow()
    with engine.begin() as conn:
        return bool(conn.execute(
            run_leases.update().where(run_leases.c.feed_id == feed_id, run_leases.c.run_id == run_id)
            .values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl_s))
        ).rowcount)


def release(engine: sa.Engine, feed_id: str, run_id: str) -> bool:
    """Free the feed if `run_id` holds it (the row stays, expired, so the next run takes it with one UPDATE)."""
    now = utcnow()
    with engine.begin() as conn:
        return bool(conn.execute(
            run_leases.update().where(run_leases.c.feed_id == feed_id, run_leases.c.run_id == run_id)
            .values(expires_at=now - timedelta(microseconds=1), heartbeat_at=now)
        ).rowcount)


class Heartbeat:
    """Renews one lease every `ttl_s / 3` on a daemon thread until stopped; `lost` is set if another run took it."""

    def __init__(self, engine: sa.Engine, feed_id: str, run_id: str, ttl_s: float):
        self._engine, self._feed_id, self._run_id, self._ttl_s = engine, feed_id, run_id, ttl_s
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{feed_id}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self._ttl_s / 3):
            try:
                if not renew(self._engine, self._feed_id, self._run_id, self._ttl_s):
                    self.lost.set()
                    return
            except sa.exc.SQLAlchemyError:  # a database hiccup: the next beat tries again before expiry
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextmanager
def held(engine: sa.Engine, feed_id: str, run_id: str, *, ttl_s: float = DEFAULT_TTL_S, wait_s: float = 0.0,
         holder_finished: Callable[[str], bool] | None = None) -> Iterator[Heartbeat]:
    """Hold the feed's lease (renewed in the background) for the duration of the block; the heartbeat it yields
    has `lost` set if the lease was taken away meanwhile (not renewed in time, then taken by another run)."""
    acquire(engine, feed_id, run_id, ttl_s=ttl_s, wait_s=wait_s, holder_finished=holder_finished)
    heartbeat = Heartbeat(engine, feed_id, run_id, ttl_s).start()
    try:
        yield heartbeat
    finally:
        heartbeat.stop()
        release(engine, feed_id, run_id)
