"""Full-text search over jobs (title, description, skills) for the API, one mechanism per dialect.

PostgreSQL: a generated, stored `search_vector` tsvector column on `jobs` (title weight A, skills B,
description C, 'english' configuration, kept inline) with a GIN index, plus an index that serves the API's
default order (newest first, NULL dates last, then the primary key) without a sort.

SQLite: `jobs` is left untouched (a batch-mode rebuild would drop the route views and renumber rowids).
An FTS5 table `jobs_fts` holds a copy of the searchable text, keyed by `job_search_docs.doc_id`, a stable
integer per (feed_id, job_key); triggers on `jobs` keep both in sync, and existing rows are backfilled.
Keying on our own doc id rather than `jobs.rowid` keeps the index right after VACUUM, which may renumber
the rowids of a table without an INTEGER PRIMARY KEY.

Both: indexes on jobs.job_key and job_route_history.job_key, for the API's lookups by job key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Kept in step with feed_pipeline.store.search, which builds the queries against these objects.
TEXT_SEARCH_CONFIG = "english"
# `||` on tsvectors puts the next field's first word right after the previous field's last word, so a
# phrase could match across fields ("... care" + "Patient ..."). A leading stop word ("the") takes a
# position and keeps them apart, as FTS5 columns are.
SEARCH_VECTOR_SQL = (
    f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', '[\"the\"]'::jsonb || coalesce(skills, '[]'::jsonb)), 'B') || "
    f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', 'the ' || coalesce(description, '')), 'C')"
)

SQLITE_UPGRADE = [
    """CREATE TABLE IF NOT EXISTS job_search_docs (
        doc_id INTEGER PRIMARY KEY,
        feed_id VARCHAR(200) NOT NULL,
        job_key VARCHAR(64) NOT NULL,
        CONSTRAINT uq_job_search_docs_job UNIQUE (feed_id, job_key)
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS jobs_fts USING fts5(
        title, description, skills, tokenize = 'porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER IF NOT EXISTS jobs_search_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO job_search_docs (feed_id, job_key) VALUES (new.feed_id, new.job_key);
        INSERT INTO jobs_fts (rowid, title, description, skills)
        SELECT doc_id, new.title, new.description, new.skills FROM job_search_docs
        WHERE feed_id = new.feed_id AND job_key = new.job_key;
    END""",
    # Every rerun upserts each job with all columns; only a real change of the text touches the index.
    """CREATE TRIGGER IF NOT EXISTS jobs_search_update AFTER UPDATE OF title, description, skills ON jobs
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description OR old.skills IS NOT new.skills
    BEGIN
        DELETE FROM jobs_fts WHERE rowid = (
            SELECT doc_id FROM job_search_docs WHERE feed_id = old.feed_id AND job_key = old.job_key);
        INSERT INTO jobs_fts (rowid, title, description, skills)
        SELECT doc_id, new.title, new.description, new.skills FROM job_search_docs
        WHERE feed_id = old.feed_id AND job_key = old.job_key;
    END""",
    """CREATE TRIGGER IF NOT EXISTS jobs_search_rekey AFTER UPDATE OF feed_id, job_key ON jobs
    WHEN old.feed_id IS NOT new.feed_id OR old.job_key IS NOT new.job_key
    BEGIN
        UPDATE job_search_docs SET feed_id = new.feed_id, job_key = new.job_key
        WHERE feed_id = old.feed_id AND job_key = old.job_key;
    END""",
    """CREATE TRIGGER IF NOT EXISTS jobs_search_delete AFTER DELETE ON jobs BEGIN
        DELETE FROM jobs_fts WHERE rowid = (
            SELECT doc_id FROM job_search_docs WHERE feed_id = old.feed_id AND job_key = old.job_key);
        DELETE FROM job_search_docs WHERE feed_id = old.feed_id AND job_key = old.job_key;
    END""",
    """INSERT INTO job_search_docs (feed_id, job_key)
    SELECT feed_id, job_key FROM jobs WHERE true
    ON CONFLICT (feed_id, job_key) DO NOTHING""",
    """INSERT INTO jobs_fts (rowid, title, description, skills)
    SELECT d.doc_id, j.title, j.description, j.skills
    FROM jobs AS j JOIN job_search_docs AS d ON d.feed_id = j.feed_id AND d.job_key = j.job_key
    WHERE d.doc_id NOT IN (SELECT rowid FROM jobs_fts)""",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS jobs_search_insert",
    "DROP TRIGGER IF EXISTS jobs_search_update",
    "DROP TRIGGER IF EXISTS jobs_search_rekey",
    "DROP TRIGGER IF EXISTS jobs_search_delete",
    "DROP TABLE IF EXISTS jobs_fts",
    "DROP TABLE IF EXISTS job_search_docs",
]


def upgrade() -> None:
    # GET /api/jobs/{job_key} and its route history look a job up by key alone; the primary keys lead with
    # feed_id, so without these a lookup scans the table (90 ms at 1M jobs).
    op.create_index("ix_jobs_job_key", "jobs", ["job_key"])
    op.create_index("ix_job_route_history_job_key", "job_route_history", ["job_key"])
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "jobs",
            sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(SEARCH_VECTOR_SQL, persisted=True)),
        )
        # Inline (compressed) rather than out of line in TOAST: checking `@@` on a row the index walk visits
        # then costs ~2.5 us instead of ~6 us (measured at 1M jobs); wide text columns move out of line first.
        # Applies to rows written from now on (every upsert rewrites the row, so reruns convert them).
        op.execute("ALTER TABLE jobs ALTER COLUMN search_vector SET STORAGE MAIN")
        op.create_index("ix_jobs_search_vector", "jobs", ["search_vector"], postgresql_using="gin")
        op.execute(
            "CREATE INDEX ix_jobs_route_newest ON jobs (route, posted_at DESC NULLS LAST, feed_id, job_key)"
        )
    else:
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_jobs_route_newest", table_name="jobs")
        op.drop_index("ix_jobs_search_vector", table_name="jobs")
        op.drop_column("jobs", "search_vector")
    else:
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    op.drop_index("ix_job_route_history_job_key", table_name="job_route_history")
    op.drop_index("ix_jobs_job_key", table_name="jobs")
