"""RemoteOK, JSearch and Adzuna go through the same content rules as XML feeds: a hostile item comes out as
plain text, allowlisted HTML and http(s) links, and an unsafe apply URL rejects the job `invalid`."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.sources.adzuna import AdzunaReader
from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.jsearch import JSearchReader
from feed_pipeline.sources.remoteok import RemoteOkReader
from feed_pipeline_tests.core.test_content_safety import assert_plain, assert_safe_html
from feed_pipeline_tests.fakes.job_api_servers import adzuna_job, jsearch_job, remoteok_job

NOW = datetime(2024, 5, 10, tzinfo=UTC)
TITLE = "<script>alert(1)</script>Backend Engineer<img src=x onerror=alert(2)>"
COMPANY = "&lt;svg onload=alert(3)&gt;Acme"
DESCRIPTION = ("<p>Build <strong>APIs</strong></p><a href=\"javascript:alert(4)\" onclick=\"x()\">apply</a>"
               "<iframe src=\"https://evil.example\"></iframe><form action=\"https://evil.example\"></form>"
               "&lt;script&gt;alert(5)&lt;/script&gt;")


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=2, initial_wait=0.01, max_wait=0.02)) as fetcher:
        yield fetcher


def read(reader_class, kind, apis, fetcher):
    reader = reader_class(FeedSpec(kind, kind, None, {"requests_per_minute": 60_000}), fetcher=fetcher,
                          env=apis.env(), now=NOW)
    return list(reader)


def assert_published_safely(job) -> None:
    assert (job.title, job.company) == ("Backend Engineer", "Acme")
    for text in (job.title, job.company, job.description, *job.locations, *job.tags):
        assert_plain(text)
    assert "alert" not in job.description and "Build APIs" in job.description
    assert_safe_html(job.description_html)
    for value in job.extra.values():
        assert not (isinstance(value, str) and value.lower().lstrip().startswith(("javascript:", "data:")))


def test_remoteok_items_are_cleaned_and_an_unsafe_url_is_rejected(apis, fetcher):
    safe = remoteok_job("1", TITLE, COMPANY, description=DESCRIPTION, tags=["<b>backend</b>"])
    safe["logo"] = "javascript:alert(6)"
    unsafe = remoteok_job("2", "Backend Engineer", description=DESCRIPTION)
    unsafe["url"] = " JaVaScRiPt:alert(7)"
    apis.remoteok.jobs = [safe, unsafe]
    first, second = read(RemoteOkReader, "remoteok", apis, fetcher)
    assert_published_safely(first)
    assert first.tags == ["backend"] and "logo" not in first.extra and first.rejection_reason is None
    assert second.rejection_reason == "invalid" and second.url is None
    assert second.rejection_detail == "url has the scheme 'javascript'; only http and https are published"


def test_jsearch_items_are_cleaned_and_an_unsafe_url_is_rejected(apis, fetcher):
    safe = jsearch_job("j1", TITLE, COMPANY, description=DESCRIPTION, city="<i>Austin</i>")
    safe["employer_logo"] = "data:image/svg+xml,<svg onload=alert(8)>"
    unsafe = jsearch_job("j2", "Backend Engineer")
    unsafe["job_apply_link"] = "vbscript:msgbox(1)"
    apis.jsearch.jobs = [safe, unsafe]
    first, second = read(JSearchReader, "jsearch", apis, fetcher)
    assert_published_safely(first)
    assert first.city == "Austin" and "employer_logo" not in first.extra
    assert second.rejection_reason == "invalid" and "'vbscript'" in second.rejection_detail


def test_adzuna_items_are_cleaned_and_an_unsafe_url_is_rejected(apis, fetcher):
    safe = adzuna_job("1", TITLE, COMPANY, description=DESCRIPTION)
    unsafe = adzuna_job("2", "Backend Engineer")
    unsafe["redirect_url"] = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
    apis.adzuna.jobs = [safe, unsafe]
    first, second = read(AdzunaReader, "adzuna", apis, fetcher)
    assert_published_safely(first)
    assert second.rejection_reason == "invalid" and "'data'" in second.rejection_detail
