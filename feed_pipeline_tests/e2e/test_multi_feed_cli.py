"""`feed-pipeline feeds add backend --kind multi` then `feed-pipeline run backend`, as an operator runs them
(subprocesses in an empty folder, the three *_BASE_URL pointing at loopback RemoteOK, JSearch and Adzuna servers);
then a second run where JSearch refuses the key: the other sources still land and nothing of the feed is treated
as removed. Subprocesses also keep Dagster's process-wide state (current instance storage) out of the test worker."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from feed_pipeline_tests.fakes.job_api_servers import (
    API_KEYS,
    adzuna_job,
    jsearch_job,
    remoteok_job,
    running_job_apis,
)

ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_", "REMOTEOK_", "JSEARCH_", "ADZUNA_",
                     "RAPIDAPI_", "INGESTION_")
LEDGER = ("Acme builds payment infrastructure for thousands of merchants. As a Senior Backend Engineer you will "
          "design, build and operate the Go services behind our ledger, keep them reliable on Kubernetes, review "
          "code and mentor engineers. You know PostgreSQL and care about testing. We offer a competitive salary, "
          "equity and a yearly learning budget. ") * 4


def stock(apis) -> None:
    """Two backend/devops roles per API, one role the default filter drops, and one role on JSearch and Adzuna."""
    apis.remoteok.jobs = [
        remoteok_job("rk-1", "Senior DevOps Engineer", "Globex", tags=["devops", "aws"], salary_min=140000,
                     salary_max=170000),
        remoteok_job("rk-2", "Backend Developer (Python)", "Initech", tags=["backend", "python"], location=None),
        remoteok_job("rk-3", "Growth Marketer", "Hooli", tags=["marketing"]),
    ]
    apis.jsearch.jobs = [
        jsearch_job("js-1", "Senior Backend Engineer", "Acme, Inc.", description=LEDGER),
        jsearch_job("js-2", "Site Reliability Engineer", "Umbrella", employment_type="CONTRACTOR", is_remote=True),
        jsearch_job("js-3", "Registered Nurse", "Mercy Hospital"),
    ]
    apis.adzuna.jobs = [
        adzuna_job("az-1", "Senior Backend Engineer", "ACME INC", description=LEDGER[:497] + "..."),
        adzuna_job("az-2", "Cloud Platform Engineer", "Stark Industries"),
        adzuna_job("az-3", "Head Chef", "The Ivy"),
    ]


def cli(workdir: Path, env: dict[str, str], *args: str, code: int = 0) -> dict:
    """Run one command; its stdout is one JSON object."""
    result = subprocess.run([sys.executable, "-m", "feed_pipeline.cli", *args], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == code, f"{args}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def feed_jobs(db_url: str) -> dict[str, tuple[str, list[str]]]:
    """job key -> (route, source ids) for every job of the feed in the source of truth."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select job_key, route, source_ids from jobs where feed_id = 'backend'"))
            return {key: (route, json.loads(ids) if isinstance(ids, str) else ids) for key, route, ids in rows}
    finally:
        engine.dispose()


def latest_ingest(db_url: str) -> tuple[bool, str | None, dict]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            complete, error, stats = conn.execute(sa.text(
                "select complete, error, stats from ingests where feed_id = 'backend' order by started_at desc"
            )).first()
    finally:
        engine.dispose()
    return bool(complete), error, json.loads(stats) if isinstance(stats, str) else stats


@pytest.mark.slow
def test_multi_feed_added_and_run_from_the_command_line(tmp_path):
    workdir = tmp_path
    db_url = f"sqlite:///{workdir / 'pipeline.sqlite'}"
    (workdir / "dagster_home").mkdir()
    with running_job_apis() as apis:
        stock(apis)
        env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
        env.update(apis.env(), FEED_PIPELINE_DATABASE_URL=db_url, FEED_PIPELINE_XANO_SANDBOX="1",
                   DAGSTER_HOME=str(workdir / "dagster_home"))

        added = cli(workdir, env, "feeds", "add", "backend", "--kind", "multi")
        first = cli(workdir, env, "run", "backend")

        assert (added["id"], added["kind"], added["params"]) == ("backend", "multi", {})
        assert first["feed_id"] == "backend" and first["status"] == "success", first
        counts = first["counts"]
        assert counts["raw"] == 6, "two roles per API; marketing, nursing and chef filtered out"
        assert counts["deduped"] == 5, "the Acme role posted on JSearch and Adzuna is one job"
        assert counts["approved"] + counts["manual_review"] + counts["archived"] + counts["failed"] == 5
        assert first["mirror"]["added"] == counts["approved"]
        assert [r.path for r in apis.adzuna.requests] == ["/v1/api/jobs/us/search/1"]
        assert apis.jsearch.requests[0].headers["x-rapidapi-key"] == API_KEYS["RAPIDAPI_KEY"]
        before = feed_jobs(db_url)
        assert sorted(sid for _, ids in before.values() for sid in ids) == ["az-1", "az-2", "js-1", "js-2", "rk-1",
                                                                            "rk-2"]
        assert (workdir / "xano_sandbox.sqlite").exists(), "the embedded Xano keeps its data beside the database"
        assert latest_ingest(db_url)[0], "the first ingest read every source"

        # JSearch now refuses the key and Adzuna stopped listing az-2: the run still lands RemoteOK and Adzuna.
        apis.jsearch.subscribed_keys = ()
        apis.adzuna.jobs = [j for j in apis.adzuna.jobs if j["id"] != "az-2"]
        second = cli(workdir, env, "run", "backend", code=3)  # partial: a source failed

    assert second["status"] == "partial", second
    (reason,) = second["reasons"]
    assert reason.startswith("ingest incomplete: jsearch: ") and "You are not subscribed" in reason
    assert second["counts"]["raw"] == 3
    after = feed_jobs(db_url)
    assert {key: route for key, (route, _) in after.items()} == {key: route for key, (route, _) in before.items()}, \
        "an incomplete ingest treats no job as removed: JSearch's jobs and az-2 keep their routes"
    assert second["mirror"]["deleted"] == 0
    complete, error, stats = latest_ingest(db_url)
    assert not complete
    assert error.startswith("jsearch: ") and "You are not subscribed to this API." in error
    assert list(stats["source_errors"]) == ["jsearch"]
