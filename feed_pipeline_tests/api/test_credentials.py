"""A credential in a feed's URL or params never leaves the registry: not in an API answer (with or without the
token), a log record, the ingests table, the execution report, or the Dagster event log of the failed run."""
from __future__ import annotations

import json
import logging

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._serdes import serialize_value

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.definitions import build_definitions, build_resources
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline_tests.api.conftest import AUTH, TOKEN, make_client

SECRETS = ("feeduser", "Hunter2Pass", "Tok3nValue", "AppK3yValue", "Sig9Value")
# Port 1 on loopback refuses connections: the fetch fails after its retries, as an unreachable feed host would.
LEAKY_URL = "http://feeduser:Hunter2Pass@127.0.0.1:1/jobs.xml?token=Tok3nValue&page=1&sig=Sig9Value"


def assert_no_secret(text: str, where: str) -> None:
    found = [s for s in SECRETS if s in text]
    assert not found, f"{where} shows {found}"


class Collected(logging.Handler):
    """Every record any logger emits while attached to the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def failed_run(request, tmp_path_factory):
    """The leaky feed run through feed_job (it fails: nothing listens), plus a job-API feed holding a key in its
    params and a local file feed; built once per dialect, the tests only look."""
    tmp_path = tmp_path_factory.mktemp("credentials")
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'pipeline.sqlite'}"
    else:
        db_url = request.getfixturevalue("pg_database_factory")()
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "leaky", url=LEAKY_URL, kind="xml")
    feed_store.upsert_feed(engine, "apikey", url=None, kind="adzuna", params={"app_key": "AppK3yValue", "what": "go"})
    local = tmp_path / "private" / "feeds" / "local.xml"
    local.parent.mkdir(parents=True)
    local.write_text("<source></source>")
    feed_store.upsert_feed(engine, "local", url=str(local), kind="xml")
    defs = build_definitions(build_resources({"FEED_PIPELINE_DATABASE_URL": db_url, "FEED_PIPELINE_XANO_SANDBOX": "1"}))
    collected, root = Collected(), logging.getLogger()
    level = root.level
    root.addHandler(collected)
    root.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
            mp.chdir(tmp_path)
            summary = run_feed(defs, instance, "leaky", database_url=db_url)
            events = [serialize_value(e) for e in instance.all_logs(summary["run_id"])]
    finally:
        root.removeHandler(collected)
        root.setLevel(level)
    return {"engine": engine, "url": db_url, "summary": summary, "events": events, "records": collected.records,
            "local_dir": str(local.parent)}


def test_the_failed_run_summary_shows_no_credential(failed_run):
    summary = failed_run["summary"]

    assert summary["status"] != "success" and summary.get("error")
    assert_no_secret(json.dumps(summary), "the run summary")


def test_no_dagster_event_of_the_run_shows_a_credential(failed_run):
    events = "\n".join(failed_run["events"])

    assert "STEP_FAILURE" in events and "127.0.0.1:1/jobs.xml" in events
    assert_no_secret(events, "the Dagster event log")


def test_no_log_record_shows_a_credential(failed_run):
    records = failed_run["records"]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in records)

    assert "127.0.0.1:1/jobs.xml" in logged, "the run logged its failed attempts"
    assert_no_secret(logged, "the log")


def test_the_stored_errors_show_no_credential(failed_run):
    engine = failed_run["engine"]
    with engine.connect() as conn:
        ingest_errors = [e for (e,) in conn.execute(sa.text("select error from ingests where feed_id = 'leaky'"))]
    report = reports.get_report(engine, failed_run["summary"]["run_id"])

    assert ingest_errors and all("http://***@127.0.0.1:1/jobs.xml?token=***&page=1&sig=***" in e
                                 for e in ingest_errors), "the error still names the feed's host and path"
    assert_no_secret(json.dumps(ingest_errors), "ingests.error")
    assert_no_secret(json.dumps(report, default=str), "the execution report")


@pytest.mark.parametrize("token", [TOKEN, None])
def test_no_api_answer_shows_a_credential_or_a_local_path(failed_run, token):
    client = make_client(failed_run["url"], token=TOKEN)
    headers = AUTH if token else {}
    run_id = failed_run["summary"]["run_id"]
    answers = {}
    for path in ("/api/feeds", "/api/feeds/leaky", "/api/feeds/leaky/reports", "/api/feeds/apikey",
                 "/api/feeds/local", "/execution-status/leaky", f"/api/runs/{run_id}", "/api/jobs",
                 "/api/jobs?feed_id=leaky&route=any"):
        response = client.get(path, headers=headers)
        answers[path] = response
        assert_no_secret(response.text, f"GET {path}")
        assert failed_run["local_dir"] not in response.text, f"GET {path} shows a local path"

    if token:
        feeds = {f["id"]: f for f in answers["/api/feeds"].json()}
        assert feeds["leaky"]["url"] == "http://***@127.0.0.1:1/jobs.xml?token=***&page=1&sig=***"
        assert feeds["apikey"]["params"] == {"app_key": "***", "what": "go"}
        assert feeds["local"]["url"] == "local.xml"
        assert answers["/api/feeds/leaky/reports"].json()["reports"][0]["status"] == "failed"
    else:
        assert answers["/api/feeds"].status_code == 401
