"""deduped_jobs.row_hash and enrichments.source_hash: stage 1 redoes only the jobs that changed.

Rows written before have neither, so every feed's next stage 1 run redoes all its jobs once (from the cache) and
fills both.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deduped_jobs", sa.Column("row_hash", sa.String(32)))
    op.add_column("enrichments", sa.Column("source_hash", sa.String(32)))


def downgrade() -> None:
    op.drop_column("enrichments", "source_hash")
    op.drop_column("deduped_jobs", "row_hash")
