"""Runs launched through a real Dagster webserver's GraphQL API (DAGSTER_GRAPHQL_URL)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from graphql import parse, validate

from feed_pipeline.api import launchers
from feed_pipeline.api.launchers import GraphQLRunLauncher, LaunchError, RunOptions
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.api.conftest import TOKEN, make_client
from feed_pipeline_tests.api.test_runs import AUTH, small_feed, wait_for_finish

REPO_ROOT = Path(__file__).resolve().parents[2]
WEBSERVER_START_TIMEOUT_S = 120


@pytest.mark.parametrize("document", ["_LOCATE_JOB", "_ADD_PARTITION", "_LAUNCH_RUN", "_RUN_STATUS"])
def test_graphql_documents_are_valid_against_dagsters_schema(document):
    from dagster_graphql.schema import create_schema

    errors = validate(create_schema().graphql_schema, parse(getattr(launchers, document)))

    assert [e.message for e in errors] == []


def test_an_unreachable_webserver_is_a_clear_launch_error():
    launcher = GraphQLRunLauncher("http://127.0.0.1:1/graphql", database_url=None, timeout_s=2)

    with pytest.raises(LaunchError, match="DAGSTER_GRAPHQL_URL"):
        launcher.launch("feed", RunOptions())


@pytest.mark.parametrize("url", ["127.0.0.1:3000", "ftp://host/graphql", ""])
def test_a_malformed_graphql_url_is_refused(url):
    with pytest.raises(ValueError, match="DAGSTER_GRAPHQL_URL"):
        GraphQLRunLauncher(url, database_url=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dagster_webserver(tmp_path, sqlite_url):
    """`dagster-webserver` on loopback serving feed_pipeline.definitions; runs launch at once (no daemon)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from:\n  - python_module:\n      module_name: feed_pipeline.definitions\n"
                         f"      working_directory: {REPO_ROOT}\n")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "XANO_BASE_URL")}
    env.update(DAGSTER_HOME=str(home), FEED_PIPELINE_DATABASE_URL=sqlite_url, FEED_PIPELINE_XANO_SANDBOX="1")
    log = (tmp_path / "webserver.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port),
         "-w", str(workspace)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + WEBSERVER_START_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "dagster-webserver did not start"
            time.sleep(0.5)
        yield url, sqlite_url, tmp_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.slow
def test_a_run_launched_through_the_webserver_finishes_and_reports(dagster_webserver):
    url, db_url, tmp_path = dagster_webserver
    feed_store.upsert_feed(engine_for(db_url), "small", url=small_feed(tmp_path / "small.xml"), kind="xml")
    launcher = GraphQLRunLauncher(url, db_url)
    client = make_client(db_url, token=TOKEN, dagster_graphql_url=url, launcher=launcher)

    launched = client.post("/api/feeds/small/runs", headers=AUTH)

    assert launched.status_code == 202, launched.text
    assert launched.json()["launched_via"] == "graphql"
    state = wait_for_finish(client, launched.json()["run_id"])
    assert state["status"] == "success", state
    assert state["feed_id"] == "small"
    assert state["summary"]["counts"]["raw"] == 8
    assert state["summary"]["counts"]["approved"] > 0
    assert client.get("/api/jobs", params={"feed_id": "small"}).json()["total"] == state["summary"]["counts"][
        "approved"]
