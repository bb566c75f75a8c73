"""Engines and migrations: one place decides how we connect to SQLite or PostgreSQL."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from feed_pipeline.settings import DEFAULT_STATE_DIR, Settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
__all__ = ["DEFAULT_STATE_DIR", "default_database_url", "dispose_engine", "engine_for", "head_revision", "migrate"]

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def default_database_url() -> str:
    """`FEED_PIPELINE_DATABASE_URL`, else a SQLite file under `.feed_pipeline/` in the working directory."""
    settings = Settings.from_env()
    if settings.database_url:
        return settings.database_url
    state_dir = settings.state_path()
    state_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(state_dir / 'feed_pipeline.sqlite').resolve()}"


def normalize_url(url: str) -> str:
    """Accept the plain `postgresql://` form users paste and use the driver we ship (psycopg2)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (API, checks) never block the writing stage
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def json_dumps(value: Any) -> str:
    """JSON columns are written with orjson (several times faster than the standard library on every stage's rows);
    a value orjson refuses (an integer beyond 64 bits) falls back to `json.dumps`, so nothing writes differently
    from before but for spacing."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


# Both dialects take these: every JSON column of every table reads and writes through them.
_JSON_CODEC = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **_JSON_CODEC)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **_JSON_CODEC)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision id: what a migrated database reports."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration; safe to call on every start."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def engine_for(url: str | None = None) -> sa.Engine:
    """A migrated engine for `url` (default: FEED_PIPELINE_DATABASE_URL or the local SQLite file), one per process."""
    url = url or default_database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of `url`'s engine and forget it (a database about to be dropped)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()
