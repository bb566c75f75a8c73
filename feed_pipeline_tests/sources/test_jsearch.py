"""The jsearch source against a loopback JSearch behind RapidAPI: envelope, paging, quotas and errors."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.sources.base import FeedConfigError, FeedSpec, FeedUnavailableError
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.jsearch import RAPIDAPI_HOST, JSearchQuotaExhausted, JSearchReader, date_posted_for
from feed_pipeline_tests.fakes.job_api_servers import (
    JSEARCH_PER_SECOND,
    Fault,
    jsearch_job,
)

NOW = datetime(2024, 5, 10, tzinfo=UTC)


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=3, initial_wait=0.01, max_wait=0.02)) as fetcher:
        yield fetcher


def reader(apis, fetcher, env=None, **params) -> JSearchReader:
    params.setdefault("requests_per_minute", 60_000)
    return JSearchReader(FeedSpec("js", "jsearch", None, params), fetcher=fetcher,
                         env=apis.env() if env is None else env, now=NOW)


def read(apis, fetcher, **params):
    source = reader(apis, fetcher, **params)
    return list(source), source.outcome


def backend_jobs(count: int, prefix: str = "j") -> list[dict]:
    return [jsearch_job(f"{prefix}{i}", f"Backend Engineer {i}") for i in range(count)]


def test_items_of_the_envelope_become_records(apis, fetcher):
    apis.jsearch.jobs = [
        jsearch_job("a1", "Senior Backend Engineer", "Acme", employment_type="FULLTIME", is_remote=True,
                    min_salary=150000, max_salary=180000, salary_period="YEAR", skills=["Go", "Kubernetes"],
                    expires="2024-06-30T00:00:00.000Z"),
        jsearch_job("a2", "DevOps Contractor", "Globex", employment_type="CONTRACTOR", city=None, state=None,
                    country="DE"),
        jsearch_job("a3", "SRE Intern", employment_type="INTERN"),
        jsearch_job("a4", "Platform Engineer (part time)", employment_type="PARTTIME"),
        jsearch_job("a5", "Cloud Engineer", employment_type="TEMPORARY"),
    ]

    jobs, outcome = read(apis, fetcher)

    assert [j.employment_type for j in jobs] == ["full_time", "contract", "internship", "part_time", "temporary"]
    first = jobs[0]
    assert (first.source, first.source_id, first.title, first.company) == (
        "jsearch", "a1", "Senior Backend Engineer", "Acme")
    assert first.is_remote is True and jobs[1].is_remote is False
    assert (first.salary_min, first.salary_max, first.salary_currency, first.salary_period) == (
        150000.0, 180000.0, "USD", "year")
    assert first.locations == ["Austin, TX, US"] and jobs[1].locations == ["DE"]
    assert first.posted_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert first.expires_at == datetime(2024, 6, 30, tzinfo=UTC)
    assert first.tags == ["Go", "Kubernetes"]
    assert first.extra["publisher"] == "LinkedIn"
    assert first.url.startswith("https://www.linkedin.com/jobs/view/")
    assert outcome.complete and outcome.records_seen == 5


def test_the_request_carries_rapidapi_headers_and_the_search_params(apis, fetcher):
    read(apis, fetcher, query="platform engineer", location="Berlin", country="DE", remote_only=True,
         max_age_days=5, employment_types=["fulltime", "CONTRACTOR"])

    (request,) = apis.jsearch.requests
    assert request.path == "/search"
    assert request.headers["x-rapidapi-key"] == "test-key"
    assert request.headers["x-rapidapi-host"] == RAPIDAPI_HOST
    assert request.query == {"query": "platform engineer in Berlin", "page": "1", "num_pages": "1",
                             "date_posted": "week", "employment_types": "FULLTIME,CONTRACTOR",
                             "remote_jobs_only": "true", "country": "de"}


@pytest.mark.parametrize("days, window", [(None, "all"), (1, "today"), (2, "3days"), (3, "3days"), (7, "week"),
                                          (30, "month"), (31, "all")])
def test_max_age_is_sent_as_the_narrowest_date_posted_window_that_covers_it(days, window):
    assert date_posted_for(days) == window


def test_an_expired_offer_is_yielded_as_rejected_expired(apis, fetcher):
    apis.jsearch.jobs = [jsearch_job("old", "Backend Engineer", expires="2024-05-01T00:00:00.000Z")]

    (job,), outcome = read(apis, fetcher)

    assert job.rejection_reason == "expired"
    assert outcome.stats["rejected_expired"] == 1 and outcome.stats["accepted"] == 0


def test_remote_only_keeps_remote_postings_even_if_the_server_ignores_the_flag(apis, fetcher):
    apis.jsearch.jobs = [jsearch_job("r", "Backend Engineer", is_remote=True),
                             jsearch_job("o", "Backend Engineer II", is_remote=False)]
    apis.jsearch.add_fault(Fault(200, {"status": "OK", "request_id": "x", "parameters": {},
                                           "data": apis.jsearch.jobs}))

    jobs, outcome = read(apis, fetcher, remote_only=True)

    assert [j.source_id for j in jobs] == ["r"]
    assert outcome.stats["filtered_not_remote"] == 1


def test_pages_are_requested_until_a_short_page_within_the_page_limit(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(25)

    jobs, outcome = read(apis, fetcher, pages=5, pages_per_request=1)

    assert len(jobs) == 25
    assert [(r.query["page"], r.query["num_pages"]) for r in apis.jsearch.requests] == [
        ("1", "1"), ("2", "1"), ("3", "1")]
    assert outcome.complete and outcome.stats["pages"] == 3


def test_the_page_limit_stops_paging(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(50)

    jobs, _ = read(apis, fetcher, pages=2, pages_per_request=1)

    assert len(jobs) == 20
    assert len(apis.jsearch.requests) == 2


def test_several_pages_come_in_one_request_by_default(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(30)

    jobs, _ = read(apis, fetcher, pages=3)

    assert len(jobs) == 30
    assert [(r.query["page"], r.query["num_pages"]) for r in apis.jsearch.requests] == [("1", "3")]
    assert apis.jsearch.used == 2  # RapidAPI bills 2-10 pages as two requests


def test_a_posting_repeated_on_the_next_page_is_kept_once(apis, fetcher):
    jobs = backend_jobs(10)
    apis.jsearch.jobs = [*jobs, jobs[-1], *backend_jobs(3, prefix="k")]

    records, outcome = read(apis, fetcher, pages=2, pages_per_request=1)

    assert len(records) == 13 and len({r.job_key for r in records}) == 13
    assert outcome.stats["duplicates_skipped"] == 1


def test_not_subscribed_403_is_a_configuration_error_and_not_retried(apis, fetcher):
    with pytest.raises(FeedConfigError, match=r"403: You are not subscribed to this API\.\); subscribe the key in "
                                              r"RAPIDAPI_KEY to JSearch"):
        read(apis, fetcher, env=apis.env(RAPIDAPI_KEY="someone-elses-key"))
    assert len(apis.jsearch.requests) == 1


def test_a_missing_key_is_a_configuration_error_before_any_request(apis, fetcher):
    env = {k: v for k, v in apis.env().items() if k != "RAPIDAPI_KEY"}

    with pytest.raises(FeedConfigError, match=r"the jsearch source needs RAPIDAPI_KEY in the environment"):
        reader(apis, fetcher, env=env)
    assert apis.jsearch.requests == []


def test_monthly_quota_429_is_not_retried_and_says_when_it_resets(apis, fetcher):
    apis.jsearch.monthly_quota = 0
    apis.jsearch.reset_s = 7200

    with pytest.raises(JSearchQuotaExhausted, match=r"quota for JSearch is used up \(429: You have exceeded the "
                                                    r"MONTHLY quota.*it resets in 7,200 s \(~2\.0 h\)"):
        read(apis, fetcher)
    assert len(apis.jsearch.requests) == 1


def test_quota_running_out_after_a_page_keeps_that_page_and_stops_asking(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(30)
    apis.jsearch.monthly_quota = 1

    jobs, outcome = read(apis, fetcher, pages=3, pages_per_request=1)

    assert len(jobs) == 10
    assert not outcome.complete
    assert "0 of 1 requests remain" in outcome.error and "pages from 2 on were not fetched" in outcome.error
    assert len(apis.jsearch.requests) == 1
    assert outcome.stats["quota_remaining"] == 0 and outcome.stats["quota_limit"] == 1


def test_monthly_quota_429_on_a_later_page_keeps_the_pages_before(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(30)
    apis.jsearch.add_fault(Fault(429, {"message": "You have exceeded the MONTHLY quota for Requests on your "
                                                      "current plan, BASIC."},
                                     when=lambda r: r.query.get("page") == "2"))

    jobs, outcome = read(apis, fetcher, pages=3, pages_per_request=1)

    assert len(jobs) == 10 and not outcome.complete
    assert "MONTHLY quota" in outcome.error and "after 1 page(s)" in outcome.error
    assert [r.status for r in apis.jsearch.requests] == [200, 429]


def test_per_second_429_is_retried_with_backoff(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(3)
    apis.jsearch.add_fault(Fault(429, JSEARCH_PER_SECOND))

    jobs, outcome = read(apis, fetcher)

    assert len(jobs) == 3 and outcome.complete
    assert [r.status for r in apis.jsearch.requests] == [429, 200]


def test_pacing_keeps_requests_under_the_per_second_limit(apis, fetcher):
    apis.jsearch.jobs = backend_jobs(50)
    apis.jsearch.per_second = 4  # five unpaced requests would break it

    jobs, outcome = read(apis, fetcher, pages=5, pages_per_request=1, requests_per_minute=150)  # one per 0.4 s

    assert len(jobs) == 50
    assert apis.jsearch.per_second_rejections == 0
    starts = [r.at for r in apis.jsearch.requests]
    # Paced at one per 0.4 s: the whole span shows it (single gaps jitter with arrival times on a busy machine).
    assert starts[-1] - starts[0] >= 0.4 * (len(starts) - 1) * 0.8
    assert outcome.stats["paced_wait_s"] > 1.0


def test_an_error_status_in_the_envelope_is_reported(apis, fetcher):
    apis.jsearch.add_fault(Fault(200, {"status": "ERROR", "request_id": "x",
                                           "error": {"message": "Invalid query", "code": 400}, "data": []}))

    with pytest.raises(FeedUnavailableError, match=r"jsearch answered status 'ERROR': Invalid query"):
        read(apis, fetcher)


@pytest.mark.parametrize("params, message", [
    ({"pages": 0}, r"params.pages must be an integer from 1 to 1,000"),
    ({"pages_per_request": 11}, r"params.pages_per_request must be an integer from 1 to 10"),
    ({"country": "usa"}, r"params.country must be a two-letter ISO code"),
    ({"employment_types": ["FULL_TIME"]}, r"\['FULL_TIME'\] are not JSearch types"),
    ({"remote_only": "maybe"}, r"params.remote_only must be true or false"),
    ({"tags": "x"}, r"does not use params tags"),
])
def test_unusable_params_are_configuration_errors(apis, fetcher, params, message):
    with pytest.raises(FeedConfigError, match=message):
        reader(apis, fetcher, **params)
