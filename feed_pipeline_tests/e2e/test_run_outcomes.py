"""A real feed run's outcome as the operator reads it: when the mirror's safety valve holds back a mass delete, the
run published its adds and updates, so it is `partial` with the reason (not a failure streak); Dagster still
shows the mirror step failed, and the feed's health and the run's report agree with the summary."""
from __future__ import annotations

import dagster as dg

from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline_tests.e2e.test_routing_lifecycle import FEED, _job_elements, pipeline  # noqa: F401


def test_a_mass_delete_held_back_by_the_safety_valve_makes_the_run_partial(pipeline):  # noqa: F811
    first = pipeline.run()
    assert first["status"] == "success" and first["mirror"]["added"] > 10

    def keep_five(root):
        for job in _job_elements(root)[5:]:
            root.remove(job)

    pipeline.rewrite_feed(keep_five)
    second = pipeline.run()

    assert second["status"] == "partial", second
    assert any(r.startswith("Xano deletes held back: ") for r in second["reasons"]), second["reasons"]
    assert second["mirror"]["deleted"] == 0
    assert pipeline.xano_keys() >= set(pipeline.jobs_by_route("approved")), "the held-back records stay in Xano"
    run = pipeline.instance.get_run_by_id(second["run_id"])
    assert run.status == dg.DagsterRunStatus.FAILURE, "in Dagster the mirror step failed loudly"
    report = reports.get_report(pipeline.engine, second["run_id"])
    assert report["status"] == reports.PARTIAL and "Xano deletes held back" in report["error"]
    feed = feed_store.get_feed(pipeline.engine, FEED)
    assert (feed.last_run_status, feed.consecutive_failure_count) == (reports.PARTIAL, 0)
