"""Shared fixtures: a throwaway PostgreSQL database per session, SQLite files per test, both behind `db_url`."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from feed_pipeline.store.db import dispose_engine

PG_SERVER_URL = os.environ.get("FEED_PIPELINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")

# The fake feed servers listen on 127.0.0.1, which the SSRF guard refuses unless told otherwise: the session opts
# in (set before any test and inherited by the subprocesses tests start); the guard's own tests unset it.
os.environ["FEED_PIPELINE_ALLOW_PRIVATE_URLS"] = "1"


def _pg_server_reachable() -> str | None:
    try:
        engine = sa.create_engine(f"{PG_SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "no server"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The local PostgreSQL server; a failure under CI=true, a skip elsewhere."""
    problem = _pg_server_reachable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but {PG_SERVER_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER_URL}: {problem}")
    return PG_SERVER_URL


@pytest.fixture(scope="session")
def pg_database_factory(pg_server_url):
    """Creates uniquely named databases on the local server and drops them all at session end."""
    admin = sa.create_engine(f"{pg_server_url}/postgres", isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create() -> str:
        name = f"feed_pipeline_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return f"{pg_server_url}/{name}"

    def drop(url: str) -> None:
        """Close the test's pooled connections and drop its database now, so a long session never runs the server
        out of connections."""
        dispose_engine(url)
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        created.remove(name)

    create.drop = drop
    yield create
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_database_factory) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped after it."""
    url = pg_database_factory()
    yield url
    pg_database_factory.drop(url)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'feed_pipeline.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """Runs a test once on SQLite and once on PostgreSQL, each on an empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feed_pipeline.sqlite'}"
        return
    yield request.getfixturevalue("pg_url")
