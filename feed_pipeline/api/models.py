"""Request and response bodies: the OpenAPI schema at /openapi.json is built from these and is the contract."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from feed_pipeline.store.rows import as_utc

UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""Every datetime leaves the API timezone-aware UTC (SQLite hands back naive ones)."""


NO_NUL_PATTERN = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL; the schema says so, and a NUL gets a clear 422 instead of a driver error."""
NO_NUL_MESSAGE = "must not contain NUL (\\x00) characters"

SafeText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN)]
"""Text that comes in from clients and may reach the database."""

MAX_LISTED_KEYS = 100
"""A job's member_keys and source_ids in one answer: 200,000 identical postings merged into one job would
otherwise make a single answer megabytes long. The counts say how many there are in all."""
LIST_DESCRIPTION_MAX_CHARS = 10_000
"""A description in a page of jobs (the detail has it whole): a feed may hold descriptions of up to 500,000
characters, and 200 of them would make one page 100 MB."""


class Salary(BaseModel):
    min: float | None
    max: float | None
    currency: str | None
    period: str | None = Field(description="year, month, week, day or hour")


class Location(BaseModel):
    city: str | None
    state: str | None
    country: str | None
    postal_code: str | None


class Enrichment(BaseModel):
    """What the two AI stages said about the job and how sure routing was."""

    industry: str | None
    industry_confidence: float | None
    job_function: str | None
    function_confidence: float | None
    routing_confidence: float | None
    ai_title: str | None
    ai_description: str | None
    skills: list[str]
    tech_stack: list[str]
    seniority: str | None
    remote_policy: str | None


class Job(BaseModel):
    job_key: str
    feed_id: str
    source: str
    source_id: str | None
    dedupe_key: str = Field(description="cross-feed identity; `distinct=true` collapses jobs sharing it")
    title: str
    company: str
    description: str
    description_truncated: bool = Field(
        False, description=f"the description was cut to {LIST_DESCRIPTION_MAX_CHARS:,} characters in this list; "
                           f"GET /api/jobs/{{job_key}} has it whole")
    url: str | None
    locations: list[str]
    location: Location
    is_multi_location: bool
    is_remote: bool | None
    employment_type: str | None
    salary: Salary | None = Field(description="null when the posting names no salary")
    posted_at: UtcDateTime | None
    expires_at: UtcDateTime | None
    requisition_id: str | None
    category: str | None
    status: str | None = Field(description="the feed's own status text, as given")
    tags: list[str]
    enrichment: Enrichment
    route: str = Field(description="approved, manual_review, archived, rejected or failed")
    reason: str | None = Field(description="why the job has its route (rejection reason, AI error, review)")
    first_seen_at: UtcDateTime
    last_seen_at: UtcDateTime
    updated_at: UtcDateTime
    relevance: float | None = Field(None, description="with sort=relevance: higher is a better match")
    duplicate_count: int | None = Field(
        None, description="with distinct=true: how many matching jobs share this job's dedupe_key")

    @classmethod
    def from_row(cls, row: dict[str, Any], *, description_chars: int | None = None) -> Job:
        """`description_chars` cuts the description (a page of jobs); None keeps it whole (one job)."""
        has_salary = any(row.get(k) is not None for k in ("salary_min", "salary_max"))
        description = row.get("description") or ""
        cut = description_chars is not None and len(description) > description_chars
        return cls(
            description=description[:description_chars] if cut else row.get("description"),
            description_truncated=cut,
            **{name: row.get(name) for name in (
                "job_key", "feed_id", "source", "source_id", "dedupe_key", "title", "company", "url", "is_remote",
                "employment_type", "posted_at", "expires_at", "requisition_id", "category", "status", "route",
                "reason", "first_seen_at", "last_seen_at", "updated_at", "relevance", "duplicate_count")},
            locations=list(row.get("locations") or []),
            location=Location(city=row.get("city"), state=row.get("state"), country=row.get("country"),
                              postal_code=row.get("postal_code")),
            is_multi_location=bool(row.get("is_multi_location")),
            salary=Salary(min=row.get("salary_min"), max=row.get("salary_max"), currency=row.get("salary_currency"),
                          period=row.get("salary_period")) if has_salary else None,
            tags=list(row.get("tags") or []),
            enrichment=Enrichment(
                **{name: row.get(name) for name in (
                    "industry", "industry_confidence", "job_function", "function_confidence", "routing_confidence",
                    "ai_title", "ai_description", "seniority", "remote_policy")},
                skills=list(row.get("skills") or []), tech_stack=list(row.get("tech_stack") or []),
            ),
        )


class JobList(BaseModel):
    total: int = Field(description="how many jobs match in all (duplicates counted once with distinct=true); "
                                   "on PostgreSQL the planner's estimate when it expects more than 1,000")
    total_exact: bool = Field(description="false when total is PostgreSQL's estimate")
    limit: int
    offset: int
    jobs: list[Job]


class RouteChange(BaseModel):
    run_id: str | None
    route: str
    reason: str | None
    routing_confidence: float | None
    changed_at: UtcDateTime


class ReviewIn(BaseModel):
    decision: Literal["approve", "reject"]
    note: SafeText | None = Field(None, max_length=2000)
    decided_by: SafeText | None = Field(None, max_length=200, description="who decided; default 'api'")


class ReviewDecision(BaseModel):
    feed_id: str
    job_key: str
    decision: Literal["approve", "reject"]
    note: str | None
    content_hash: str = Field(description="the content the decision holds for; a content change voids it")
    decided_by: str | None
    decided_at: UtcDateTime


class JobDetail(Job):
    description_html: str | None
    content_hash: str
    member_keys: list[str] = Field(description=f"the raw postings merged into this job, the first {MAX_LISTED_KEYS} "
                                               f"in key order")
    member_count: int = Field(description="how many raw postings were merged into this job in all")
    source_ids: list[str] = Field(description=f"the postings' own ids, the first {MAX_LISTED_KEYS}")
    source_id_count: int = Field(description="how many source ids the job has in all")
    extra: dict[str, Any] = Field(description="source-specific fields kept as given")
    route_history: list[RouteChange]
    review: ReviewDecision | None = Field(description="the operator's decision, if any")

    @classmethod
    def from_parts(cls, row: dict[str, Any], history: list[dict[str, Any]],
                   review: dict[str, Any] | None) -> JobDetail:
        base = Job.from_row(row).model_dump()
        member_keys, source_ids = list(row.get("member_keys") or []), list(row.get("source_ids") or [])
        return cls(
            **base, description_html=row.get("description_html"), content_hash=row["content_hash"],
            member_keys=member_keys[:MAX_LISTED_KEYS], member_count=len(member_keys),
            source_ids=source_ids[:MAX_LISTED_KEYS], source_id_count=len(source_ids),
            extra=dict(row.get("extra") or {}), route_history=[RouteChange(**h) for h in history],
            review=ReviewDecision(**review) if review else None,
        )


class FeedHealth(BaseModel):
    status: Literal["never_run", "ok", "failing"] = Field(
        description="never_run, ok (the last run succeeded, or was partial: see last_run_status) or failing (it "
                    "failed or was canceled; see consecutive_failure_count)")
    last_run_at: UtcDateTime | None
    last_run_status: str | None
    run_count: int
    consecutive_failure_count: int
    avg_processing_time_s: float | None


class Feed(BaseModel):
    id: str
    name: str
    kind: str
    url: str | None = Field(description="credentials redacted (`***`); a local file by its name only")
    params: dict[str, Any] = Field(description="secret-looking values redacted")
    active: bool
    taxonomy_version: str | None = Field(
        description="content hash of the feed's own taxonomy; null: it uses the deployment's (FEED_PIPELINE_TAXONOMY, "
                    "else the bundled one)")
    health: FeedHealth


class FeedTaxonomyIn(BaseModel):
    """A feed's own taxonomy, as `feeds add --taxonomy` takes it from a file."""

    taxonomy: dict[str, Any] | None = Field(
        description="the taxonomy JSON: industries[] of {name, description?, keywords?, functions[]: {name, "
                    "description?, keywords?}}, optional skills and technologies; null goes back to the deployment's")


class FeedDetail(Feed):
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    jobs_by_route: dict[str, int] = Field(description="the feed's jobs in the source of truth, by route")
    last_report: Report | None = Field(description="the newest execution report")


class Report(BaseModel):
    """One run's execution report, as the stages and the run status sensors wrote it."""

    run_id: str
    feed_id: str
    status: str = Field(description="started, success, partial, failed or canceled")
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    duration_s: float | None
    stages: dict[str, Any] = Field(description="stage -> {duration_s, counts...}")
    counts: dict[str, Any]
    ai_usage: dict[str, Any]
    mirror: dict[str, Any]
    error: str | None


class ReportList(BaseModel):
    feed_id: str
    limit: int
    offset: int
    reports: list[Report]


class RunIn(BaseModel):
    force: bool = Field(False, description="re-parse the feed even when its version did not change")
    allow_mass_delete: bool = Field(False, description="let the Xano mirror delete past its safety valve")


class RunLaunched(BaseModel):
    run_id: str
    feed_id: str
    status: str
    launched_via: Literal["graphql", "worker"]
    status_url: str


class RunCounts(BaseModel):
    raw: int
    closed: int
    invalid: int
    deduped: int
    approved: int
    manual_review: int
    archived: int
    failed: int


class RunAI(BaseModel):
    calls: int
    input_tokens: int
    output_tokens: int
    cache_hits: int


class RunMirror(BaseModel):
    added: int
    updated: int
    deleted: int
    unchanged: int


class RunSummary(BaseModel):
    """The object `feed-pipeline run` prints for a finished run (DESIGN.md)."""

    feed_id: str
    status: str
    run_id: str
    duration_s: float
    counts: RunCounts
    ai: RunAI
    mirror: RunMirror
    error: str | None = Field(None, description="a failed run's root cause")
    reasons: list[str] | None = Field(None, description="what a partial run left undone")


class RunStatus(BaseModel):
    run_id: str
    feed_id: str | None
    status: str = Field(description="queued, starting, started, success, partial, failed, canceling or canceled")
    finished: bool
    dagster_status: str | None = Field(description="the Dagster run status, when Dagster knows the run")
    summary: RunSummary | None = Field(description="set once the run has finished")
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="the SQL dialect answering: sqlite or postgresql")
    schema_revision: str | None
    writes_enabled: bool = Field(description="an API token is configured: the operator endpoints are on")
    public_jobs: bool = Field(description="job reads are open (FEED_PIPELINE_PUBLIC_JOBS)")
    run_launcher: Literal["graphql", "worker"]


class ExecutionStatus(BaseModel):
    """`GET /execution-status/{feed_id}`: the feed's health and its last run's report."""

    feed_id: str
    health: FeedHealth
    last_report: Report | None = Field(description="the newest execution report; null before the first run")


class IngestedFeed(BaseModel):
    feed_id: str
    kind: str
    run_id: str | None
    status: str = Field(description="the run's status (success, partial, failure...), `running` when it had not "
                                    "finished in time, or `already_running` when another run held the feed")
    counts: RunCounts | None = Field(description="the run summary's counts, once finished")
    error: str | None = None


class IngestResult(BaseModel):
    """`POST /api/jobs/ingest`: one run per active job-API feed, and what each source contributed."""

    feeds: list[IngestedFeed]
    sources: dict[str, dict[str, int]] = Field(
        description="source (remoteok, jsearch, adzuna) -> route -> jobs of those feeds, after the runs")
    finished: bool = Field(description="every run finished before the answer")


FeedDetail.model_rebuild()
ExecutionStatus.model_rebuild()
