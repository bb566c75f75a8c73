"""The deployment as docker-compose.yml runs it, on loopback: a code server (gRPC), dagster-webserver and
dagster-daemon on docker/dagster.yaml (PostgreSQL, queued runs). Through the webserver's GraphQL API, as the
UI does: read the asset graph, partitions and checks; launch a run for one feed; backfill all feeds (one run per
feed); see every run succeed, and a feed's two runs never overlap. Runs go through the daemon's run queue.

The backfill is submitted with `forceSynchronousSubmission`: the webserver creates the runs itself instead of
leaving that to the backfill daemon, which looks for new backfills only every 30 s; the runs are the same.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import dagster as dg
import httpx
import pytest

from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.deploy.conftest import write_small_feed
from feed_pipeline_tests.deploy.services import Service, free_port, stop_all, venv_command, wait_for

pytestmark = pytest.mark.slow

LOCATION = "feed_pipeline"
REPOSITORY = "__repository__"
STAGES = ["raw_jobs", "deduped_jobs", "industry_enriched", "function_enriched", "routed_jobs", "xano_mirror"]
FEEDS = {"alpha": 4, "beta": 3}  # feed id -> postings
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

ASSET_GRAPH = """{ assetNodes { assetKey { path } dependencyKeys { path } isPartitioned
  partitionDefinition { type name } partitionKeysByDimension { partitionKeys }
  assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }"""
LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId status } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }"""
LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
RUNS = """query($filter: RunsFilter) { runsOrError(filter: $filter) { __typename ... on Runs {
  results { runId status startTime endTime tags { key value } } } } }"""


class GraphQL:
    def __init__(self, base_url: str):
        self.client = httpx.Client(base_url=base_url, timeout=30)

    def __call__(self, query: str, **variables) -> dict:
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def location_loaded(self) -> bool:
        data = self("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                    "locationOrLoadError { __typename } } } } }")
        return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED"
                   and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                   for e in data["workspaceOrError"]["locationEntries"])

    def runs(self, **tags: str) -> list[dict]:
        run_filter = {"tags": [{"key": k.replace("__", "/"), "value": v} for k, v in tags.items()]}
        return self(RUNS, filter=run_filter)["runsOrError"]["results"]


def tag(run: dict, key: str) -> str | None:
    return next((t["value"] for t in run["tags"] if t["key"] == key), None)


@pytest.fixture
def deployment(tmp_path, production_home, pg_database_factory):
    """Feeds registered and partitioned; code server, webserver and daemon running."""
    home, dagster_env = production_home
    feeds_db = pg_database_factory()
    engine = engine_for(feeds_db)
    skip = 0
    for feed_id, postings in FEEDS.items():
        path = write_small_feed(tmp_path / f"{feed_id}.xml", postings, skip=skip)
        skip += postings
        feed_store.upsert_feed(engine, feed_id, url=str(path))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "XANO_", "DAGSTER_", "FEED_PIPELINE_"))}
    env.update(dagster_env, FEED_PIPELINE_DATABASE_URL=feeds_db, FEED_PIPELINE_XANO_SANDBOX="1",
               PYTHONUNBUFFERED="1")
    _add_partitions(home, dagster_env, list(FEEDS))

    code_port, web_port = free_port(), free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {code_port}\n"
                         f"      location_name: {LOCATION}\n")
    common = {"env": env, "cwd": tmp_path, "log_dir": tmp_path}
    services = [Service("code", venv_command("dagster", "code-server", "start", "-m", "feed_pipeline.definitions",
                                             "-h", "127.0.0.1", "-p", str(code_port), "--location-name", LOCATION),
                        **common)]
    try:
        services.append(Service("webserver", venv_command("dagster-webserver", "-h", "127.0.0.1", "-p", str(web_port),
                                                          "-w", str(workspace)), **common))
        services.append(Service("daemon", venv_command("dagster-daemon", "run", "-w", str(workspace)), **common))
        graphql = GraphQL(f"http://127.0.0.1:{web_port}")
        wait_for(graphql.location_loaded, timeout_s=90, what="the code location to load in the webserver",
                 services=services)
        yield graphql, services
    finally:
        stop_all(services, grace_s=3)


def _add_partitions(home: Path, dagster_env: dict[str, str], keys: list[str]) -> None:
    """What feed_registry_sensor does on its first tick, done up front so no first runs mix into the counts."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in dagster_env.items():
            patch.setenv(name, value)
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            instance.add_dynamic_partitions("feeds", keys)
        finally:
            instance.dispose()


def test_the_ui_shows_the_pipeline_runs_a_feed_and_backfills_every_feed(deployment):
    graphql, services = deployment

    nodes = {tuple(n["assetKey"]["path"]): n for n in graphql(ASSET_GRAPH)["assetNodes"]}
    assert sorted(k[0] for k in nodes) == sorted(STAGES)
    for upstream, downstream in itertools.pairwise(STAGES):
        assert [d["path"] for d in nodes[(downstream,)]["dependencyKeys"]] == [[upstream]]
    for node in nodes.values():
        assert node["isPartitioned"] and node["partitionDefinition"] == {"type": "DYNAMIC", "name": "feeds"}
        assert node["partitionKeysByDimension"][0]["partitionKeys"] == sorted(FEEDS)
    routed_checks = {c["name"]: c["blocking"] for c in nodes[("routed_jobs",)]["assetChecksOrError"]["checks"]}
    assert routed_checks and any(routed_checks.values()), f"routed_jobs needs blocking checks: {routed_checks}"

    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    launched = graphql(LAUNCH_RUN, params={
        "selector": {**selector, "jobName": "feed_job"},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "alpha"}]}})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    single_run_id = launched["run"]["runId"]

    backfill = graphql(LAUNCH_BACKFILL, params={
        "selector": {"partitionSetName": "feed_job_partition_set", "repositorySelector": selector},
        "allPartitions": True, "forceSynchronousSubmission": True,
    })["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    backfill_id = backfill["backfillId"]

    def all_finished() -> list[dict] | None:
        runs = graphql.runs()
        backfill_runs = [r for r in runs if tag(r, "dagster/backfill") == backfill_id]
        done = [r for r in runs if r["status"] in FINISHED]
        return runs if len(backfill_runs) == len(FEEDS) and len(done) == len(runs) else None

    runs = wait_for(all_finished, timeout_s=240, interval_s=2, services=services,
                    what="the single run and one backfill run per feed to finish")

    assert {r["runId"]: r["status"] for r in runs} == {r["runId"]: "SUCCESS" for r in runs}, runs
    backfill_runs = [r for r in runs if tag(r, "dagster/backfill") == backfill_id]
    assert sorted(tag(r, "dagster/partition") for r in backfill_runs) == sorted(FEEDS)
    assert single_run_id in {r["runId"] for r in runs} and len(runs) == len(FEEDS) + 1
    # dagster.yaml allows one run per feed at a time: alpha's two runs did not overlap.
    first, second = sorted((r for r in runs if tag(r, "dagster/partition") == "alpha"), key=lambda r: r["startTime"])
    assert first["endTime"] <= second["startTime"], (first, second)
