"""The remoteok source against a loopback RemoteOK: legal element, string ids, salary 0, empty locations, tags."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedSpec, FeedUnavailableError
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.remoteok import ATTRIBUTION, RemoteOkReader
from feed_pipeline_tests.fakes.job_api_servers import (
    REMOTEOK_LEGAL,
    Fault,
    remoteok_job,
)

NOW = datetime(2024, 5, 10, tzinfo=UTC)


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=2, initial_wait=0.01, max_wait=0.02)) as fetcher:
        yield fetcher


def read(apis, fetcher, **params):
    params.setdefault("requests_per_minute", 60_000)
    reader = RemoteOkReader(FeedSpec("ro", "remoteok", None, params), fetcher=fetcher, env=apis.env(), now=NOW)
    return list(reader), reader.outcome


def test_jobs_after_the_legal_element_become_records(apis, fetcher):
    apis.remoteok.jobs = [
        remoteok_job("1029384", "Senior Backend Engineer", "Acme", tags=["backend", "golang"], location="",
                     salary_min=0, salary_max=0),
        remoteok_job("1029385", "DevOps Engineer", "Globex", tags=["devops"], location=None,
                     salary_min=120000, salary_max=150000),
        remoteok_job("1029386", "Platform Engineer", "Initech", tags=["aws"], location="Europe"),
    ]

    jobs, outcome = read(apis, fetcher)

    assert [j.source_id for j in jobs] == ["1029384", "1029385", "1029386"]
    first, second, third = jobs
    assert (first.source, first.title, first.company, first.tags) == ("remoteok", "Senior Backend Engineer", "Acme",
                                                                      ["backend", "golang"])
    assert first.locations == [] and second.locations == [] and third.locations == ["Europe"]
    assert all(job.is_remote for job in jobs)
    assert (first.salary_min, first.salary_max, first.salary_currency) == (None, None, None)
    assert (second.salary_min, second.salary_max, second.salary_currency, second.salary_period) == (
        120000.0, 150000.0, "USD", "year")
    assert first.posted_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert first.description.startswith("Acme is hiring a Senior Backend Engineer.")
    assert "<strong>" in first.description_html
    assert first.url.startswith("https://remoteOK.com/remote-jobs/")
    assert first.extra["apply_url"] == "https://remoteok.com/remote-jobs/1029384/apply"
    assert first.extra["source_attribution"] == ATTRIBUTION
    assert all(job.job_key and job.content_hash and job.rejection_reason is None for job in jobs)
    assert outcome.complete and outcome.records_seen == 3
    assert outcome.stats["requests"] == 1 and outcome.stats["accepted"] == 3
    assert apis.remoteok.paths() == ["/api"]
    assert apis.remoteok.requests[0].query == {}


def test_an_answer_with_only_the_legal_element_is_a_complete_empty_feed(apis, fetcher):
    jobs, outcome = read(apis, fetcher)

    assert jobs == []
    assert outcome.complete and outcome.error is None
    assert outcome.stats["items_received"] == 0 and outcome.bytes_read > len(REMOTEOK_LEGAL["legal"])


def test_postings_outside_the_role_filter_are_counted_not_yielded(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend Engineer", tags=["backend"]),
                              remoteok_job("2", "Marketing Lead", tags=["marketing"]),
                              remoteok_job("3", "Customer Support", tags=["support"])]

    jobs, outcome = read(apis, fetcher)

    assert [j.source_id for j in jobs] == ["1"]
    assert outcome.stats["filtered_role"] == 2 and outcome.records_seen == 1


def test_role_filter_none_keeps_every_posting(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend Engineer"), remoteok_job("2", "Marketing Lead")]

    jobs, _ = read(apis, fetcher, role_filter="none")

    assert len(jobs) == 2


def test_each_tag_is_one_request_and_a_job_under_two_tags_is_kept_once(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend SRE", tags=["backend", "devops"]),
                              remoteok_job("2", "DevOps Engineer", tags=["devops"])]

    jobs, outcome = read(apis, fetcher, tags="backend,devops")

    assert sorted(j.source_id for j in jobs) == ["1", "2"]
    assert [r.query for r in apis.remoteok.requests] == [{"tag": "backend"}, {"tag": "devops"}]
    assert outcome.stats["duplicates_skipped"] == 1


def test_max_age_days_drops_older_postings(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend Engineer", date="2024-05-09T00:00:00+00:00"),
                              remoteok_job("2", "Backend Engineer II", date="2024-04-01T00:00:00+00:00")]

    jobs, outcome = read(apis, fetcher, max_age_days=7)

    assert [j.source_id for j in jobs] == ["1"]
    assert outcome.stats["filtered_too_old"] == 1


def test_a_malformed_item_is_skipped_and_counted_without_losing_the_others(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend Engineer"), "not a job",
                              {**remoteok_job("", "DevOps Engineer"), "url": "", "apply_url": ""}]

    jobs, outcome = read(apis, fetcher)

    assert [j.source_id for j in jobs] == ["1"]
    assert outcome.stats["malformed_items"] == 2
    assert "not an object" in outcome.stats["first_malformed_item"]
    assert outcome.complete


def test_an_object_instead_of_the_job_array_raises_a_feed_error_naming_the_feed(apis, fetcher):
    apis.remoteok.add_fault(Fault(200, {"error": "rate limited, try later"}))

    with pytest.raises(FeedError, match=r"feed 'ro': remoteok answered with an object where a JSON array"):
        read(apis, fetcher)


def test_an_html_page_instead_of_json_raises_a_feed_error(apis, fetcher):
    apis.remoteok.add_fault(Fault(200, b"<html>Just a moment...</html>", {"Content-Type": "text/html"}))

    with pytest.raises(FeedError, match=r"not JSON"):
        read(apis, fetcher)


def test_a_transient_server_error_is_retried(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("1", "Backend Engineer")]
    apis.remoteok.add_fault(Fault(503, {"error": "busy"}))

    jobs, outcome = read(apis, fetcher)

    assert len(jobs) == 1 and outcome.complete
    assert [r.status for r in apis.remoteok.requests] == [503, 200]


def test_a_server_that_keeps_failing_raises_feed_unavailable(apis, fetcher):
    apis.remoteok.add_fault(Fault(502, {"error": "bad gateway"}, times=2))

    with pytest.raises(FeedUnavailableError, match=r"remoteok request failed: .*502"):
        read(apis, fetcher)


def test_params_remoteok_cannot_use_are_a_configuration_error(apis, fetcher):
    with pytest.raises(FeedConfigError, match=r"does not use params country, query"):
        read(apis, fetcher, query="backend", country="us")


def test_a_base_url_with_a_path_is_a_configuration_error(apis):
    with pytest.raises(FeedConfigError, match=r"REMOTEOK_BASE_URL='http://x/api' must be only a scheme and host"):
        RemoteOkReader(FeedSpec("ro", "remoteok", None, {}), env={"REMOTEOK_BASE_URL": "http://x/api"})
