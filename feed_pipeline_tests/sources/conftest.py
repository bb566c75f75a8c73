"""Fixtures for source tests: the loopback feed server and the fixture feed files."""
from __future__ import annotations

from pathlib import Path

import pytest

from feed_pipeline_tests.fakes.feed_server import feed_server  # noqa: F401 - a fixture, used by name
from feed_pipeline_tests.fakes.job_api_servers import running_job_apis

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def apis():
    """RemoteOK, JSearch and Adzuna on loopback, with the environment that points the sources at them."""
    with running_job_apis() as apis:
        yield apis
