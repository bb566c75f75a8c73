"""Fixtures for the deployment tests: the production instance (docker/dagster.yaml) on a throwaway PostgreSQL
database, small feeds."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from feed_pipeline.cli import SAMPLE_FEED_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER_YAML = REPO_ROOT / "docker" / "dagster.yaml"  # the production instance the image installs


def write_small_feed(path: Path, jobs: int, *, skip: int = 0) -> Path:
    """The bundled sample feed cut to `jobs` postings (after skipping `skip`): real markup, fast runs."""
    text = SAMPLE_FEED_PATH.read_text(encoding="utf-8")
    head, *postings = text.split("  <job>")
    postings[-1] = postings[-1].split("</source>")[0]
    chosen = postings[skip:skip + jobs]
    assert len(chosen) == jobs, f"the sample feed has only {len(postings)} postings"
    path.write_text(head + "".join("  <job>" + p for p in chosen) + "</source>\n", encoding="utf-8")
    return path


def dagster_pg_env(database_url: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables dagster.yaml reads, pointing at `database_url`."""
    url = sa.engine.make_url(database_url)
    return {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database or "",
    }


def make_production_home(base: Path, database_url: str) -> tuple[Path, dict[str, str]]:
    """A DAGSTER_HOME holding docker/dagster.yaml (as the image does), and the env pointing it at `database_url`.

    Dagster's storage gets its own database: its tables (`jobs`, `alembic_version`) would collide with ours.
    """
    home = base / "dagster_home"
    home.mkdir()
    shutil.copy(DAGSTER_YAML, home / "dagster.yaml")
    return home, {"DAGSTER_HOME": str(home), **dagster_pg_env(database_url)}


@pytest.fixture
def production_home(tmp_path, pg_database_factory) -> tuple[Path, dict[str, str]]:
    return make_production_home(tmp_path, pg_database_factory())
