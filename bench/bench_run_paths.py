"""One feed run launched two ways through a Dagster webserver, as the UI launches them: `feed_job` (the Launchpad,
the API, sensors) and the asset graph's "Materialize all" (`__ASSET_JOB` with the six stages and one partition).

Both run the bundled sample feed from scratch (two feeds with the same file, so neither benefits from the
other's cache), on SQLite, the offline classifier and a loopback Xano sandbox, on the repo's local instance
(dagster.yaml) with runs launched at once. Reports Dagster's start-to-end time of each run, `--repeat` times.

    .venv/bin/python bench/bench_run_paths.py              # figures in docs/operations.md
    .venv/bin/python bench/bench_run_paths.py --repeat 3
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from feed_pipeline.automation.jobs import FEED_JOB_NAME, STAGES  # noqa: E402
from feed_pipeline.automation.runner import LOCAL_INSTANCE_CONFIG  # noqa: E402
from feed_pipeline.cli import SAMPLE_FEED_PATH  # noqa: E402
from feed_pipeline.resources.database import engine_for  # noqa: E402
from feed_pipeline.sandbox import XanoSandbox  # noqa: E402
from feed_pipeline.store import feeds as feed_store  # noqa: E402
from feed_pipeline.store import reports  # noqa: E402

LOCATE = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
ADD_PARTITION = """mutation($selector: RepositorySelector!, $key: String!) { addDynamicPartition(
  repositorySelector: $selector, partitionsDefName: "feeds", partitionKey: $key) { __typename } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN = """query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status startTime endTime } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(client: httpx.Client, query: str, **variables) -> dict:
    body = client.post("/graphql", json={"query": query, "variables": variables}).raise_for_status().json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def run_once(client: httpx.Client, selector: dict, job: str, feed_id: str) -> float:
    graphql(client, ADD_PARTITION, selector=selector, key=feed_id)
    job_selector = {**selector, "jobName": job}
    if job == "__ASSET_JOB":
        job_selector["assetSelection"] = [{"path": [stage]} for stage in STAGES]
    launched = graphql(client, LAUNCH, params={"selector": job_selector, "executionMetadata": {
        "tags": [{"key": "dagster/partition", "value": feed_id}]}})["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(launched)
    run_id = launched["run"]["runId"]
    while True:
        run = graphql(client, RUN, runId=run_id)["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(0.5)
    if run["status"] != "SUCCESS":
        raise RuntimeError(f"{job} run {run_id} of {feed_id}: {run['status']}")
    return run["endTime"] - run["startTime"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="fresh feeds per launch path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, XanoSandbox(Path(tmp) / "xano.sqlite") as xano:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(LOCAL_INSTANCE_CONFIG.read_text() + "\nrun_coordinator:\n  module: "
                                           "dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n")
        workspace = Path(tmp) / "workspace.yaml"
        workspace.write_text("load_from:\n  - python_module:\n      module_name: feed_pipeline.definitions\n"
                             f"      working_directory: {REPO_ROOT}\n")
        db_url = f"sqlite:///{tmp}/feed_pipeline.sqlite"
        engine = engine_for(db_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FEED_PIPELINE_", "XANO_", "GEMINI_",
                                                                        "DAGSTER_"))}
        env.update(DAGSTER_HOME=str(home), FEED_PIPELINE_DATABASE_URL=db_url, XANO_BASE_URL=xano.base_url,
                   PYTHONPATH=str(REPO_ROOT))
        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1",
                                   "-p", str(port), "-w", str(workspace)], env=env, cwd=tmp,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            deadline = time.monotonic() + 180
            while True:
                try:
                    nodes = graphql(client, LOCATE)["repositoriesOrError"].get("nodes")
                    if nodes:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the webserver did not load the code location")
                time.sleep(1)
            selector = {"repositoryLocationName": nodes[0]["location"]["name"], "repositoryName": nodes[0]["name"]}
            times: dict[str, list[float]] = {FEED_JOB_NAME: [], "__ASSET_JOB": []}
            for n in range(args.repeat):
                for job in times:
                    feed_id = f"sample_{job.strip('_').lower()}_{n}"
                    feed_store.upsert_feed(engine, feed_id, url=str(SAMPLE_FEED_PATH))
                    times[job].append(run_once(client, selector, job, feed_id))
                    report = reports.list_reports(engine, feed_id, limit=1)[0]
                    assert report["status"] == reports.SUCCESS and report["health_recorded"], report
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    postings = SAMPLE_FEED_PATH.read_text(encoding="utf-8").count("<job>")
    print(f"sample feed ({postings} postings), run start to end in Dagster, {args.repeat} fresh feed(s) per path:")
    print("| launched as | median s | runs |")
    print("|---|---|---|")
    for job, values in times.items():
        print(f"| {job} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |")


if __name__ == "__main__":
    main()
