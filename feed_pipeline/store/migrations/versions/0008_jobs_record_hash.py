"""jobs.record_hash: an approved job's published record hash, so the mirror diffs Xano without rebuilding records.

Rows routed before it have none; PIPELINE_LOGIC_VERSION moved with it, so every feed's next run routes again and
fills it (until then the mirror builds the record of a job without one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("record_hash", sa.String(32)))


def downgrade() -> None:
    op.drop_column("jobs", "record_hash")  # SQLite >= 3.35 drops a column in place (the search triggers stay)
