"""Jobs: search and filter the source of truth, read one job with its history, record a review decision."""
from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator

from feed_pipeline.api.dependencies import get_engine, get_text_condition, require_job_reader, require_write_token
from feed_pipeline.api.errors import ERROR_RESPONSES, NOT_FOUND, READ_ERRORS, WRITE_ERRORS, ApiError, not_found
from feed_pipeline.api.models import (
    LIST_DESCRIPTION_MAX_CHARS,
    Job,
    JobDetail,
    JobList,
    ReviewDecision,
    ReviewIn,
    SafeText,
)
from feed_pipeline.core.jobs import EmploymentType, Route
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import search
from feed_pipeline.store.rows import as_utc

router = APIRouter(tags=["jobs"])

MAX_OFFSET = 10_000_000
MAX_SEARCH_CHARS = 500


def utc_datetime(value: datetime | None) -> datetime | None:
    """In UTC; an offset that pushes a date past year 1 or 9999 pins it to that end of the calendar."""
    try:
        return as_utc(value)
    except OverflowError:
        edge = datetime.min if value.year < 5000 else datetime.max
        return edge.replace(tzinfo=UTC)


RouteFilter = StrEnum("RouteFilter", {**{r.name: r.value for r in Route}, "ANY": "any"})


@router.get("/jobs", response_model=JobList, responses={**ERROR_RESPONSES, **READ_ERRORS},
            dependencies=[Depends(require_job_reader)])
def list_jobs(
    engine: sa.Engine = Depends(get_engine),
    text_condition: search.TextCondition | None = Depends(get_text_condition),
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT, description="page size")] = search.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="jobs to skip")] = 0,
    search_text: Annotated[SafeText | None, Query(
        alias="search", max_length=MAX_SEARCH_CHARS,
        description='full text over title, description and skills: words are ANDed, "a phrase", '
                    "`or` between terms, `-word` excludes")] = None,
    source: Annotated[list[SafeText], Query(
        description="job source (xml, remoteok, jsearch, adzuna); repeatable")] = [],  # noqa: B006
    feed_id: Annotated[SafeText | None, Query(max_length=200)] = None,
    employment_type: EmploymentType | None = None,
    remote_only: Annotated[bool, Query(description="only jobs the feed or the AI marks fully remote")] = False,
    industry: Annotated[SafeText | None, Query(max_length=200, description="taxonomy industry, exact")] = None,
    job_function: Annotated[SafeText | None, Query(max_length=200, description="taxonomy function, exact")] = None,
    city: Annotated[SafeText | None, Query(max_length=200, description="city, any case")] = None,
    state: Annotated[SafeText | None, Query(
        max_length=200, description="state or region; a US state or Canadian province by code or name "
                                    "(TX, Texas)")] = None,
    country: Annotated[SafeText | None, Query(
        max_length=200, description="country by name or code, matching every form feeds write (US, USA, "
                                    "United States)")] = None,
    route: Annotated[RouteFilter, Query(description="`any` for every route")] = RouteFilter.APPROVED,
    posted_after: Annotated[datetime | None, AfterValidator(utc_datetime), Query(
        description="ISO 8601; without an offset it is UTC")] = None,
    distinct: Annotated[bool, Query(description="collapse cross-feed duplicates (same dedupe_key) into one")] = False,
    sort: Annotated[search.JobSort, Query(
        description="newest (default), oldest, relevance (best match first; newest without a search), salary, "
                    "updated; ties broken by feed_id, job_key")] = search.JobSort.NEWEST,
) -> JobList:
    """Jobs matching every given filter, one page in a total order, with how many match in all."""
    query = search.JobQuery(
        search=search_text, sources=tuple(source), feed_id=feed_id,
        employment_type=employment_type.value if employment_type else None, remote_only=remote_only,
        industry=industry, job_function=job_function, city=city, state=state, country=country,
        route=None if route.value == "any" else route.value,
        posted_after=posted_after, distinct=distinct, sort=sort, limit=limit, offset=offset,
    )
    try:
        page = search.search_jobs(engine, query, text_condition=text_condition)
    except search.SearchQueryError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return JobList(total=page.total, total_exact=page.total_exact, limit=limit, offset=offset,
                   jobs=[Job.from_row(r, description_chars=LIST_DESCRIPTION_MAX_CHARS) for r in page.rows])


def _job_or_404(engine: sa.Engine, job_key: str) -> dict:
    try:
        return job_store.get_job(engine, job_key)
    except job_store.JobNotFoundError as exc:
        raise not_found("job", f"no job with key {job_key!r}; job keys come from GET /api/jobs") from exc


@router.get("/jobs/{job_key}", response_model=JobDetail, responses={**ERROR_RESPONSES, **NOT_FOUND, **READ_ERRORS},
            dependencies=[Depends(require_job_reader)])
def get_job(job_key: SafeText, engine: sa.Engine = Depends(get_engine)) -> JobDetail:
    """One job with every field, its route history and the operator's review decision."""
    row = _job_or_404(engine, job_key)
    return JobDetail.from_parts(row, job_store.route_history(engine, job_key),
                                search.get_review(engine, row["feed_id"], job_key))


@router.post("/jobs/{job_key}/review", response_model=ReviewDecision,
             responses={**ERROR_RESPONSES, **NOT_FOUND, **WRITE_ERRORS},
             dependencies=[Depends(require_write_token)])
def review_job(job_key: SafeText, body: ReviewIn,
               engine: sa.Engine = Depends(get_engine)) -> ReviewDecision:
    """Record the manual review decision on the job's current content.

    Routing applies it from the feed's next run on (approve publishes, reject keeps it out of Xano) for as
    long as the job's content does not change; the job's route here changes with that run.
    """
    try:
        row = job_store.record_review(engine, job_key, body.decision, note=body.note,
                                      decided_by=body.decided_by or "api")
    except job_store.JobNotFoundError as exc:
        raise not_found("job", f"no job with key {job_key!r}; job keys come from GET /api/jobs") from exc
    return ReviewDecision(**row)
