"""Feeds: the registry with each feed's health, one feed in detail, its execution reports (operator endpoints).

Feed URLs and params leave here redacted (core/redact.py): credentials show as `***`, a local file by its name.
"""
from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from feed_pipeline.api.dependencies import get_engine, require_api_token
from feed_pipeline.api.errors import ERROR_RESPONSES, NOT_FOUND, OPERATOR_ERRORS, ApiError, not_found
from feed_pipeline.api.models import Feed, FeedDetail, FeedHealth, FeedTaxonomyIn, Report, ReportList, SafeText
from feed_pipeline.core.redact import display_feed_url, redact_params, redact_text
from feed_pipeline.core.taxonomy import TaxonomyError
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import reports

router = APIRouter(tags=["feeds"], dependencies=[Depends(require_api_token)], responses=OPERATOR_ERRORS)


def health_of(feed: feed_store.Feed) -> FeedHealth:
    if feed.last_run_status is None:
        status = "never_run"
    else:
        status = "ok" if feed.last_run_status in (reports.SUCCESS, reports.PARTIAL) else "failing"
    return FeedHealth(status=status, last_run_at=feed.last_run_at, last_run_status=feed.last_run_status,
                      run_count=feed.run_count, consecutive_failure_count=feed.consecutive_failure_count,
                      avg_processing_time_s=feed.avg_processing_time_s)


def feed_model(feed: feed_store.Feed) -> Feed:
    return Feed(id=feed.id, name=feed.name, kind=feed.kind, url=display_feed_url(feed.url),
                params=redact_params(feed.params), active=feed.active, taxonomy_version=feed.taxonomy_version,
                health=health_of(feed))


def report_model(row: dict) -> Report:
    """A report as answered: its error text redacted (it may quote a request that failed)."""
    return Report(**{**row, "error": redact_text(row["error"]) if row.get("error") else row.get("error")})


def feed_or_404(engine: sa.Engine, feed_id: str) -> feed_store.Feed:
    try:
        return feed_store.get_feed(engine, feed_id)
    except feed_store.FeedNotFoundError as exc:
        raise not_found("feed", f"feed {feed_id!r} is not registered; GET /api/feeds lists the feeds") from exc


@router.get("/feeds", response_model=list[Feed], responses=ERROR_RESPONSES)
def list_feeds(
    engine: sa.Engine = Depends(get_engine),
    active_only: Annotated[bool, Query(description="only feeds the schedule runs")] = False,
) -> list[Feed]:
    """Every registered feed with its health, by id."""
    return [feed_model(f) for f in feed_store.list_feeds(engine, active_only=active_only)]


@router.get("/feeds/{feed_id}", response_model=FeedDetail, responses={**ERROR_RESPONSES, **NOT_FOUND})
def get_feed(feed_id: SafeText, engine: sa.Engine = Depends(get_engine)) -> FeedDetail:
    """One feed's health: last runs, failures in a row, average duration, its jobs by route, the newest report."""
    feed = feed_or_404(engine, feed_id)
    newest = reports.list_reports(engine, feed_id, limit=1)
    return FeedDetail(**feed_model(feed).model_dump(), etag=feed.etag, last_modified=feed.last_modified,
                      content_hash=feed.content_hash, jobs_by_route=job_store.route_counts(engine, feed_id),
                      last_report=report_model(newest[0]) if newest else None)


@router.get("/feeds/{feed_id}/reports", response_model=ReportList, responses={**ERROR_RESPONSES, **NOT_FOUND})
def list_reports(
    feed_id: SafeText,
    engine: sa.Engine = Depends(get_engine),
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReportList:
    """The feed's execution reports (one per run), newest first."""
    feed_or_404(engine, feed_id)
    rows = reports.list_reports(engine, feed_id, limit=limit, offset=offset)
    return ReportList(feed_id=feed_id, limit=limit, offset=offset, reports=[report_model(r) for r in rows])


@router.put("/feeds/{feed_id}/taxonomy", response_model=Feed, responses={**ERROR_RESPONSES, **NOT_FOUND})
def put_feed_taxonomy(feed_id: SafeText, body: FeedTaxonomyIn, engine: sa.Engine = Depends(get_engine)) -> Feed:
    """Give the feed its own taxonomy (validated; 422 names the entry), or null to use the deployment's again.

    Its next run classifies in it; the enrichment cache re-asks only what the change affects.
    """
    feed_or_404(engine, feed_id)
    try:
        feed = feed_store.set_feed_taxonomy(engine, feed_id, body.taxonomy)
    except TaxonomyError as exc:
        raise ApiError(422, "invalid_taxonomy", str(exc)) from exc
    except feed_store.FeedNotFoundError as exc:
        raise not_found("feed", f"feed {feed_id!r} is not registered; GET /api/feeds lists the feeds") from exc
    return feed_model(feed)
