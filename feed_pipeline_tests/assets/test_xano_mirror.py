"""`xano_mirror` materialized after the real routing, against the loopback Xano sandbox (the real client and wire
format): the approved job is created, the requests it took, the metadata, the blocking check, a second
materialization that changes nothing, and a job that left the approved set deleted."""
from __future__ import annotations

from feed_pipeline.assets.checks import xano_matches_approved
from feed_pipeline.assets.mirror import xano_mirror
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.store import jobs as job_store

MIRROR_KEYS = {"approved_jobs", "added", "updated", "deleted", "unchanged", "deletes_blocked", "deletes_skipped",
               "duplicates_removed", "already_gone", "already_present", "existing_records", "desired_records",
               "foreign_records", "calls", "list_calls", "write_calls", "retries", "rate_limited",
               "rate_limit_wait_s", "backoff_wait_s", "elapsed_s", "record_error_count", "record_errors"}
QUIET = {"deletes_blocked": "", "deletes_skipped": 0, "duplicates_removed": 0, "already_gone": 0,
         "already_present": 0, "foreign_records": 0, "retries": 0, "rate_limited": 0, "rate_limit_wait_s": 0.0,
         "backoff_wait_s": 0.0, "record_error_count": 0, "record_errors": []}


def _figures(metadata: dict) -> dict:
    assert set(metadata) == MIRROR_KEYS
    return {k: v for k, v in metadata.items() if k != "elapsed_s"}


def _requests(xano) -> list[tuple[str, int | None]]:
    assert {r.path for r in xano.requests} == {"/api:sandbox/job"}
    return [(r.method, r.status) for r in xano.requests]


def test_the_approved_job_is_created_in_xano_and_only_it(stages):
    stages.upstream_of("xano_mirror")
    backend = stages.job_of("A-1")

    result = stages.materialize(xano_mirror, xano_matches_approved)

    records = stages.xano.records()
    assert [(r["job_key"], r["feed_id"], r["title"], r["industry"], r["job_function"], r["locations"])
            for r in records] == [(backend, stages.feed, "Backend Engineer", "Software", "Engineering",
                                   ["Denver, AZ, US", "Phoenix, AZ, US"])]
    assert _requests(stages.xano) == [("GET", 200), ("GET", 200), ("POST", 200), ("GET", 200)], \
        "list, list again just before adding (another writer may have added it), add, then the check's list"
    assert _figures(stages.metadata(result, "xano_mirror")) == {
        "approved_jobs": 1, "added": 1, "updated": 0, "deleted": 0, "unchanged": 0, "existing_records": 0,
        "desired_records": 1, "calls": 3, "list_calls": 2, "write_calls": 1, **QUIET}
    assert stages.checks(result) == {
        "xano_matches_approved": (True, {"approved_jobs": 1, "mismatches": 0, "sample": []})}


def test_a_second_materialization_changes_nothing(stages):
    stages.upstream_of("xano_mirror")
    stages.materialize(xano_mirror)
    records = stages.xano.records()
    before = len(stages.xano.requests)

    again = stages.materialize(xano_mirror)

    assert stages.xano.records() == records
    assert _requests(stages.xano)[before:] == [("GET", 200)], "one listing, no write"
    assert _figures(stages.metadata(again, "xano_mirror")) == {
        "approved_jobs": 1, "added": 0, "updated": 0, "deleted": 0, "unchanged": 1, "existing_records": 1,
        "desired_records": 1, "calls": 1, "list_calls": 1, "write_calls": 0, **QUIET}


def test_a_delete_that_empties_the_feeds_copy_is_held_back_until_allowed(stages):
    stages.upstream_of("xano_mirror")
    stages.materialize(xano_mirror)
    backend = stages.job_of("A-1")
    job_store.record_review(stages.engine, backend, "reject", note="not a real opening")
    stages.materialize(routed_jobs)

    blocked = stages.materialize(xano_mirror, raise_on_error=False)

    assert not blocked.success
    (failure,) = [e for e in blocked.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.cause.message.startswith(
        f"feed_pipeline.resources.xano.MirrorBlockedError: Xano mirror of feed '{stages.feed}': deleting 1 of 1 "
        "record(s)")
    assert [r["job_key"] for r in stages.xano.records()] == [backend], "the valve kept the record"

    allowed = stages.materialize(xano_mirror, xano_matches_approved,
                                 run_config={"ops": {"xano_mirror": {"config": {"allow_mass_delete": True}}}})

    assert stages.xano.records() == []
    assert _figures(stages.metadata(allowed, "xano_mirror")) == {
        "approved_jobs": 0, "added": 0, "updated": 0, "deleted": 1, "unchanged": 0, "existing_records": 1,
        "desired_records": 0, "calls": 2, "list_calls": 1, "write_calls": 1, **QUIET}
    assert stages.checks(allowed) == {
        "xano_matches_approved": (True, {"approved_jobs": 0, "mismatches": 0, "sample": []})}
