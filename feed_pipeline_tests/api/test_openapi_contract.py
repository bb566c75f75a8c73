"""Schemathesis against the OpenAPI schema: generated requests never get a 5xx and responses match the schema.

Driven through schemathesis' Python API (its pytest plugin's lazy fixtures break under pytest 9). Its own
module, so the catalogue it may write to (a generated review) is not the one the read-only tests share.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from feed_pipeline.api.app import create_app
from feed_pipeline.api.launchers import RunConflictError, RunOptions, RunState
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline_tests.api.conftest import TOKEN

MAX_EXAMPLES_PER_OPERATION = 12


class BusyLauncher:
    """Every feed already has a run in progress: generated requests exercise the run routes' schema without
    starting runs (POST /api/jobs/ingest would otherwise run the catalogue's RemoteOK feed against remoteok.com)."""

    via = "worker"

    def launch(self, feed_id: str, options: RunOptions) -> str:
        raise RunConflictError(feed_id, "0e6f0c3e-0000-4000-8000-000000000000")

    def state(self, run_id: str) -> RunState | None:
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def api_schema(catalogue_url, tmp_path, monkeypatch):
    # Should a generated request name a real feed, its run stays inside tmp_path.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    app = create_app(settings=ApiSettings(database_url=catalogue_url, api_token=TOKEN), launcher=BusyLauncher())
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_generated_requests_get_no_server_error_and_match_the_schema(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert sorted((operation.method.upper(), operation.path) for operation in operations) == [
        ("GET", "/api/feeds"), ("GET", "/api/feeds/{feed_id}"), ("GET", "/api/feeds/{feed_id}/reports"),
        ("GET", "/api/health"), ("GET", "/api/jobs"), ("GET", "/api/jobs/{job_key}"), ("GET", "/api/runs/{run_id}"),
        ("GET", "/execution-status/{feed_id}"), ("POST", "/api/feeds/{feed_id}/runs"), ("POST", "/api/jobs/ingest"),
        ("POST", "/api/jobs/{job_key}/review"), ("POST", "/trigger-feed/{feed_id}"),
        ("PUT", "/api/feeds/{feed_id}/taxonomy"),
    ]

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

        check()
