"""Alembic environment: runs on the connection handed in by `store.db.migrate`, or on the configured URL."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from feed_pipeline.store.schema import SEARCH_OBJECTS, metadata

config = context.config


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate must not propose dropping the search objects migration 0002 made by hand."""
    return name not in SEARCH_OBJECTS and not (name or "").startswith("jobs_fts")


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
