"""raw_jobs.row_hash: a digest of each raw posting's stored values, so a rerun rewrites only changed postings.

Rows written before it have none: the next ingest finds them changed and writes them once more.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("raw_jobs", sa.Column("row_hash", sa.String(32)))


def downgrade() -> None:
    op.drop_column("raw_jobs", "row_hash")  # SQLite >= 3.35 drops a column in place (the search triggers stay)
