"""Initial schema: feeds, the stage tables, jobs (source of truth) with its route views, cache, reports.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from feed_pipeline.store.schema import ROUTE_VIEWS

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('deduped_jobs',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('company', sa.Text(), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('description_html', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('locations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('postal_code', sa.Text(), nullable=True),
    sa.Column('employment_type', sa.String(length=32), nullable=True),
    sa.Column('salary_min', sa.Float(), nullable=True),
    sa.Column('salary_max', sa.Float(), nullable=True),
    sa.Column('salary_currency', sa.String(length=8), nullable=True),
    sa.Column('salary_period', sa.String(length=16), nullable=True),
    sa.Column('is_remote', sa.Boolean(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requisition_id', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('block_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('member_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('is_multi_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'job_key', name=op.f('pk_deduped_jobs'))
    )
    with op.batch_alter_table('deduped_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_deduped_jobs_feed_block', ['feed_id', 'block_key'], unique=False)

    op.create_table('enrichment_cache',
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('prompt_version', sa.String(length=32), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('input_hash', 'stage', 'model', 'prompt_version', name=op.f('pk_enrichment_cache'))
    )
    op.create_table('enrichments',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('merged_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('ai_block_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('locations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('is_multi_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('industry', sa.Text(), nullable=True),
    sa.Column('industry_confidence', sa.Float(), nullable=True),
    sa.Column('ai_title', sa.Text(), nullable=True),
    sa.Column('ai_description', sa.Text(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tech_stack', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seniority', sa.Text(), nullable=True),
    sa.Column('remote_policy', sa.Text(), nullable=True),
    sa.Column('application_deadline', sa.Text(), nullable=True),
    sa.Column('job_function', sa.Text(), nullable=True),
    sa.Column('function_confidence', sa.Float(), nullable=True),
    sa.Column('function_status', sa.String(length=16), nullable=True),
    sa.Column('function_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'job_key', name=op.f('pk_enrichments'))
    )
    with op.batch_alter_table('enrichments', schema=None) as batch_op:
        batch_op.create_index('ix_enrichments_feed_ai_block', ['feed_id', 'ai_block_key'], unique=False)
        batch_op.create_index('ix_enrichments_feed_industry', ['feed_id', 'industry'], unique=False)

    op.create_table('execution_reports',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('stages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('ai_usage', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('mirror', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('health_recorded', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_execution_reports'))
    )
    with op.batch_alter_table('execution_reports', schema=None) as batch_op:
        batch_op.create_index('ix_execution_reports_feed', ['feed_id', 'started_at'], unique=False)

    op.create_table('feeds',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), server_default='xml', nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('last_ingest_complete', sa.Boolean(), nullable=True),
    sa.Column('last_complete_ingest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_id', sa.String(length=64), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_status', sa.String(length=32), nullable=True),
    sa.Column('avg_processing_time_s', sa.Float(), nullable=True),
    sa.Column('run_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('consecutive_failure_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds'))
    )
    op.create_table('ingests',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('unchanged', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('stats', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'run_id', name=op.f('pk_ingests'))
    )
    op.create_table('job_route_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('routing_confidence', sa.Float(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_route_history'))
    )
    with op.batch_alter_table('job_route_history', schema=None) as batch_op:
        batch_op.create_index('ix_job_route_history_job', ['feed_id', 'job_key'], unique=False)

    op.create_table('jobs',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('company', sa.Text(), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('description_html', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('locations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('postal_code', sa.Text(), nullable=True),
    sa.Column('employment_type', sa.String(length=32), nullable=True),
    sa.Column('salary_min', sa.Float(), nullable=True),
    sa.Column('salary_max', sa.Float(), nullable=True),
    sa.Column('salary_currency', sa.String(length=8), nullable=True),
    sa.Column('salary_period', sa.String(length=16), nullable=True),
    sa.Column('is_remote', sa.Boolean(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requisition_id', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('block_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('member_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('is_multi_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('industry', sa.Text(), nullable=True),
    sa.Column('industry_confidence', sa.Float(), nullable=True),
    sa.Column('job_function', sa.Text(), nullable=True),
    sa.Column('function_confidence', sa.Float(), nullable=True),
    sa.Column('routing_confidence', sa.Float(), nullable=True),
    sa.Column('ai_title', sa.Text(), nullable=True),
    sa.Column('ai_description', sa.Text(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tech_stack', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seniority', sa.Text(), nullable=True),
    sa.Column('remote_policy', sa.Text(), nullable=True),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('last_run_id', sa.String(length=64), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'job_key', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_dedupe_key', ['dedupe_key'], unique=False)
        batch_op.create_index('ix_jobs_feed_route', ['feed_id', 'route'], unique=False)
        batch_op.create_index('ix_jobs_route', ['route', 'posted_at'], unique=False)

    op.create_table('raw_jobs',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('company', sa.Text(), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('description_html', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('locations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('postal_code', sa.Text(), nullable=True),
    sa.Column('employment_type', sa.String(length=32), nullable=True),
    sa.Column('salary_min', sa.Float(), nullable=True),
    sa.Column('salary_max', sa.Float(), nullable=True),
    sa.Column('salary_currency', sa.String(length=8), nullable=True),
    sa.Column('salary_period', sa.String(length=16), nullable=True),
    sa.Column('is_remote', sa.Boolean(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requisition_id', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('block_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('member_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('is_multi_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), server_default='', nullable=False),
    sa.Column('rejection_reason', sa.String(length=16), nullable=True),
    sa.Column('rejection_detail', sa.Text(), nullable=True),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'job_key', name=op.f('pk_raw_jobs'))
    )
    with op.batch_alter_table('raw_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_raw_jobs_feed_block', ['feed_id', 'block_key'], unique=False)

    op.create_table('review_decisions',
    sa.Column('feed_id', sa.String(length=200), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', 'job_key', name=op.f('pk_review_decisions'))
    )

    for view, route in ROUTE_VIEWS.items():
        op.execute(f"CREATE VIEW {view} AS SELECT * FROM jobs WHERE route = '{route}'")


def downgrade() -> None:
    for view in ROUTE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")

    op.drop_table('review_decisions')
    with op.batch_alter_table('raw_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_raw_jobs_feed_block')

    op.drop_table('raw_jobs')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_route')
        batch_op.drop_index('ix_jobs_feed_route')
        batch_op.drop_index('ix_jobs_dedupe_key')

    op.drop_table('jobs')
    with op.batch_alter_table('job_route_history', schema=None) as batch_op:
        batch_op.drop_index('ix_job_route_history_job')

    op.drop_table('job_route_history')
    op.drop_table('ingests')
    op.drop_table('feeds')
    with op.batch_alter_table('execution_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_execution_reports_feed')

    op.drop_table('execution_reports')
    with op.batch_alter_table('enrichments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrichments_feed_industry')
        batch_op.drop_index('ix_enrichments_feed_ai_block')

    op.drop_table('enrichments')
    op.drop_table('enrichment_cache')
    with op.batch_alter_table('deduped_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_deduped_jobs_feed_block')

    op.drop_table('deduped_jobs')

