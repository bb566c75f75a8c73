"""POST /api/feeds/{id}/runs and GET /api/runs/{id}: a real feed_job run in a worker thread, auth, errors."""
from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from feed_pipeline.api.app import create_app
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.api.conftest import AUTH, TOKEN, make_client, operator_client

RUN_TIMEOUT_S = 120


def small_feed(path, jobs: int = 8) -> str:
    """The first `jobs` postings of the bundled sample feed (one of them CLOSED) as a feed file."""
    text = SAMPLE_FEED_PATH.read_text(encoding="utf-8")
    head, _, rest = text.partition("<job>")
    postings = re.findall(r"<job>.*?</job>", "<job>" + rest, flags=re.S)[:jobs]
    path.write_text(head + "\n".join(postings) + "\n</source>\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def isolated_dagster(tmp_path, monkeypatch):
    """DAGSTER_HOME and the working directory (the state dir, where the embedded Xano sandbox lands when the
    database is PostgreSQL) under tmp_path."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("FEED_PIPELINE_XANO_SANDBOX", "true")  # the API's database is configured: ask for the sandbox
    monkeypatch.chdir(tmp_path)
    for name in ("GEMINI_API_KEY", "XANO_BASE_URL", "DAGSTER_GRAPHQL_URL", "FEED_PIPELINE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def wait_for_finish(client: TestClient, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    seen = []
    while time.monotonic() < deadline:
        response = client.get(f"/api/runs/{run_id}", headers=AUTH)
        assert response.status_code == 200, response.text
        state = response.json()
        seen.append(state["status"])
        if state["finished"]:
            return state | {"seen": seen}
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {RUN_TIMEOUT_S}s; statuses seen: {seen[-5:]}")


def test_a_triggered_run_finishes_and_reports(db_url, isolated_dagster):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "small", url=small_feed(isolated_dagster / "small.xml"), kind="xml")
    app = create_app(settings=ApiSettings(database_url=db_url, api_token=TOKEN))

    with TestClient(app) as client:
        launched = client.post("/api/feeds/small/runs", headers=AUTH)
        assert launched.status_code == 202, launched.text
        run_id = launched.json()["run_id"]
        assert launched.json() == {"run_id": run_id, "feed_id": "small", "status": "queued", "launched_via": "worker",
                                   "status_url": f"/api/runs/{run_id}"}
        assert launched.headers["Location"] == f"/api/runs/{run_id}"

        again = client.post("/api/feeds/small/runs", headers=AUTH)
        assert again.status_code == 409
        assert again.json()["details"] == {"run_id": run_id}

        state = wait_for_finish(client, run_id)

        assert state["status"] == "success", state
        assert state["dagster_status"] == "SUCCESS"
        summary = state["summary"]
        assert summary["run_id"] == run_id and summary["feed_id"] == "small"
        assert summary["counts"]["raw"] == 8 and summary["counts"]["closed"] >= 1
        assert summary["counts"]["approved"] > 0
        assert summary["mirror"]["added"] == summary["counts"]["approved"]

        feed = client.get("/api/feeds/small", headers=AUTH).json()
        assert feed["health"]["status"] == "ok" and feed["health"]["run_count"] == 1
        assert feed["last_report"]["run_id"] == run_id and feed["last_report"]["status"] == "success"
        assert [r["run_id"] for r in client.get("/api/feeds/small/reports", headers=AUTH).json()["reports"]] == [run_id]
        listed = client.get("/api/jobs", params={"feed_id": "small"}).json()
        assert listed["total"] == summary["counts"]["approved"]
        assert client.get("/api/jobs", params={"feed_id": "small", "search": "engineer"}).json()["total"] > 0

    # A fresh API process knows the run from the Dagster instance and the execution report.
    later = operator_client(db_url).get(f"/api/runs/{run_id}").json()
    assert (later["status"], later["feed_id"], later["summary"]["counts"]) == ("success", "small", summary["counts"])


def test_starting_a_run_needs_the_token(sqlite_url, isolated_dagster):
    feed_store.upsert_feed(engine_for(sqlite_url), "small", url=small_feed(isolated_dagster / "s.xml"), kind="xml")

    assert make_client(sqlite_url).post("/api/feeds/small/runs").status_code == 403
    assert make_client(sqlite_url, token=TOKEN).post("/api/feeds/small/runs").status_code == 401


def test_a_run_of_an_unknown_feed_is_404(sqlite_url, isolated_dagster):
    response = make_client(sqlite_url, token=TOKEN).post("/api/feeds/nope/runs", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"] == "feed_not_found"


def test_an_unknown_run_is_404(sqlite_url, isolated_dagster):
    response = operator_client(sqlite_url).get("/api/runs/0e6f0c3e-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "run_not_found"


def test_run_options_must_be_booleans(sqlite_url, isolated_dagster):
    feed_store.upsert_feed(engine_for(sqlite_url), "small", url=small_feed(isolated_dagster / "s.xml"), kind="xml")

    response = make_client(sqlite_url, token=TOKEN).post("/api/feeds/small/runs", json={"force": "sometimes"},
                                                         headers=AUTH)

    assert response.status_code == 422
