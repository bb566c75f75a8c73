"""The seeds' routes as aliases: POST /trigger-feed/{id}, GET /execution-status/{id}, POST /api/jobs/ingest, with
real feed_job runs in the API's worker threads (job APIs on loopback)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from feed_pipeline.api.app import create_app
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.api.conftest import AUTH, TOKEN
from feed_pipeline_tests.api.test_runs import isolated_dagster, small_feed, wait_for_finish  # noqa: F401 - fixture
from feed_pipeline_tests.fakes.job_api_servers import adzuna_job, remoteok_job, running_job_apis


def test_trigger_feed_starts_a_run_and_execution_status_shows_its_report(db_url, isolated_dagster):  # noqa: F811
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "small", url=small_feed(isolated_dagster / "small.xml"), kind="xml")

    with TestClient(create_app(settings=ApiSettings(database_url=db_url, api_token=TOKEN))) as client:
        before = client.get("/execution-status/small", headers=AUTH).json()
        launched = client.post("/trigger-feed/small", headers=AUTH)
        assert launched.status_code == 202, launched.text
        run_id = launched.json()["run_id"]
        assert launched.headers["Location"] == f"/api/runs/{run_id}"
        assert client.post("/trigger-feed/small", headers=AUTH).status_code == 409, "the same launcher's guard"
        state = wait_for_finish(client, run_id)
        status = client.get("/execution-status/small", headers=AUTH).json()

    assert before == {"feed_id": "small", "health": before["health"], "last_report": None}
    assert before["health"]["status"] == "never_run"
    assert state["status"] == "success", state
    assert status["last_report"]["run_id"] == run_id and status["last_report"]["status"] == "success"
    assert status["last_report"]["counts"]["raw"] == 8
    assert status["health"]["status"] == "ok" and status["health"]["run_count"] == 1


def test_trigger_and_status_of_an_unknown_feed_are_404(sqlite_url, isolated_dagster):  # noqa: F811
    client = TestClient(create_app(settings=ApiSettings(database_url=sqlite_url, api_token=TOKEN)))

    for method, path in (("POST", "/trigger-feed/nope"), ("GET", "/execution-status/nope")):
        response = client.request(method, path, headers=AUTH)
        assert response.status_code == 404 and response.json()["error"] == "feed_not_found", path


@pytest.fixture
def job_apis(monkeypatch):
    with running_job_apis() as apis:
        apis.remoteok.jobs = [remoteok_job("rk-1", "Senior DevOps Engineer", "Globex", tags=["devops"]),
                              remoteok_job("rk-2", "Backend Developer (Python)", "Initech", tags=["backend"])]
        apis.adzuna.jobs = [adzuna_job("az-1", "Cloud Platform Engineer", "Stark Industries")]
        for name, value in apis.env().items():
            monkeypatch.setenv(name, value)
        yield apis


def test_ingest_runs_every_active_job_api_feed_and_answers_per_source_counts(sqlite_url, isolated_dagster,  # noqa: F811
                                                                              job_apis):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "rok", url=None, kind="remoteok")
    feed_store.upsert_feed(engine, "adz", url=None, kind="adzuna", params={"query": "engineer"})
    feed_store.upsert_feed(engine, "off", url=None, kind="remoteok", active=False)
    feed_store.upsert_feed(engine, "xmlfeed", url=small_feed(isolated_dagster / "x.xml"), kind="xml")

    with TestClient(create_app(settings=ApiSettings(database_url=sqlite_url, api_token=TOKEN))) as client:
        response = client.post("/api/jobs/ingest", headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["finished"] is True
    by_feed = {f["feed_id"]: f for f in body["feeds"]}
    assert sorted(by_feed) == ["adz", "rok"], "active job-API feeds only"
    assert all(f["status"] == "success" and f["run_id"] for f in by_feed.values()), by_feed
    assert by_feed["rok"]["counts"]["raw"] == 2 and by_feed["adz"]["counts"]["raw"] == 1
    assert sum(body["sources"]["remoteok"].values()) == 2 and sum(body["sources"]["adzuna"].values()) == 1
    assert set(body["sources"]) == {"remoteok", "adzuna"}


def test_ingest_without_waiting_answers_the_started_runs(sqlite_url, isolated_dagster, job_apis):  # noqa: F811
    feed_store.upsert_feed(engine_for(sqlite_url), "rok", url=None, kind="remoteok")

    with TestClient(create_app(settings=ApiSettings(database_url=sqlite_url, api_token=TOKEN))) as client:
        body = client.post("/api/jobs/ingest", params={"wait_s": 0}, headers=AUTH).json()
        assert [(f["feed_id"], f["status"]) for f in body["feeds"]] == [("rok", "running")]
        assert body["finished"] is False
        assert wait_for_finish(client, body["feeds"][0]["run_id"])["status"] == "success"
