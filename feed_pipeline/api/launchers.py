"""How `POST /api/feeds/{id}/runs` starts `feed_job`, and how `GET /api/runs/{id}` follows it.

Two ways, one interface:
- `GraphQLRunLauncher`: through a Dagster webserver's GraphQL API (DAGSTER_GRAPHQL_URL), so the run goes
  through the deployment's run coordinator, queue limits and run launcher like any run from the UI.
- `WorkerRunLauncher`: in this process, on a small thread pool, with `automation.runner.run_feed` on the
  DAGSTER_HOME instance: for a single machine with no Dagster daemon. The run id is chosen before the run
  starts so the API can answer 202 at once.
Either way the summary of a finished run comes from its `execution_reports` row (`runner.summarize`), which the
run closed itself (resources/run_scope.py): its status (`success`, `partial`, `failed`) is the report's, so the
run and the feed's health never disagree. One run per feed is the feed's lease, held in the database by every
run whatever launched it; the worker launcher answers 409 at once while another run holds it.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import dagster as dg
import httpx

from feed_pipeline.automation.jobs import FEED_JOB_NAME
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import engine_for
from feed_pipeline.settings import process_environment
from feed_pipeline.store import leases, reports

log = logging.getLogger(__name__)

PARTITION_TAG = "dagster/partition"
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
API_STATUS = {"QUEUED": "queued", "NOT_STARTED": "queued", "MANAGED": "queued", "SUSPENDED": "queued",
              "STARTING": "starting", "STARTED": "started", "CANCELING": "canceling",
              "SUCCESS": "success", "FAILURE": "failed", "CANCELED": "canceled"}
DONE = ("success", "partial", "failed", "canceled")


class LaunchError(RuntimeError):
    """Dagster did not accept the run; the message says why and what to check."""


class RunConflictError(RuntimeError):
    def __init__(self, feed_id: str, run_id: str):
        super().__init__(f"feed {feed_id!r} already has run {run_id} in progress; wait for it (GET /api/runs/"
                         f"{run_id}) before starting another")
        self.feed_id = feed_id
        self.run_id = run_id


@dataclass(frozen=True)
class RunOptions:
    force: bool = False
    allow_mass_delete: bool = False


@dataclass(frozen=True)
class RunState:
    """Where a run is. `summary` (the `feed-pipeline run` object) is set once it has finished."""

    run_id: str
    feed_id: str | None
    status: str  # an API_STATUS value
    dagster_status: str | None
    summary: dict[str, Any] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in DONE


class RunLauncher(Protocol):
    via: str

    def launch(self, feed_id: str, options: RunOptions) -> str:
        """Start feed_job for the feed's partition and return the run id at once."""

    def state(self, run_id: str) -> RunState | None:
        """None when no such run is known."""

    def close(self) -> None: ...


def finished_summary(database_url: str | None, run_id: str, feed_id: str | None, dagster_status: str,
                     duration_s: float | None) -> dict[str, Any] | None:
    """The run's summary from its execution report (None when the run never opened one).

    The status is the report's once the run is recorded (it knows `partial`); Dagster's otherwise.
    """
    engine = engine_for(database_url)
    report = reports.get_report(engine, run_id)
    if report is None and feed_id is None:
        return None
    feed_id = feed_id or report["feed_id"]
    recorded = report is not None and report["health_recorded"]
    status = report["status"] if recorded else API_STATUS[dagster_status]
    if duration_s is None and report is not None:
        duration_s = report.get("duration_s")
    from feed_pipeline.automation.runner import summarize

    return summarize(engine, feed_id, run_id, status, duration_s or 0.0, (report or {}).get("error"))


def _finished_state(run_id: str, feed_id: str | None, dagster_status: str,
                    summary: dict[str, Any] | None) -> RunState:
    """A finished run: the summary's status (the report's) when there is one, Dagster's otherwise."""
    status = summary["status"] if summary else API_STATUS[dagster_status]
    error = (summary or {}).get("error") or "; ".join((summary or {}).get("reasons") or []) or None
    return RunState(run_id, feed_id, status, dagster_status, summary=summary, error=error)


# --- in this process ----------------------------------------------------------------------------------------


@dataclass
class _LocalRun:
    feed_id: str
    future: Future


class WorkerRunLauncher:
    """Runs feed_job in this process, one run at a time; the others wait in its queue.

    One worker thread, not several: every Dagster run whose instance has settings reconfigures Python logging
    (`logging.config.dictConfig`) while it starts, and that takes logging's module lock and then each handler's
    lock, while a run already going takes a handler's lock and then the module lock (its event-log handler
    creates a SQLAlchemy engine, which asks for a logger): two runs in threads of one process deadlock. Runs in
    parallel come from the webserver and the daemon (DAGSTER_GRAPHQL_URL), each in its own process.
    """

    via = "worker"

    def __init__(self, database_url: str | None,
                 definitions_factory: Callable[[], dg.Definitions] | None = None,
                 instance_factory: Callable[[], dg.DagsterInstance] | None = None):
        self._database_url = database_url
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-run")
        self._runs: dict[str, _LocalRun] = {}
        self._lock = threading.Lock()
        self._definitions_factory = definitions_factory or self._build_definitions
        self._instance_factory = instance_factory or _default_instance
        self._defs: dg.Definitions | None = None
        self._instance: dg.DagsterInstance | None = None

    def _build_definitions(self) -> dg.Definitions:
        """The project's Definitions with the database resource pointed at the API's own database."""
        from feed_pipeline.definitions import build_definitions, build_resources

        env = dict(process_environment())
        if self._database_url:
            env["FEED_PIPELINE_DATABASE_URL"] = self._database_url
        return build_definitions(build_resources(env))

    def _definitions(self) -> dg.Definitions:
        with self._lock:
            if self._defs is None:
                self._defs = self._definitions_factory()
            return self._defs

    def _dagster_instance(self) -> dg.DagsterInstance:
        with self._lock:
            if self._instance is None:
                self._instance = self._instance_factory()
            return self._instance

    def launch(self, feed_id: str, options: RunOptions) -> str:
        held = leases.live_lease(engine_for(self._database_url), feed_id)
        if held is not None:  # a run from anywhere (CLI, UI, another API process) is working on the feed
            raise RunConflictError(feed_id, held.run_id)
        with self._lock:
            for run_id, run in self._runs.items():
                if run.feed_id == feed_id and not run.future.done():
                    raise RunConflictError(feed_id, run_id)
            run_id = str(uuid.uuid4())
            future = self._pool.submit(self._execute, feed_id, run_id, options)
            self._runs[run_id] = _LocalRun(feed_id, future)
        return run_id

    def _execute(self, feed_id: str, run_id: str, options: RunOptions) -> dict[str, Any]:
        from feed_pipeline.automation.runner import run_feed

        defs, instance = self._definitions(), self._dagster_instance()
        log.info("run %s of feed %s starting in a worker thread", run_id, feed_id)
        return run_feed(defs, instance, feed_id, database_url=self._database_url, force=options.force,
                        allow_mass_delete=options.allow_mass_delete, run_id=run_id)

    def state(self, run_id: str) -> RunState | None:
        with self._lock:
            local = self._runs.get(run_id)
        run = self._dagster_run(run_id)
        dagster_status = run.status.value if run is not None else None
        if local is not None:
            if not local.future.done():
                status = API_STATUS[dagster_status] if dagster_status else "queued"
                if status in DONE:
                    status = "started"  # Dagster is done; the report is being closed
                return RunState(run_id, local.feed_id, status, dagster_status)
            error = local.future.exception()
            if error is not None:
                return RunState(run_id, local.feed_id, "failed", dagster_status,
                                error=f"{type(error).__name__}: {error}")
            return _finished_state(run_id, local.feed_id, dagster_status or "FAILURE", local.future.result())
        if run is None:
            return None
        feed_id = run.tags.get(PARTITION_TAG)
        if dagster_status not in FINISHED:
            return RunState(run_id, feed_id, API_STATUS[dagster_status], dagster_status)
        stats = self._dagster_instance().get_run_stats(run_id)
        duration = stats.end_time - stats.start_time if stats.end_time and stats.start_time else None
        summary = finished_summary(self._database_url, run_id, feed_id, dagster_status, duration)
        return _finished_state(run_id, feed_id, dagster_status, summary)

    def _dagster_run(self, run_id: str) -> dg.DagsterRun | None:
        return self._dagster_instance().get_run_by_id(run_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._instance is not None:
            self._instance.dispose()


def _default_instance() -> dg.DagsterInstance:
    from feed_pipeline.automation.runner import default_instance

    return default_instance()


# --- through a Dagster webserver ----------------------------------------------------------------------------

_LOCATE_JOB = """
query FeedPipelineLocateJob {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on Error { message }
  }
}"""

_ADD_PARTITION = """
mutation FeedPipelineAddPartition($repositorySelector: RepositorySelector!, $partitionsDefName: String!,
                                  $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $repositorySelector, partitionsDefName: $partitionsDefName,
                      partitionKey: $partitionKey) {
    __typename
    ... on Error { message }
  }
}"""

_LAUNCH_RUN = """
mutation FeedPipelineLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

_RUN_STATUS = """
query FeedPipelineRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status startTime endTime tags { key value } }
    ... on Error { message }
  }
}"""


class GraphQLRunLauncher:
    """Launches feed_job through the Dagster webserver at `url` (e.g. http://dagster:3000/graphql)."""

    via = "graphql"

    def __init__(self, url: str, database_url: str | None, timeout_s: float = 30.0,
                 base_run_config: Mapping[str, Any] | None = None):
        """`base_run_config` goes into every launched run (e.g. op config); feed_job already runs its steps
        in one process (its executor is the in-process one)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"DAGSTER_GRAPHQL_URL must be an http(s) URL like http://host:3000/graphql, got {url!r}")
        path = parts.path.rstrip("/")
        self._url = f"{parts.scheme}://{parts.netloc}{path if path.endswith('/graphql') else path + '/graphql'}"
        self._database_url = database_url
        self._client = httpx.Client(timeout=timeout_s)
        self._base_run_config = dict(base_run_config or {})
        self._repository: dict[str, str] | None = None
        self._lock = threading.Lock()

    def _execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._client.post(self._url, json={"query": query, "variables": variables or {}})
        except httpx.HTTPError as exc:
            raise LaunchError(f"the Dagster webserver at {self._url} did not answer ({exc}); check "
                              f"DAGSTER_GRAPHQL_URL and that `dagster-webserver` is running") from exc
        if response.status_code != 200:
            raise LaunchError(f"the Dagster webserver at {self._url} answered HTTP {response.status_code}: "
                              f"{response.text[:300]}")
        body = response.json()
        if body.get("errors"):
            messages = "; ".join(e.get("message", "") for e in body["errors"])
            raise LaunchError(f"the Dagster GraphQL API rejected the request: {messages}")
        return body["data"]

    def _repository_selector(self) -> dict[str, str]:
        with self._lock:
            if self._repository is None:
                result = self._execute(_LOCATE_JOB)["repositoriesOrError"]
                if result["__typename"] != "RepositoryConnection":
                    raise LaunchError(f"Dagster could not list its code locations: {result.get('message')}")
                found = [n for n in result["nodes"] if any(j["name"] == FEED_JOB_NAME for j in n["jobs"])]
                if not found:
                    raise LaunchError(f"no code location served by {self._url} has {FEED_JOB_NAME}; load "
                                      f"feed_pipeline.definitions in its workspace")
                self._repository = {"repositoryLocationName": found[0]["location"]["name"],
                                     "repositoryName": found[0]["name"]}
            return self._repository

    def launch(self, feed_id: str, options: RunOptions) -> str:
        from feed_pipeline.automation.runner import run_config_for

        selector = self._repository_selector()
        added = self._execute(_ADD_PARTITION, {"repositorySelector": selector,
                                               "partitionsDefName": feeds_partitions.name, "partitionKey": feed_id})
        kind = added["addDynamicPartition"]["__typename"]
        if kind not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise LaunchError(f"Dagster did not register partition {feed_id!r}: "
                              f"{added['addDynamicPartition'].get('message')}")
        params = {
            "selector": {**selector, "jobName": FEED_JOB_NAME},
            "runConfigData": {**self._base_run_config,
                              **run_config_for(force=options.force, allow_mass_delete=options.allow_mass_delete)},
            "executionMetadata": {"tags": [{"key": PARTITION_TAG, "value": feed_id}]},
        }
        result = self._execute(_LAUNCH_RUN, {"executionParams": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
            raise LaunchError(f"Dagster did not launch {FEED_JOB_NAME} for {feed_id!r} "
                              f"({result['__typename']}): {detail}")
        return result["run"]["runId"]

    def state(self, run_id: str) -> RunState | None:
        result = self._execute(_RUN_STATUS, {"runId": run_id})["runOrError"]
        if result["__typename"] == "RunNotFoundError":
            return None
        if result["__typename"] != "Run":
            raise LaunchError(f"Dagster could not report run {run_id}: {result.get('message')}")
        dagster_status = result["status"]
        feed_id = next((t["value"] for t in result["tags"] if t["key"] == PARTITION_TAG), None)
        if dagster_status not in FINISHED:
            return RunState(run_id, feed_id, API_STATUS.get(dagster_status, "queued"), dagster_status)
        start, end = result.get("startTime"), result.get("endTime")
        duration = end - start if start and end else None
        summary = finished_summary(self._database_url, run_id, feed_id, dagster_status, duration)
        return _finished_state(run_id, feed_id, dagster_status, summary)

    def close(self) -> None:
        self._client.close()
