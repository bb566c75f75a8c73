"""A feed's own taxonomy: `feeds.taxonomy` holds the JSON content registered with `feeds add --taxonomy`.

The content is stored, not the path, so a moved or edited file never changes (or breaks) a feed's runs; NULL
means the deployment's taxonomy (`FEED_PIPELINE_TAXONOMY`, else the bundled one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("taxonomy", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("taxonomy")
