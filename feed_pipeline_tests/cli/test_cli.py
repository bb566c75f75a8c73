"""The `feed-pipeline` command: `demo` as a newcomer meets it (a subprocess in an empty folder), the other
commands in-process through click's runner; JSON on stdout, progress and errors on stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from feed_pipeline.cli import SAMPLE_FEED_PATH, main
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.db import engine_for

ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty folder as the working directory, with none of the project's variables set."""
    for name in [n for n in os.environ if n.startswith(ISOLATED_PREFIXES)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster_home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _demo_subprocess(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    result = subprocess.run([sys.executable, "-m", "feed_pipeline.cli", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_demo_runs_the_sample_feed_on_the_embedded_default_and_prints_the_summary(tmp_path):
    result = _demo_subprocess(tmp_path)

    (summary,) = json_lines(result.stdout)
    assert summary["feed_id"] == "sample" and summary["status"] == "success"
    assert set(summary) >= {"feed_id", "status", "run_id", "duration_s", "counts", "ai", "mirror"}
    counts = summary["counts"]
    assert set(counts) == {"raw", "closed", "invalid", "deduped", "approved", "manual_review", "archived", "failed"}
    assert all(counts[k] > 0 for k in ("approved", "manual_review", "archived", "closed"))
    assert set(summary["ai"]) == {"calls", "input_tokens", "output_tokens", "cache_hits"}
    assert summary["mirror"]["added"] == counts["approved"]
    assert (tmp_path / ".feed_pipeline" / "feed_pipeline.sqlite").exists(), "SQLite under .feed_pipeline/"
    assert (tmp_path / ".feed_pipeline" / "xano_sandbox.sqlite").exists(), "the embedded Xano keeps its data"
    assert (tmp_path / ".dagster_home").is_dir()
    assert "running feed sample" in result.stderr
    assert "Telemetry" not in result.stderr + result.stdout, "the local instance keeps telemetry off"
    assert "enabled: false" in (tmp_path / ".dagster_home" / "dagster.yaml").read_text()

    again = json_lines(_demo_subprocess(tmp_path).stdout)[0]
    assert again["counts"] == counts
    assert again["mirror"] == {"added": 0, "updated": 0, "deleted": 0, "unchanged": counts["approved"]}


def test_feeds_add_list_disable_and_run_by_id(workdir):
    added = json_lines(cli("feeds", "add", "acme", "--url", str(SAMPLE_FEED_PATH), "--name", "ACME").stdout)
    assert added[0]["id"] == "acme" and added[0]["active"] is True

    listed = json_lines(cli("feeds", "list").stdout)
    assert [f["id"] for f in listed] == ["acme"]

    (summary,) = json_lines(cli("run", "acme").stdout)
    assert summary["status"] == "success"
    health = json_lines(cli("feeds", "list").stdout)[0]
    assert health["last_run_status"] == "success" and health["consecutive_failure_count"] == 0

    disabled = json_lines(cli("feeds", "disable", "acme").stdout)[0]
    assert disabled["active"] is False
    assert json_lines(cli("feeds", "list", "--active").stdout) == []


def test_run_of_an_unknown_feed_fails_with_a_clear_message(workdir):
    result = cli("run", "nope", code=1)
    (summary,) = json_lines(result.stdout)
    assert summary["status"] == "failed"
    assert "feeds add nope" in summary["error"]


def test_bad_input_is_refused_with_usage_errors(workdir):
    assert "does not exist" in cli("feeds", "add", "x", "--url", str(workdir / "missing.xml"), code=2).stderr
    assert "may not contain" in cli("feeds", "add", "a,b", "--url", str(SAMPLE_FEED_PATH), code=2).stderr
    assert "not KEY=VALUE" in cli("feeds", "add", "y", "--kind", "remoteok", "--param", "oops", code=2).stderr
    assert "FEED_ID" in cli("run", code=2).stderr
    assert "is not registered" in cli("feeds", "disable", "ghost", code=1).stderr


def test_review_records_decisions_on_existing_jobs(workdir):
    (before,) = json_lines(cli("demo").stdout)
    engine = sa.create_engine(f"sqlite:///{workdir / '.feed_pipeline' / 'feed_pipeline.sqlite'}")
    with engine.connect() as conn:
        first, second = conn.execute(
            sa.text("select job_key from manual_review_jobs order by job_key limit 2")).scalars().all()
    engine.dispose()

    approved = json_lines(cli("review", first, "--approve", "--note", "looked at it").stdout)[0]
    rejected = json_lines(cli("review", second, "--reject").stdout)[0]

    assert (approved["decision"], approved["note"]) == ("approve", "looked at it")
    assert rejected["decision"] == "reject"
    (summary,) = json_lines(cli("run", "sample").stdout)
    assert summary["counts"]["manual_review"] == before["counts"]["manual_review"] - 2  # two decided
    assert "no job with key" in cli("review", "no-such-key", "--approve", code=1).stderr
    assert "--approve or --reject" in cli("review", first, code=2).stderr


BOARD_TAXONOMY = {"industries": [{"name": "Property Management", "description": "Apartment communities.",
                                  "functions": [{"name": "Leasing"}, {"name": "Maintenance"}]}]}


def test_feeds_add_taxonomy_stores_the_content_and_later_adds_keep_it(workdir, db_url, monkeypatch):
    monkeypatch.setenv("FEED_PIPELINE_DATABASE_URL", db_url)
    path = workdir / "board.json"
    path.write_text(json.dumps(BOARD_TAXONOMY))
    added = json_lines(cli("feeds", "add", "board", "--url", str(SAMPLE_FEED_PATH), "--taxonomy", str(path)).stdout)
    version = added[0]["taxonomy_version"]
    assert version and len(version) == 16
    path.unlink()  # the content is stored: the file may go
    again = json_lines(cli("feeds", "add", "board", "--url", str(SAMPLE_FEED_PATH)).stdout)[0]
    assert again["taxonomy_version"] == version
    engine = engine_for(db_url)
    assert feed_store.feed_taxonomy(engine, "board").industry_names == ("Property Management",)
    cleared = json_lines(cli("feeds", "add", "board", "--url", str(SAMPLE_FEED_PATH), "--default-taxonomy").stdout)
    assert cleared[0]["taxonomy_version"] is None


def test_feeds_add_refuses_a_broken_taxonomy_naming_the_file_and_entry(workdir, db_url, monkeypatch):
    monkeypatch.setenv("FEED_PIPELINE_DATABASE_URL", db_url)
    path = workdir / "broken.json"
    path.write_text(json.dumps({"industries": [{"name": "Property Management", "functions": []}]}))
    error = cli("feeds", "add", "board", "--url", str(SAMPLE_FEED_PATH), "--taxonomy", str(path), code=2).stderr
    assert "broken.json: industries[0] (Property Management): 'functions' must be a non-empty list" in " ".join(
        error.split())
    assert "does not exist" in cli("feeds", "add", "board", "--url", str(SAMPLE_FEED_PATH), "--taxonomy",
                                   str(workdir / "missing.json"), code=2).stderr
    assert feed_store.list_feeds(engine_for(db_url)) == []


def test_a_feed_that_is_an_html_page_fails_with_the_root_cause_and_exit_status_1(workdir):
    page = workdir / "jobs.xml"
    page.write_text("<!DOCTYPE html><html><head><title>Careers</title></head><body><p>Sign in</p></body></html>")
    cli("feeds", "add", "careers", "--url", str(page))

    result = cli("run", "careers", code=1)

    (summary,) = json_lines(result.stdout)
    assert summary["status"] == "failed"
    assert summary["error"] == (f"raw_jobs: feed 'careers' ({page}): no record could be read: the document is an "
                                f"HTML page, not a job feed")
    assert f"feed careers failed: {summary['error']}" in result.stderr


def test_a_truncated_feed_is_partial_with_the_reason_and_exit_status_3(workdir):
    text = SAMPLE_FEED_PATH.read_text(encoding="utf-8")
    cut = workdir / "cut.xml"
    cut.write_text(text[: text.index("<job>", len(text) // 2) + 40], encoding="utf-8")
    cli("feeds", "add", "cut", "--url", str(cut))

    result = cli("run", "cut", code=3)

    (summary,) = json_lines(result.stdout)
    assert summary["status"] == "partial" and "error" not in summary
    (reason,) = summary["reasons"]
    assert reason.startswith("ingest incomplete: truncated") and reason.endswith("no job was treated as removed")
    assert summary["counts"]["approved"] > 0, "what was read is published"
    assert "feed cut partial: ingest incomplete: truncated" in result.stderr
