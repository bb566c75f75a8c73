"""Run leases (one run per feed at a time, whatever launched it) and the run status `failed`.

`run_leases`: one row per feed that has (or had) a run; the run holding it renews `expires_at` while it
works, so a run whose process died frees its feed when the lease expires. See store/leases.py.

Run statuses become `success`, `partial`, `failed` (DESIGN.md): earlier reports and feed health that said
`failure` are renamed, so history reads the same as new runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_leases",
        sa.Column("feed_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.Text(), server_default="", nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_run_leases")),
    )
    op.execute("UPDATE execution_reports SET status = 'failed' WHERE status = 'failure'")
    op.execute("UPDATE feeds SET last_run_status = 'failed' WHERE last_run_status = 'failure'")


def downgrade() -> None:
    op.execute("UPDATE feeds SET last_run_status = 'failure' WHERE last_run_status IN ('failed', 'partial')")
    op.execute("UPDATE execution_reports SET status = 'failure' WHERE status IN ('failed', 'partial')")
    op.drop_table("run_leases")
