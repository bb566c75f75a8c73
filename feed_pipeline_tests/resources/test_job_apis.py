"""JobApiResource: the job APIs' credentials reach the sources through Dagster, secrets as EnvVars."""
from __future__ import annotations

import dagster as dg
import pytest

from feed_pipeline.definitions import job_api_resource
from feed_pipeline.resources.job_apis import JobApiResource
from feed_pipeline.settings import Settings
from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.registry import open_feed
from feed_pipeline_tests.fakes.job_api_servers import jsearch_job, running_job_apis


def test_as_env_names_each_set_value_by_its_variable():
    resource = JobApiResource(rapidapi_key="rk", adzuna_app_id="id", jsearch_base_url="http://127.0.0.1:9")
    assert resource.as_env() == {"RAPIDAPI_KEY": "rk", "ADZUNA_APP_ID": "id", "JSEARCH_BASE_URL": "http://127.0.0.1:9"}
    assert JobApiResource().as_env() == {}


def test_the_environment_gives_hosts_as_values_and_keys_as_env_vars():
    resource = job_api_resource(Settings.from_env({
        "RAPIDAPI_KEY": "secret-rapid", "ADZUNA_APP_ID": "app-1", "ADZUNA_APP_KEY": "secret-adzuna",
        "ADZUNA_BASE_URL": "http://127.0.0.1:9", "JSEARCH_BASE_URL": " "}))
    assert (resource.adzuna_base_url, resource.jsearch_base_url) == ("http://127.0.0.1:9", None)
    assert not any(secret in repr(resource) for secret in ("secret-rapid", "app-1", "secret-adzuna"))
    assert job_api_resource(Settings.from_env({})).as_env() == {}


def test_a_run_resolves_the_keys_and_the_source_reads_with_them(monkeypatch):
    with running_job_apis() as apis:
        apis.jsearch.jobs = [jsearch_job("a", "Backend Engineer"), jsearch_job("b", "Data Engineer")]
        for name, value in apis.env().items():
            monkeypatch.setenv(name, value)
        resource = job_api_resource(Settings.from_env())
        titles: list[str] = []

        @dg.asset
        def read_jsearch(job_apis: JobApiResource) -> None:
            spec = FeedSpec("f", "jsearch", None, {"requests_per_minute": 60_000, "role_filter": "none"})
            reader = open_feed(spec, env=job_apis.as_env())
            try:
                titles.extend(job.title for job in reader)
            finally:
                reader.close()

        assert dg.materialize([read_jsearch], resources={"job_apis": resource}).success
        assert sorted(titles) == ["Backend Engineer", "Data Engineer"]
        assert {r.headers["x-rapidapi-key"] for r in apis.jsearch.requests} == {apis.env()["RAPIDAPI_KEY"]}


def test_an_unset_key_fails_the_source_naming_the_variable():
    with pytest.raises(Exception, match=r"the jsearch source needs RAPIDAPI_KEY"):
        open_feed(FeedSpec("f", "jsearch", None, {}), env=JobApiResource().as_env())
