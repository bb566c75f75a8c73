"""raw_jobs.source_digest and coverage_mask: a rerun keeps the raw rows of records read byte for byte as last
time without normalizing them again.

Rows written before have none: the next ingest of each feed normalizes every record once and fills them (the
row digests do not cover them, so no later stage redoes anything on that account).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("raw_jobs", sa.Column("source_digest", sa.String(32)))
    op.add_column("raw_jobs", sa.Column("coverage_mask", sa.Integer))


def downgrade() -> None:
    op.drop_column("raw_jobs", "coverage_mask")
    op.drop_column("raw_jobs", "source_digest")
