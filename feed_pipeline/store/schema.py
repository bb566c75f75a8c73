"""Every table, declared once. Alembic migrations create them; queries and tests import them from here."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)


def _feed_id_column(**options) -> sa.Column:
    """`feed_id`: the feed (feeds.id) a row belongs to, in every per-feed table."""
    return sa.Column("feed_id", sa.String(200), nullable=False, **options)


def _job_key_column() -> sa.Column:
    """`job_key`: the job (core.identity) a row is about, within its feed."""
    return sa.Column("job_key", sa.String(64), nullable=False)


def _run_id_column(*, nullable: bool = False) -> sa.Column:
    """`run_id`: the Dagster run that wrote the row."""
    return sa.Column("run_id", sa.String(64), nullable=nullable)


def _job_columns() -> list[sa.Column]:
    """The JobRecord fields, shared by the stage tables that hold whole jobs."""
    return [
        _feed_id_column(),
        _job_key_column(),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("company", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("description_html", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("locations", JSONType, nullable=False),
        sa.Column("city", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("postal_code", sa.Text),
        sa.Column("employment_type", sa.String(32)),
        sa.Column("salary_min", sa.Float),
        sa.Column("salary_max", sa.Float),
        sa.Column("salary_currency", sa.String(8)),
        sa.Column("salary_period", sa.String(16)),
        sa.Column("is_remote", sa.Boolean),
        sa.Column("posted_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("requisition_id", sa.Text),
        sa.Column("category", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("extra", JSONType, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("block_key", sa.String(64), nullable=False, server_default=""),
        sa.Column("member_keys", JSONType, nullable=False),
        sa.Column("source_ids", JSONType, nullable=False),
        sa.Column("is_multi_location", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dedupe_key", sa.String(64), nullable=False, server_default=""),
    ]


JOB_COLUMNS = tuple(column.name for column in _job_columns())  # the JobRecord fields stored per job


def _standardized_columns() -> list[sa.Column]:
    """AI stage 1's standardized posting, held by enrichments and carried into jobs."""
    return [
        sa.Column("ai_title", sa.Text),
        sa.Column("ai_description", sa.Text),
        sa.Column("skills", JSONType, nullable=False),
        sa.Column("tech_stack", JSONType, nullable=False),
        sa.Column("seniority", sa.Text),
        sa.Column("remote_policy", sa.Text),
    ]

def _stage_jobs_table(name: str, *columns: sa.Column) -> sa.Table:
    """A dedupe stage's table of whole jobs (raw_jobs, deduped_jobs): the JobRecord fields and `columns`, one
    row per job of a feed, indexed by block for the dedupe's block reads."""
    return sa.Table(name, metadata, *_job_columns(), *columns, sa.PrimaryKeyConstraint("feed_id", "job_key"),
                    sa.Index(f"ix_{name}_feed_block", "feed_id", "block_key"))


feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False, server_default="xml"),
    sa.Column("url", sa.Text),
    sa.Column("params", JSONType, nullable=False),
    sa.Column("taxonomy", JSONType),  # the feed's own taxonomy (JSON content); NULL = the deployment's
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("last_ingest_complete", sa.Boolean),
    sa.Column("last_complete_ingest_at", UTCDateTime),
    sa.Column("last_run_id", sa.String(64)),
    sa.Column("last_run_at", UTCDateTime),
    sa.Column("last_run_status", sa.String(32)),
    sa.Column("avg_processing_time_s", sa.Float),
    sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("consecutive_failure_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# raw_jobs: every posting of the last ingest, rejected ones included (rejection_reason set).
raw_jobs = _stage_jobs_table(
    "raw_jobs",
    sa.Column("rejection_reason", sa.String(16)),
    sa.Column("rejection_detail", sa.Text),
    sa.Column("ingested_at", UTCDateTime, nullable=False),
    # A digest of every other stored value (`store.stages.raw_row`): a rerun rewrites only the postings whose digest
    # changed, and pass 1 fingerprints a block from its postings' digests.
    sa.Column("row_hash", sa.String(32)),
    # The record as the source sent it (JobRecord.source_digest) and the posting's coverage bits: the next read
    # of the same bytes keeps this row without normalizing the record again (UnchangedPosting).
    sa.Column("source_digest", sa.String(32)),
    sa.Column("coverage_mask", sa.Integer),
)

# ingests: one row per ingest attempt, so "incomplete" is visible and later stages can ask.
ingests = sa.Table(
    "ingests",
    metadata,
    _feed_id_column(),
    _run_id_column(),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("unchanged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("error", sa.Text),
    sa.Column("stats", JSONType, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "run_id"),
)

# deduped_jobs: pass 1 output, one row per merged job (rejected postings excluded).
deduped_jobs = _stage_jobs_table(
    "deduped_jobs",
    _run_id_column(),
    # A digest of the job's stored values (`store.stages.deduped_row`): stage 1 redoes only the jobs whose digest
    # changed since it last ran, and the pass 2 groups they belong to.
    sa.Column("row_hash", sa.String(32)),
)

# dedupe_blocks: what each pass 1 block was last clustered from (a fingerprint of its raw postings and the dedupe
# settings) and its figures, so a rerun keeps the deduped rows of unchanged blocks and re-clusters only the others.
dedupe_blocks = sa.Table(
    "dedupe_blocks",
    metadata,
    _feed_id_column(),
    sa.Column("block_key", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("figures", JSONType, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "block_key"),
)

# enrichments: pass 2 output plus both AI stages, one row per job after the ai_title merge.
enrichments = sa.Table(
    "enrichments",
    metadata,
    _feed_id_column(),
    _job_key_column(),
    sa.Column("merged_keys", JSONType, nullable=False),  # deduped_jobs keys merged by pass 2
    sa.Column("ai_block_key", sa.String(64), nullable=False, server_default=""),
    # What the row was made from: stage 1's settings and the digests of the deduped jobs it stands for
    # (`core.enrichment_sources`); a row whose sources still match is kept by the next stage 1 run.
    sa.Column("source_hash", sa.String(32)),
    # A digest of the row as stage 1 and pass 2 wrote it (`store.stages.write_enrichments`): with the stage 2
    # columns, what routing compares to know whether a job's route can have changed.
    sa.Column("answer_hash", sa.String(32)),
    sa.Column("locations", JSONType, nullable=False),
    sa.Column("is_multi_location", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ok | failed | archived
    sa.Column("error", sa.Text),
    sa.Column("model", sa.Text),
    sa.Column("industry", sa.Text),
    sa.Column("industry_confidence", sa.Float),
    *_standardized_columns(),
    sa.Column("application_deadline", sa.Text),
    sa.Column("job_function", sa.Text),
    sa.Column("function_confidence", sa.Float),
    sa.Column("function_status", sa.String(16)),  # ok | no_fit | failed | skipped
    sa.Column("function_error", sa.Text),
    # The stage 2 settings the function was answered under (`pipeline.enrich.function_settings`); NULL when
    # stage 1 rewrote the row since, so stage 2 answers only rows without a current answer.
    sa.Column("function_source", sa.String(32)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "job_key"),
    sa.Index("ix_enrichments_feed_industry", "feed_id", "industry"),
    sa.Index("ix_enrichments_feed_ai_block", "feed_id", "ai_block_key"),
)

enrichment_cache = sa.Table(
    "enrichment_cache",
    metadata,
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("model", sa.String(120), nullable=False),
    sa.Column("prompt_version", sa.String(32), nullable=False),
    sa.Column("result", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("input_hash", "stage", "model", "prompt_version"),
)

# jobs: the source of truth, one row per job ever seen per feed, with its current route.
jobs = sa.Table(
    "jobs",
    metadata,
    *_job_columns(),
    sa.Column("industry", sa.Text),
    sa.Column("industry_confidence", sa.Float),
    sa.Column("job_function", sa.Text),
    sa.Column("function_confidence", sa.Float),
    sa.Column("routing_confidence", sa.Float),
    *_standardized_columns(),
    sa.Column("route", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    # An approved job's published record hash (core.mirror.record_hash), set by routing: the mirror and its check
    # diff Xano on it without building every record. NULL for the other routes.
    sa.Column("record_hash", sa.String(32)),
    # What the job was last routed from (`pipeline.route.route_source`): its enrichment, its review decision and
    # the routing settings. A rerun routes again only the jobs whose source differs.
    sa.Column("route_source", sa.String(32)),
    sa.Column("last_run_id", sa.String(64)),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "job_key"),
    sa.Index("ix_jobs_route", "route", "posted_at"),
    sa.Index("ix_jobs_feed_route", "feed_id", "route"),
    sa.Index("ix_jobs_dedupe_key", "dedupe_key"),
    sa.Index("ix_jobs_job_key", "job_key"),  # migration 0002: the API looks jobs up by key alone
)

# job_route_history: every change of a job's route, so "why is it archived now?" has an answer.
job_route_history = sa.Table(
    "job_route_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _feed_id_column(),
    _job_key_column(),
    _run_id_column(nullable=True),
    sa.Column("route", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("routing_confidence", sa.Float),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Index("ix_job_route_history_job", "feed_id", "job_key"),
    sa.Index("ix_job_route_history_job_key", "job_key"),  # migration 0002
)

# review_decisions: an operator's approve/reject, applied while the content hash is unchanged.
review_decisions = sa.Table(
    "review_decisions",
    metadata,
    _feed_id_column(),
    _job_key_column(),
    sa.Column("decision", sa.String(16), nullable=False),  # approve | reject
    sa.Column("note", sa.Text),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "job_key"),
)

execution_reports = sa.Table(
    "execution_reports",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    _feed_id_column(),
    sa.Column("status", sa.String(32), nullable=False),  # started | success | partial | failed | canceled
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("duration_s", sa.Float),
    sa.Column("stages", JSONType, nullable=False),  # stage -> {"duration_s": .., counts...}
    sa.Column("counts", JSONType, nullable=False),
    sa.Column("ai_usage", JSONType, nullable=False),
    sa.Column("mirror", JSONType, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("health_recorded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_execution_reports_feed", "feed_id", "started_at"),
)

# stage_versions: what each stage of a feed last ran on, so a stage whose input did not change does nothing.
# `input_version` hashes the upstream stage's output version and this stage's settings; `output_version` is what
# the next stage sees (equal to the input version when the stage finished everything, so an unchanged chain
# stays unchanged); `figures` are the stage's last report entry, carried into a run that skips it.
stage_versions = sa.Table(
    "stage_versions",
    metadata,
    _feed_id_column(),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("input_version", sa.String(64), nullable=False),
    sa.Column("output_version", sa.String(128), nullable=False),
    _run_id_column(),
    sa.Column("figures", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("feed_id", "stage"),
)

run_leases = sa.Table(
    "run_leases",
    metadata,
    _feed_id_column(primary_key=True),  # one run per feed at a time (store/leases.py)
    _run_id_column(),
    sa.Column("holder", sa.Text, nullable=False, server_default=""),  # host and pid, for the operator
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# Search objects migration 0002 creates outside this metadata (dialect-specific): autogenerate leaves them alone.
SEARCH_OBJECTS = frozenset(
    {"search_vector", "jobs_fts", "job_search_docs", "ix_jobs_search_vector", "ix_jobs_route_newest"}
)

ROUTE_VIEWS = {
    "open_jobs": "approved",
    "manual_review_jobs": "manual_review",
    "archived_jobs": "archived",
    "rejected_jobs": "rejected",
    "failed_jobs": "failed",
}
