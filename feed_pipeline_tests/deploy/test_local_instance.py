"""A fresh clone works with no environment: the repo's dagster.yaml is the local instance (SQLite, telemetry off,
run monitoring, the same run retries as production) and `dagster definitions validate` passes in a clean copy of
the repo with no DAGSTER_* variable. The CLI installs the same instance into an empty DAGSTER_HOME."""
from __future__ import annotations

import os
import subprocess

import dagster as dg
import httpx
import pytest
import yaml

from feed_pipeline.automation.runner import LOCAL_INSTANCE_CONFIG, default_instance
from feed_pipeline_tests.deploy.conftest import DAGSTER_YAML, REPO_ROOT
from feed_pipeline_tests.deploy.services import Service, free_port, stop_all, venv_command, wait_for

ROOT_DAGSTER_YAML = REPO_ROOT / "dagster.yaml"


def load(path) -> dict:
    return yaml.safe_load(path.read_text())


def test_the_repos_dagster_yaml_is_the_local_instance_the_cli_installs():
    assert ROOT_DAGSTER_YAML.resolve() == LOCAL_INSTANCE_CONFIG.resolve()


def test_the_local_instance_reads_no_environment_and_keeps_telemetry_off():
    text = LOCAL_INSTANCE_CONFIG.read_text()
    assert "env:" not in text and "DAGSTER_PG" not in text
    config = load(LOCAL_INSTANCE_CONFIG)
    assert config["telemetry"] == {"enabled": False}
    assert "storage" not in config, "SQLite under DAGSTER_HOME"
    assert config["run_monitoring"]["enabled"] is True


def test_every_job_gets_the_same_run_retries_locally_and_in_production():
    assert load(LOCAL_INSTANCE_CONFIG)["run_retries"] == load(DAGSTER_YAML)["run_retries"]
    assert load(DAGSTER_YAML)["run_retries"]["max_retries"] >= 1


def test_default_instance_installs_the_local_config_into_an_empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    with default_instance() as instance:
        assert (tmp_path / "home" / "dagster.yaml").read_text() == LOCAL_INSTANCE_CONFIG.read_text()
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1
        assert not instance.get_settings("telemetry").get("enabled", True)


def fresh_copy(tmp_path) -> tuple:
    """The committed repo (HEAD) unpacked in a new folder, and an environment with none of the project's variables."""
    clone = tmp_path / "clone"
    clone.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "HEAD"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(clone)], input=archive.stdout, check=True)
    assert (clone / "dagster.yaml").is_symlink() and (clone / "dagster.yaml").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "FEED_PIPELINE_", "GEMINI_", "XANO_"))}
    env["PYTHONPATH"] = str(clone)  # the clone's code, not this checkout's
    return clone, env


def test_definitions_validate_in_a_fresh_copy_of_the_repo_with_no_environment(tmp_path):
    clone, env = fresh_copy(tmp_path)

    result = subprocess.run(venv_command("dagster", "definitions", "validate"), cwd=clone, env=env,
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Validation successful" in result.stdout + result.stderr
    assert "Telemetry" not in result.stdout + result.stderr


def make(*args: str, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    result = subprocess.run(["make", *args], cwd=REPO_ROOT, input=stdin, capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_points_every_target_at_the_repos_dagster_home():
    printed = make("-s", "-f", "Makefile", "-f", "-", "print-home", stdin="print-home:\n\t@echo $$DAGSTER_HOME\n")
    assert printed.strip() == str(REPO_ROOT / ".dagster_home")


@pytest.mark.parametrize("target, command", [("dev", "dagster dev -h 127.0.0.1"), ("run", "feed-pipeline demo")])
def test_make_dev_and_run_install_the_local_instance_before_starting(tmp_path, target, command):
    home = tmp_path / "home"
    planned = make("-n", "-o", ".venv/.installed", target, f"DAGSTER_HOME={home}")
    assert f"cp -L dagster.yaml {home}/dagster.yaml" in planned
    assert planned.index("cp -L dagster.yaml") < planned.index(command)


def test_the_asset_graphs_job_runs_in_process_like_feed_job():
    from feed_pipeline.definitions import defs

    assert defs.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor
    assert defs.resolve_job_def("feed_job").executor_def is dg.in_process_executor


@pytest.mark.slow
def test_plain_dagster_dev_serves_the_ui_from_a_fresh_copy_with_no_environment(tmp_path):
    clone, env = fresh_copy(tmp_path)
    port = free_port()
    service = Service("dagster-dev", venv_command("dagster", "dev", "-h", "127.0.0.1", "-p", str(port)), env=env,
                      cwd=clone, log_dir=tmp_path)
    try:
        def location_loaded() -> bool:
            body = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={"query": (
                "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus "
                "locationOrLoadError { __typename } } } } }")}).json()
            entries = body["data"]["workspaceOrError"]["locationEntries"]
            return bool(entries) and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] ==
                                         "RepositoryLocation" for e in entries)

        wait_for(location_loaded, timeout_s=180, what="the UI to serve the code location", services=[service])
        assert httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=10).status_code == 200
    finally:
        stop_all([service], grace_s=10)
    assert "Telemetry" not in service.log_path.read_text(errors="replace")
