"""What each stage row was made from, so a rerun redoes only what changed: deduped_jobs.row_hash,
enrichments.source_hash / answer_hash / function_source, jobs.route_source.

Rows written before have none; PIPELINE_LOGIC_VERSION moved with it, so every feed's next run redoes all its
stages once (the AI stages from the cache) and fills them.

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
    op.add_column("enrichments", sa.Column("answer_hash", sa.String(32)))
    op.add_column("enrichments", sa.Column("function_source", sa.String(32)))
    op.add_column("jobs", sa.Column("route_source", sa.String(32)))


def downgrade() -> None:
    op.drop_column("jobs", "route_source")  # SQLite >= 3.35 drops a column in place (the search triggers stay)
    op.drop_column("enrichments", "function_source")
    op.drop_column("enrichments", "answer_hash")
    op.drop_column("enrichments", "source_hash")
    op.drop_column("deduped_jobs", "row_hash")
