"""The UI's path: the asset graph's "Materialize all" for one feed partition launches the implicit `__ASSET_JOB`
through the webserver's GraphQL API. That run executes in process, records its execution report and the feed's
health by itself (no daemon, so no run status sensor runs here), and the API then agrees with it.

The webserver runs on the repo's local instance (dagster.yaml) with runs launched at once instead of queued for a
daemon; the code location and the runs mirror into a loopback Xano sandbox."""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import httpx
import pytest

from feed_pipeline.automation.jobs import STAGES
from feed_pipeline.automation.runner import LOCAL_INSTANCE_CONFIG
from feed_pipeline.resources.database import engine_for
from feed_pipeline.sandbox import XanoSandbox
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline_tests.api.conftest import TOKEN, make_client
from feed_pipeline_tests.api.test_runs import small_feed
from feed_pipeline_tests.deploy.services import Service, free_port, stop_all, venv_command, wait_for

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
FEED = "small"
ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_")

LOCATE = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"""
ADD_PARTITION = """mutation($selector: RepositorySelector!, $key: String!) { addDynamicPartition(
  repositorySelector: $selector, partitionsDefName: "feeds", partitionKey: $key) { __typename } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }"""
RUN = """query($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status startTime endTime } } }"""


class GraphQL:
    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=30)

    def __call__(self, query: str, **variables) -> dict:
        body = self.client.post("/graphql", json={"query": query, "variables": variables}).raise_for_status().json()
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
def webserver(tmp_path, sqlite_url):
    """dagster-webserver on the local instance (runs start at once: no daemon), the feed registered."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(LOCAL_INSTANCE_CONFIG.read_text() + "\nrun_coordinator:\n  module: "
                                       "dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from:\n  - python_module:\n      module_name: feed_pipeline.definitions\n"
                         f"      working_directory: {REPO_ROOT}\n")
    feed_store.upsert_feed(engine_for(sqlite_url), FEED, url=small_feed(tmp_path / "small.xml"))
    with XanoSandbox(tmp_path / "xano.sqlite") as xano:
        env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
        env.update(DAGSTER_HOME=str(home), FEED_PIPELINE_DATABASE_URL=sqlite_url, XANO_BASE_URL=xano.base_url)
        port = free_port()
        service = Service("webserver", venv_command("dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-w",
                                                    str(workspace)), env=env, cwd=tmp_path, log_dir=tmp_path)
        try:
            graphql = GraphQL(f"http://127.0.0.1:{port}")
            nodes = wait_for(lambda: graphql(LOCATE)["repositoriesOrError"].get("nodes"), timeout_s=120,
                             what="the code location to load", services=[service])
            selector = {"repositoryLocationName": nodes[0]["location"]["name"], "repositoryName": nodes[0]["name"]}
            yield graphql, selector, home, sqlite_url, service
        finally:
            stop_all([service])


def test_materialize_all_for_a_feed_partition_records_the_report_and_the_feeds_health(webserver):
    graphql, selector, home, db_url, service = webserver
    assert graphql(ADD_PARTITION, selector=selector, key=FEED)["addDynamicPartition"]["__typename"] == \
        "AddDynamicPartitionSuccess"

    launched = graphql(LAUNCH, params={
        "selector": {**selector, "jobName": "__ASSET_JOB", "assetSelection": [{"path": [s]} for s in STAGES]},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": FEED}]},
    })["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def finished() -> dict | None:
        run = graphql(RUN, runId=run_id)["runOrError"]
        return run if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

    run = wait_for(finished, timeout_s=240, interval_s=1, what="the asset graph's run to finish", services=[service])
    assert run["status"] == "SUCCESS", service.log_tail()

    engine = engine_for(db_url)
    report = reports.get_report(engine, run_id)
    assert (report["status"], report["health_recorded"], report["error"]) == (reports.SUCCESS, True, None)
    assert report["counts"]["raw"] == 8 and report["counts"]["approved"] > 0
    assert set(report["stages"]) == set(STAGES)
    feed = feed_store.get_feed(engine, FEED)
    assert (feed.last_run_status, feed.run_count, feed.consecutive_failure_count) == (reports.SUCCESS, 1, 0)

    api = make_client(db_url, token=TOKEN).get("/api/feeds", headers={"Authorization": f"Bearer {TOKEN}"})
    (listed,) = [f for f in api.json() if f["id"] == FEED]
    assert listed["health"]["last_run_status"] == reports.SUCCESS and listed["health"]["run_count"] == 1

    with dg.DagsterInstance.from_config(str(home)) as instance:
        engine_events = [r.user_message for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
    assert any(m.startswith("Executing steps in process") for m in engine_events), engine_events
    duration = run["endTime"] - run["startTime"]
    print(f"__ASSET_JOB run of {FEED} (8 postings): {duration:.1f} s")
    assert duration < 30, "in process, not a process per step"
