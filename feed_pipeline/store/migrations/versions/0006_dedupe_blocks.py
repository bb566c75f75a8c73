"""dedupe_blocks: each pass 1 block's input fingerprint and figures, so a rerun re-clusters only changed blocks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedupe_blocks",
        sa.Column("feed_id", sa.String(200), nullable=False),
        sa.Column("block_key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("figures", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("feed_id", "block_key", name="pk_dedupe_blocks"),
    )


def downgrade() -> None:
    op.drop_table("dedupe_blocks")
