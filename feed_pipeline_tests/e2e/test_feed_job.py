"""feed_job end to end on the bundled sample feed: SQLite and PostgreSQL, offline classifier, sandboxed Xano."""
from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.definitions import build_definitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource, XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import schema

TABLES = ("raw_jobs", "deduped_jobs", "enrichments", "jobs", "enrichment_cache", "feeds")


def _defs(db_url: str, xano_db: str) -> dg.Definitions:
    return build_definitions({
        "database": DatabaseResource(url=db_url),
        "classifier": OfflineClassifierResource(),
        "routing": RoutingResource(),
        "xano": XanoSandboxResource(db_path=xano_db),
    })


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(schema.metadata.tables[t])).scalar_one()
                for t in TABLES}


def _xano_records(xano: XanoResource, feed_id: str) -> list[dict]:
    with xano.open_client() as client:
        return [r for r in client.list_records() if r.get("feed_id") == feed_id]


@pytest.fixture
def sample_setup(db_url, tmp_path):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "sample", url=str(SAMPLE_FEED_PATH), kind="xml")
    xano_db = str(tmp_path / "xano.sqlite")
    with dg.instance_for_test() as instance:
        yield engine, _defs(db_url, xano_db), instance, XanoSandboxResource(db_path=xano_db), db_url


def test_sample_feed_runs_end_to_end_and_mirrors_exactly_the_approved_jobs(sample_setup):
    engine, defs, instance, xano, db_url = sample_setup

    summary = run_feed(defs, instance, "sample", database_url=db_url)

    assert summary["status"] == "success", summary
    counts = summary["counts"]
    for route in ("approved", "manual_review", "archived", "closed", "raw", "deduped"):
        assert counts[route] > 0, (route, counts)
    assert counts["deduped"] < counts["raw"] - counts["closed"], "multi-location postings were merged"
    records = _xano_records(xano, "sample")
    with engine.connect() as conn:
        approved = dict(conn.execute(sa.select(schema.jobs.c.job_key, schema.jobs.c.content_hash).where(
            schema.jobs.c.feed_id == "sample", schema.jobs.c.route == "approved")).all())
    assert {r["job_key"]: r["content_hash"] for r in records} == approved
    assert len(records) == len(approved) == counts["approved"]
    assert summary["mirror"]["added"] == counts["approved"]


def test_rerunning_the_same_feed_changes_nothing(sample_setup):
    engine, defs, instance, xano, db_url = sample_setup
    first = run_feed(defs, instance, "sample", database_url=db_url)
    rows_after_first = _row_counts(engine)
    xano_after_first = len(_xano_records(xano, "sample"))

    second = run_feed(defs, instance, "sample", database_url=db_url)

    assert second["status"] == "success", second
    assert second["counts"] == first["counts"]
    assert _row_counts(engine) == rows_after_first
    assert len(_xano_records(xano, "sample")) == xano_after_first
    assert second["mirror"] == {"added": 0, "updated": 0, "deleted": 0, "unchanged": first["counts"]["approved"]}
    assert second["ai"]["calls"] == 0
