"""store.leases: one run per feed at a time, on SQLite and PostgreSQL; a dead run's lease expires."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import leases
from feed_pipeline.store.rows import utcnow
from feed_pipeline.store.schema import run_leases


@pytest.fixture
def engine(db_url):
    return engine_for(db_url)


def expire(engine, feed_id: str) -> None:
    """What time does to a lease whose holder stopped renewing it (its process died)."""
    with engine.begin() as conn:
        conn.execute(run_leases.update().where(run_leases.c.feed_id == feed_id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))


def test_a_second_run_of_a_feed_is_refused_with_the_holders_run_id(engine):
    leases.acquire(engine, "acme", "run-a")

    with pytest.raises(leases.FeedBusyError, match=r"feed acme is already running \(run run-a\)"):
        leases.acquire(engine, "acme", "run-b")
    assert leases.acquire(engine, "globex", "run-b").run_id == "run-b", "another feed is free"
    assert leases.acquire(engine, "acme", "run-a").run_id == "run-a", "the holder may take it again"


def test_a_released_lease_is_taken_by_the_next_run(engine):
    leases.acquire(engine, "acme", "run-a")
    assert leases.release(engine, "acme", "run-a")
    assert leases.live_lease(engine, "acme") is None

    assert leases.acquire(engine, "acme", "run-b").run_id == "run-b"
    assert not leases.release(engine, "acme", "run-a"), "a former holder cannot free someone else's lease"


def test_a_dead_runs_lease_expires_and_is_taken_over(engine):
    leases.acquire(engine, "acme", "dead-run")
    expire(engine, "acme")

    lease = leases.acquire(engine, "acme", "run-b")
    assert lease.run_id == "run-b" and lease.expires_at > utcnow()
    assert not leases.renew(engine, "acme", "dead-run"), "the dead run lost it"


def test_a_lease_whose_run_is_known_to_be_over_is_taken_at_once(engine):
    leases.acquire(engine, "acme", "canceled-run")

    lease = leases.acquire(engine, "acme", "run-b", holder_finished=lambda run_id: run_id == "canceled-run")
    assert lease.run_id == "run-b"


def test_a_run_may_wait_briefly_for_the_lease(engine):
    leases.acquire(engine, "acme", "run-a")
    threading.Timer(0.5, leases.release, (engine, "acme", "run-a")).start()

    assert leases.acquire(engine, "acme", "run-b", wait_s=10, poll_s=0.1).run_id == "run-b"


def test_runs_racing_for_a_never_leased_feed_get_exactly_one_lease(engine):
    barrier = threading.Barrier(6)
    won, refused = [], []

    def contend(n: int) -> None:
        barrier.wait()
        try:
            won.append(leases.acquire(engine, "fresh", f"run-{n}").run_id)
        except leases.FeedBusyError as busy:
            refused.append(busy.run_id)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1 and len(refused) == 5
    assert set(refused) == set(won)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(run_leases)).scalar() == 1


def test_a_held_lease_outlives_its_ttl_while_the_heartbeat_renews_it(engine):
    with leases.held(engine, "acme", "run-a", ttl_s=leases.MIN_TTL_S):
        time.sleep(leases.MIN_TTL_S + 1)
        with pytest.raises(leases.FeedBusyError):
            leases.acquire(engine, "acme", "run-b")
    assert leases.acquire(engine, "acme", "run-b").run_id == "run-b", "leaving the block released it"
