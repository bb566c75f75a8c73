"""The multi source: several APIs in one feed, each source's failure contained, params routed per source."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.core.dedupe import DedupeConfig, assign_dedupe_keys, merge_block
from feed_pipeline.sources.adzuna import AdzunaReader
from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedSpec
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.multi import MultiSourceReader, plan_sources
from feed_pipeline.sources.registry import open_feed
from feed_pipeline_tests.fakes.job_api_servers import (
    Fault,
    adzuna_job,
    jsearch_job,
    remoteok_job,
)

NOW = datetime(2024, 5, 10, tzinfo=UTC)
FAST = {source: {"requests_per_minute": 60_000} for source in ("remoteok", "jsearch", "adzuna")}


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=2, initial_wait=0.01, max_wait=0.02)) as fetcher:
        yield fetcher


@pytest.fixture
def stocked(apis):
    """Each API holds two backend roles and one role the default filter drops."""
    apis.remoteok.jobs = [remoteok_job("r1", "Backend Engineer", tags=["backend"]),
                              remoteok_job("r2", "DevOps Engineer", tags=["devops"]),
                              remoteok_job("r3", "Sales Lead", tags=["sales"])]
    apis.jsearch.jobs = [jsearch_job("j1", "Site Reliability Engineer"), jsearch_job("j2", "Cloud Engineer"),
                             jsearch_job("j3", "Nurse")]
    apis.adzuna.jobs = [adzuna_job("a1", "Platform Engineer"), adzuna_job("a2", "Infrastructure Engineer"),
                            adzuna_job("a3", "Chef")]
    return apis


def read(apis, fetcher, env=None, **params):
    reader = MultiSourceReader(FeedSpec("backend", "multi", None, {**FAST, **params}), fetcher=fetcher,
                               env=apis.env() if env is None else env, now=NOW)
    return list(reader), reader.outcome


def by_source(jobs) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for job in jobs:
        found.setdefault(job.source, []).append(job.source_id)
    return found


def test_a_feed_without_params_reads_all_three_apis_with_the_backend_devops_filter(stocked, fetcher):
    jobs, outcome = read(stocked, fetcher)

    assert by_source(jobs) == {"remoteok": ["r1", "r2"], "jsearch": ["j1", "j2"], "adzuna": ["a1", "a2"]}
    assert outcome.complete and outcome.source_errors == {}
    assert outcome.profile == "multi:remoteok+jsearch+adzuna"
    assert outcome.records_seen == 6
    assert outcome.stats["filtered_role"] == 3
    assert (outcome.stats["remoteok_filtered_role"], outcome.stats["jsearch_filtered_role"],
            outcome.stats["adzuna_filtered_role"]) == (1, 1, 1)
    assert outcome.stats["requests"] == 3 and outcome.stats["sources_failed"] == 0


def test_one_source_failing_leaves_the_others_jobs_and_marks_the_feed_incomplete(stocked, fetcher):
    jobs, outcome = read(stocked, fetcher, env=stocked.env(RAPIDAPI_KEY="not-subscribed"))

    assert by_source(jobs) == {"remoteok": ["r1", "r2"], "adzuna": ["a1", "a2"]}
    assert not outcome.complete
    assert list(outcome.source_errors) == ["jsearch"]
    assert "You are not subscribed to this API." in outcome.source_errors["jsearch"]
    assert outcome.error.startswith("jsearch: ")
    assert outcome.stats["sources_failed"] == 1


def test_a_source_without_credentials_fails_alone(stocked, fetcher):
    env = {k: v for k, v in stocked.env().items() if k != "ADZUNA_APP_KEY"}

    jobs, outcome = read(stocked, fetcher, env=env)

    assert set(by_source(jobs)) == {"remoteok", "jsearch"}
    assert "needs ADZUNA_APP_KEY" in outcome.source_errors["adzuna"]
    assert not outcome.complete


def test_a_source_failing_after_a_page_keeps_that_page(stocked, fetcher):
    stocked.adzuna.jobs = [adzuna_job(str(i), f"Platform Engineer {i}") for i in range(60)]
    stocked.adzuna.add_fault(Fault(500, {"error": "internal"}, times=2, when=lambda r: r.path.endswith("/2")))

    jobs, outcome = read(stocked, fetcher)

    assert len(by_source(jobs)["adzuna"]) == 50
    assert not outcome.complete
    assert "after 1 page(s)" in outcome.source_errors["adzuna"]


def test_the_failed_source_does_not_stop_the_sources_after_it(stocked, fetcher):
    stocked.remoteok.add_fault(Fault(200, b"<html>blocked</html>"))

    jobs, outcome = read(stocked, fetcher)

    assert set(by_source(jobs)) == {"jsearch", "adzuna"}
    assert "not JSON" in outcome.source_errors["remoteok"]


def test_every_source_failing_raises_a_feed_error_with_each_reason(stocked, fetcher):
    env = stocked.env(RAPIDAPI_KEY="nope", ADZUNA_APP_ID="nope")
    stocked.remoteok.add_fault(Fault(404, b"gone"))

    with pytest.raises(FeedError, match=r"every source failed: remoteok: .*404.*; jsearch: .*; adzuna: .*AUTH_FAIL"):
        read(stocked, fetcher, env=env)


def test_every_source_misconfigured_raises_a_configuration_error(stocked, fetcher):
    with pytest.raises(FeedConfigError, match=r"every source failed"):
        read(stocked, fetcher, env=stocked.env(RAPIDAPI_KEY="nope"), sources=["jsearch"])


def test_the_same_id_on_two_sources_gives_two_job_keys(apis, fetcher):
    apis.remoteok.jobs = [remoteok_job("12345", "Backend Engineer")]
    apis.adzuna.jobs = [adzuna_job("12345", "Backend Engineer")]

    jobs, _ = read(apis, fetcher, sources=["remoteok", "adzuna"])

    assert len(jobs) == 2 and jobs[0].job_key != jobs[1].job_key


def test_a_job_keeps_its_key_when_its_feed_becomes_multi(apis, fetcher):
    apis.adzuna.jobs = [adzuna_job("777", "Backend Engineer")]

    alone = list(AdzunaReader(FeedSpec("backend", "adzuna", None, {}), fetcher=fetcher, env=apis.env()))
    combined, _ = read(apis, fetcher, sources=["adzuna"])

    assert [j.job_key for j in alone] == [j.job_key for j in combined]


def test_the_same_role_on_jsearch_and_adzuna_lands_in_one_dedupe_block_and_merges(apis, fetcher):
    description = ("Acme builds payment infrastructure for thousands of merchants. As a Senior Backend Engineer you "
                   "will design, build and operate the Go services behind our ledger, keep them reliable on "
                   "Kubernetes, review code and mentor engineers. You know PostgreSQL and care about testing. "
                   "We offer a competitive salary, equity and a yearly learning budget. ") * 4  # Adzuna: ~500 chars
    apis.jsearch.jobs = [jsearch_job("j1", "Senior Backend Engineer", "Acme, Inc.", employment_type="FULLTIME",
                                         description=description)]
    apis.adzuna.jobs = [adzuna_job("a1", "Senior Backend Engineer", "ACME INC", contract_type="permanent",
                                       contract_time="full_time", description=description[:497] + "...")]

    jobs, _ = read(apis, fetcher, sources=["jsearch", "adzuna"])
    for job in jobs:
        assign_dedupe_keys(job)

    assert jobs[0].block_key == jobs[1].block_key
    (merged,) = merge_block(jobs, DedupeConfig())
    assert merged.source_ids == ["a1", "j1"]


def test_the_same_role_on_remoteok_without_a_type_and_on_jsearch_as_fulltime_merges(apis, fetcher):
    description = ("Globex runs the observability platform for its trading systems. As a DevOps Engineer you "
                   "will automate our Kubernetes clusters with Terraform, keep the CI pipelines fast and own "
                   "on-call tooling. You know Linux, Python and Prometheus well. Remote across Europe. ") * 2
    apis.remoteok.jobs = [remoteok_job("r9", "DevOps Engineer", "Globex", tags=["devops"],
                                       description=f"<p>{description}</p>")]
    apis.jsearch.jobs = [jsearch_job("j9", "DevOps Engineer", "Globex Inc.", employment_type="FULLTIME",
                                     description=description)]

    jobs, _ = read(apis, fetcher, sources=["remoteok", "jsearch"])
    for job in jobs:
        assign_dedupe_keys(job)

    assert sorted((job.source, job.employment_type) for job in jobs) == [("jsearch", "full_time"), ("remoteok", None)]
    assert jobs[0].block_key == jobs[1].block_key
    (merged,) = merge_block(jobs, DedupeConfig())
    assert merged.source_ids == ["j9", "r9"] and merged.employment_type == "full_time"


def test_top_level_params_reach_the_sources_that_use_them_and_blocks_override():
    plan = dict(plan_sources("f", {"query": "platform engineer", "tags": "devops", "pages": 2,
                                   "adzuna": {"country": "gb", "pages": 4}, "exclude": ["sales"]}))

    assert plan["remoteok"] == {"tags": "devops", "exclude": ["sales"]}
    assert plan["jsearch"] == {"query": "platform engineer", "pages": 2, "exclude": ["sales"]}
    assert plan["adzuna"] == {"query": "platform engineer", "pages": 4, "country": "gb", "exclude": ["sales"]}


def test_a_source_block_is_checked_by_its_source(stocked, fetcher):
    jobs, outcome = read(stocked, fetcher, adzuna={"country": "xx"})

    assert "params.country 'xx' is not an Adzuna country" in outcome.source_errors["adzuna"]
    assert set(by_source(jobs)) == {"remoteok", "jsearch"}


@pytest.mark.parametrize("params, message", [
    ({"sources": ["remoteok", "indeed"]}, r"must name each of remoteok, jsearch, adzuna at most once"),
    ({"sources": ["adzuna", "adzuna"]}, r"at most once"),
    ({"sources": []}, r"params.sources must be a non-empty list"),
    ({"sources": ["remoteok"], "query": "x"}, r"no source of this multi feed \(remoteok\) uses params query"),
    ({"colour": "blue"}, r"uses params colour"),
    ({"adzuna": "gb"}, r"params.adzuna must be an object"),
    ({"requests_per_minute": 100}, r"uses params requests_per_minute"),
])
def test_unusable_multi_params_are_configuration_errors(params, message):
    with pytest.raises(FeedConfigError, match=message):
        plan_sources("f", params)


def test_the_registry_opens_every_api_kind_with_the_credentials_it_is_given(apis, fetcher):
    for kind in ("remoteok", "jsearch", "adzuna", "multi"):
        params = FAST if kind == "multi" else FAST[kind]
        reader = open_feed(FeedSpec("f", kind, None, dict(params)), fetcher=fetcher, env=apis.env())
        assert list(reader) == []
        reader.close()


def test_the_sources_never_read_credentials_from_the_environment(apis, fetcher, monkeypatch):
    for name, value in apis.env().items():
        monkeypatch.setenv(name, value)
    with pytest.raises(FeedConfigError, match=r"the adzuna source needs ADZUNA_APP_ID in the environment"):
        open_feed(FeedSpec("f", "adzuna", None, dict(FAST["adzuna"])), fetcher=fetcher)
