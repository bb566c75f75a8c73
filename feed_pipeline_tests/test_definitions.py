"""The code location loads as Dagster's own tools load it, with the shape DESIGN.md promises."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from feed_pipeline.automation.jobs import STAGES
from feed_pipeline.core.routing import Thresholds
from feed_pipeline.definitions import build_definitions, build_resources
from feed_pipeline.resources.job_apis import JobApiResource

REPO = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate_passes_on_the_workspace(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "XANO_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_six_partitioned_stages_in_order_with_blocking_checks():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(STAGES) <= keys
    for upstream, downstream in itertools.pairwise(STAGES):
        parents = {p.to_user_string() for p in graph.get(dg.AssetKey(downstream)).parent_keys}
        assert upstream in parents, (upstream, downstream)
    for stage in STAGES:
        assert graph.get(dg.AssetKey(stage)).partitions_def.name == "feeds"
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"routes_obey_thresholds", "approved_jobs_have_taxonomy", "industry_answers_valid",
            "xano_matches_approved"} <= blocking
    assert defs.resolve_job_def("feed_job").partitions_def.name == "feeds"


def test_gemini_is_chosen_only_when_a_key_is_set():
    offline = build_resources({})["classifier"]
    gemini = build_resources({"GEMINI_API_KEY": "k"})["classifier"]
    assert type(offline).__name__ == "OfflineClassifierResource"
    assert type(gemini).__name__ == "GeminiResource"


def _validate(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "XANO_", "DAGSTER_", "FEED_PIPELINE_"))}
    env.update(DAGSTER_HOME=str(tmp_path), **variables)
    return subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


def test_a_production_configuration_without_xano_base_url_fails_to_load_naming_it(tmp_path):
    result = _validate(tmp_path, FEED_PIPELINE_DATABASE_URL="postgresql://db.invalid/feeds")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "XANO_BASE_URL is not set" in output and "FEED_PIPELINE_XANO_SANDBOX=true" in output


def test_the_sandbox_is_chosen_only_when_asked_for_or_nothing_is_configured():
    assert type(build_resources({})["xano"]).__name__ == "XanoSandboxResource"
    asked = build_resources({"FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds", "FEED_PIPELINE_XANO_SANDBOX": "1"})
    assert type(asked["xano"]).__name__ == "XanoSandboxResource"
    configured = build_resources({"FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds",
                                  "XANO_BASE_URL": "https://x.xano.io/api:abc"})
    assert type(configured["xano"]).__name__ == "XanoResource"


def test_thresholds_default_to_core_routing_and_follow_the_environment():
    assert build_resources({})["routing"].thresholds() == Thresholds()
    moved = build_resources({"FEED_PIPELINE_ARCHIVE_BELOW": "0.4", "FEED_PIPELINE_APPROVE_AT": "0.9"})["routing"]
    assert moved.thresholds() == Thresholds(archive_below=0.4, approve_at=0.9)


def test_given_resources_get_the_environments_job_api_credentials_unless_they_bring_their_own():
    resources = build_resources({})
    del resources["job_apis"]
    assert "job_apis" in build_definitions(resources).resources
    own = JobApiResource(adzuna_app_id="mine")
    assert build_definitions({**resources, "job_apis": own}).resources["job_apis"] is own
