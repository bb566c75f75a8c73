"""`POST /api/feeds/{id}/runs` answers 409 while any run of the feed holds its lease (the CLI's, the UI's, another
API process's), naming that run; once the lease is free the run starts and its status is the report's."""
from __future__ import annotations

from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import leases
from feed_pipeline_tests.api.conftest import TOKEN, make_client
from feed_pipeline_tests.api.test_runs import AUTH, isolated_dagster, small_feed, wait_for_finish  # noqa: F401


def test_a_run_requested_while_another_holds_the_feeds_lease_is_refused_with_its_id(db_url, isolated_dagster):  # noqa: F811
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "small", url=small_feed(isolated_dagster / "small.xml"))
    leases.acquire(engine, "small", "run-from-the-cli")
    client = make_client(db_url, token=TOKEN)

    refused = client.post("/api/feeds/small/runs", headers=AUTH)

    assert refused.status_code == 409, refused.text
    assert refused.json()["details"] == {"run_id": "run-from-the-cli"}
    assert "run-from-the-cli" in refused.json()["message"]

    leases.release(engine, "small", "run-from-the-cli")
    launched = client.post("/api/feeds/small/runs", headers=AUTH)
    assert launched.status_code == 202, launched.text
    state = wait_for_finish(client, launched.json()["run_id"])
    assert state["status"] == "success" and state["summary"]["status"] == "success"
