"""Two `feed-pipeline run` of one feed started together (subprocesses, as two operators or a cron and an operator
would), on SQLite and PostgreSQL: the feed's lease lets one run work; the other exits 1 at once with "feed X is
already running (run <id>)" and writes nothing; each approved job is in Xano exactly once.

The feed is served over loopback and its body held back until the refused run has exited, so the two runs
overlap for certain whatever the machine's speed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.resources.database import engine_for
from feed_pipeline.sandbox import XanoSandbox
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import reports
from feed_pipeline_tests.fakes.feed_server import FeedServer

ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_")
FEED = "gated"
RUN_TIMEOUT_S = 240


@pytest.fixture
def gated_feed():
    """The sample feed served over loopback; every GET's body waits for `route.gate`."""
    with FeedServer() as server:
        server.add("/feed.xml", SAMPLE_FEED_PATH.read_bytes(), gate=threading.Event())
        yield server


@pytest.fixture
def xano(tmp_path):
    with XanoSandbox(tmp_path / "xano.sqlite") as sandbox:
        yield sandbox


def start_run(tmp_path, db_url: str, xano_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(FEED_PIPELINE_DATABASE_URL=db_url, XANO_BASE_URL=xano_url, DAGSTER_HOME=str(tmp_path / ".dagster_home"),
               FEED_PIPELINE_ALLOW_PRIVATE_URLS="1")
    return subprocess.Popen([sys.executable, "-m", "feed_pipeline.cli", "run", FEED], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def summary_of(stdout: str, stderr: str) -> dict:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON summary on stdout, got {stdout!r}\nstderr: {stderr[-3000:]}"
    return lines[0]


def first_to_exit(processes: list[subprocess.Popen], timeout_s: float) -> subprocess.Popen:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                return process
        time.sleep(0.2)
    raise AssertionError("neither run ended: both are waiting for the feed, so the lease let both in")


def test_two_runs_of_one_feed_started_together_publish_each_job_once(db_url, tmp_path, gated_feed, xano):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, FEED, url=gated_feed.url("/feed.xml"))
    runs = [start_run(tmp_path, db_url, xano.base_url) for _ in range(2)]
    try:
        refused = first_to_exit(runs, RUN_TIMEOUT_S)
        refused_out, refused_err = refused.communicate(timeout=30)
        gated_feed.routes["/feed.xml"].gate.set()
        (worker,) = [p for p in runs if p is not refused]
        worker_out, worker_err = worker.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        for process in runs:
            if process.poll() is None:
                process.kill()
                process.wait()

    refusal, summary = summary_of(refused_out, refused_err), summary_of(worker_out, worker_err)
    assert (refused.returncode, worker.returncode) == (1, 0), (refused_err[-3000:], worker_err[-3000:])
    assert summary["status"] == "success"
    assert refusal["status"] == "failed"
    assert refusal["error"].startswith(f"feed {FEED} is already running (run {summary['run_id']})")
    assert f"feed {FEED} is already running" in refused_err, "the operator reads why on stderr too"
    assert len(gated_feed.requests_for("/feed.xml")) == 1, "the refused run never fetched the feed"

    approved = {row["job_key"] for row in job_store.iter_jobs(engine, FEED, route="approved")}
    mirrored = Counter(r["job_key"] for r in xano.records() if r.get("feed_id") == FEED)
    assert approved and set(mirrored) == approved
    assert set(mirrored.values()) == {1}, "each approved job exactly once in Xano"
    assert summary["mirror"]["added"] == len(approved)

    assert reports.get_report(engine, refusal["run_id"]) is None, "the refused run wrote no report"
    feed = feed_store.get_feed(engine, FEED)
    assert (feed.run_count, feed.last_run_status) == (1, "success")
