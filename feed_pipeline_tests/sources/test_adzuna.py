"""The adzuna source against a loopback Adzuna: paging, nested objects, contract type/time, AUTH_FAIL, pacing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.sources.adzuna import AdzunaReader
from feed_pipeline.sources.base import FeedConfigError, FeedSpec
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline_tests.fakes.job_api_servers import adzuna_job

NOW = datetime(2024, 5, 10, tzinfo=UTC)


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=3, initial_wait=0.01, max_wait=0.02)) as fetcher:
        yield fetcher


def reader(apis, fetcher, env=None, **params) -> AdzunaReader:
    params.setdefault("requests_per_minute", 60_000)
    return AdzunaReader(FeedSpec("az", "adzuna", None, params), fetcher=fetcher,
                        env=apis.env() if env is None else env, now=NOW)


def read(apis, fetcher, **params):
    source = reader(apis, fetcher, **params)
    return list(source), source.outcome


def platform_jobs(count: int) -> list[dict]:
    return [adzuna_job(str(4000 + i), f"Platform Engineer {i}") for i in range(count)]


def test_results_with_nested_objects_become_records(apis, fetcher):
    apis.adzuna.jobs = [
        adzuna_job("2473378091", "Senior Backend Developer", "Acme Ltd", area=["UK", "London", "Westminster"],
                   display_location="Westminster, Central London", predicted="1"),
        adzuna_job("2473378092", "DevOps Engineer", "Globex", contract_type="contract", contract_time="full_time",
                   salary_min=None, salary_max=None),
        adzuna_job("2473378093", "Cloud Engineer", contract_type=None, contract_time="part_time"),
        adzuna_job("2473378094", "Remote SRE", area=["UK"], display_location="UK"),
    ]

    jobs, outcome = read(apis, fetcher, country="gb")

    first, contract, part_time, remote = jobs
    assert (first.source, first.source_id, first.title, first.company) == (
        "adzuna", "2473378091", "Senior Backend Developer", "Acme Ltd")
    assert (first.city, first.state, first.country) == ("Westminster", "London", "UK")
    assert first.locations == ["Westminster, London, UK"]
    assert (first.salary_min, first.salary_max, first.salary_currency, first.salary_period) == (
        90000.0, 120000.0, "GBP", "year")
    assert first.extra == {"salary_is_predicted": True, "category_tag": "it-jobs"}
    assert first.category == "IT Jobs"
    assert first.employment_type == "full_time"
    assert contract.employment_type == "contract"
    assert contract.salary_currency is None and contract.salary_min is None
    assert part_time.employment_type == "part_time"
    assert first.posted_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert first.url.startswith("https://www.adzuna.com/land/ad/2473378091")
    assert first.is_remote is None and remote.is_remote is True
    assert outcome.complete and outcome.records_seen == 4
    assert apis.adzuna.paths() == ["/v1/api/jobs/gb/search/1"]


def test_the_search_sends_credentials_and_params(apis, fetcher):
    read(apis, fetcher, query="kubernetes engineer", location="Austin", max_age_days=3, results_per_page=20)

    (request,) = apis.adzuna.requests
    assert request.path == "/v1/api/jobs/us/search/1"
    assert request.query == {"app_id": "test-id", "app_key": "test-key", "results_per_page": "20",
                             "sort_by": "date", "what": "kubernetes engineer", "where": "Austin",
                             "max_days_old": "3"}


def test_without_a_query_the_preset_single_words_are_searched_with_what_or(apis, fetcher):
    read(apis, fetcher)

    assert apis.adzuna.requests[0].query["what_or"] == "backend devops sre cloud platform infrastructure"


def test_pages_stop_at_a_short_page(apis, fetcher):
    apis.adzuna.jobs = platform_jobs(120)

    jobs, outcome = read(apis, fetcher, pages=5)

    assert len(jobs) == 120
    assert apis.adzuna.paths() == [f"/v1/api/jobs/us/search/{page}" for page in (1, 2, 3)]
    assert outcome.stats["pages"] == 3


def test_pages_stop_once_count_is_reached(apis, fetcher):
    apis.adzuna.jobs = platform_jobs(100)

    jobs, _ = read(apis, fetcher, pages=5)

    assert len(jobs) == 100
    assert len(apis.adzuna.requests) == 2


def test_the_page_limit_stops_paging(apis, fetcher):
    apis.adzuna.jobs = platform_jobs(200)

    jobs, _ = read(apis, fetcher)

    assert len(jobs) == 100  # the default: 2 pages of 50
    assert len(apis.adzuna.requests) == 2


def test_remote_only_keeps_postings_that_say_remote(apis, fetcher):
    apis.adzuna.jobs = [adzuna_job("1", "Backend Engineer (Remote)"), adzuna_job("2", "Backend Engineer"),
                            adzuna_job("3", "Cloud Engineer", display_location="Remote, US")]

    jobs, outcome = read(apis, fetcher, remote_only=True)

    assert [j.source_id for j in jobs] == ["1", "3"]
    assert outcome.stats["filtered_not_remote"] == 1


def test_auth_fail_401_is_a_configuration_error_and_not_retried(apis, fetcher):
    with pytest.raises(FeedConfigError, match=r"Adzuna refused ADZUNA_APP_ID / ADZUNA_APP_KEY \(401 AUTH_FAIL: "
                                              r"Authorisation failed\)"):
        read(apis, fetcher, env=apis.env(ADZUNA_APP_KEY="wrong"))
    assert len(apis.adzuna.requests) == 1


def test_the_app_key_never_appears_in_errors(apis, fetcher):
    apis.adzuna.jobs = platform_jobs(60)
    apis.adzuna.app_key = "rotated"

    with pytest.raises(FeedConfigError) as raised:
        read(apis, fetcher, env=apis.env(ADZUNA_APP_KEY="s3cret-value"))
    assert "s3cret-value" not in str(raised.value)


def test_requests_are_paced_to_the_per_minute_limit(apis, fetcher):
    apis.adzuna.jobs = platform_jobs(200)
    apis.adzuna.per_minute, apis.adzuna.window_s = 2, 0.4  # a 25-a-minute limit, scaled down

    jobs, outcome = read(apis, fetcher, pages=4, requests_per_minute=200)  # one request every 0.3 s

    assert len(jobs) == 200
    assert apis.adzuna.rate_overruns == 0
    assert outcome.stats["requests"] == 4


@pytest.mark.parametrize("params, message", [
    ({"country": "xx"}, r"params.country 'xx' is not an Adzuna country"),
    ({"results_per_page": 51}, r"params.results_per_page must be an integer from 1 to 50"),
    ({"requests_per_minute": 0}, r"params.requests_per_minute must be a number >= 0.01"),
    ({"tags": "backend"}, r"does not use params tags"),
])
def test_unusable_params_are_configuration_errors(apis, fetcher, params, message):
    with pytest.raises(FeedConfigError, match=message):
        reader(apis, fetcher, **params)


def test_missing_credentials_are_a_configuration_error(apis, fetcher):
    env = {k: v for k, v in apis.env().items() if k != "ADZUNA_APP_ID"}

    with pytest.raises(FeedConfigError, match=r"the adzuna source needs ADZUNA_APP_ID in the environment"):
        reader(apis, fetcher, env=env)
