"""`raw_jobs` materialized on its own: every posting stored (the CLOSED one with its reason), the metadata an
operator reads, the checks beside it, and an unchanged file skipped on the second materialization."""
from __future__ import annotations

import hashlib

from feed_pipeline.assets.checks import coverage_did_not_drop, feed_did_not_shrink
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline.store import stages as stage_store
from feed_pipeline.store.schema import raw_jobs as raw_table
from feed_pipeline_tests.assets.conftest import POSTINGS, feed_xml

RAW_KEYS = {"dagster/row_count", "skipped_unchanged", "written_this_run", "kept_unread", "accepted", "bytes_read",
            "profile", "complete", "by_rejection_reason", "coverage", "records_per_s", "reader_stats"}
COVERAGE = {"id": 5, "title": 5, "company": 5, "location": 5, "date": 5, "employment_type": 5, "salary": 0}


def test_raw_jobs_stores_every_posting_and_reports_what_it_read(stages):
    result = stages.materialize(raw_jobs, feed_did_not_shrink, coverage_did_not_drop)

    assert stages.rows(raw_table, "source_id", "title", "rejection_reason", order_by="source_id") == sorted(
        (ref, title, "closed" if status == "CLOSED" else None) for ref, title, _, _, status in POSTINGS)
    metadata = stages.metadata(result, "raw_jobs")
    assert set(metadata) == RAW_KEYS
    assert {k: metadata[k] for k in ("dagster/row_count", "skipped_unchanged", "written_this_run", "accepted",
                                     "bytes_read", "profile", "complete")} == {
        "dagster/row_count": 6, "skipped_unchanged": False, "written_this_run": 6, "accepted": 5,
        "bytes_read": len(feed_xml().encode()), "profile": "indeed", "complete": True}
    assert metadata["by_rejection_reason"] == [{"rejection reason": "accepted", "postings": 5},
                                               {"rejection reason": "closed", "postings": 1}]
    assert {row["field"]: (row["postings_with"], row["share"], row["previous_share"])
            for row in metadata["coverage"]} == {f: (n, n / 5, None) for f, n in COVERAGE.items()}
    assert stages.checks(result) == {
        "feed_did_not_shrink": (True, {"note": "no earlier successful run to compare with"}),
        "coverage_did_not_drop": (True, {"note": "no earlier ingest of this feed recorded coverage",
                                         "coverage": metadata["coverage"]}),
    }
    feed = feed_store.get_feed(stages.engine, stages.feed)
    assert feed.content_hash == hashlib.sha256(feed_xml().encode()).hexdigest(), "the version the next run compares"
    assert stage_store.last_ingest_complete(stages.engine, stages.feed) is True
    assert reports.get_report(stages.engine, result.run_id)["counts"] == {"raw": 6, "closed": 1, "expired": 0,
                                                                          "invalid": 0}


def test_an_unchanged_feed_is_skipped_and_keeps_its_figures(stages):
    first = stages.materialize(raw_jobs)
    rows = stages.rows(raw_table, "job_key", "content_hash")

    second = stages.materialize(raw_jobs)

    metadata = stages.metadata(second, "raw_jobs")
    assert set(metadata) == RAW_KEYS - {"records_per_s", "reader_stats"}
    assert (metadata["skipped_unchanged"], metadata["written_this_run"], metadata["dagster/row_count"],
            metadata["accepted"]) == (True, 0, 6, 5)
    assert metadata["bytes_read"] == stages.metadata(first, "raw_jobs")["bytes_read"], "the last read's figure"
    assert stages.rows(raw_table, "job_key", "content_hash") == rows


def test_a_forced_parse_reads_an_unchanged_file_again(stages):
    stages.materialize(raw_jobs)

    forced = stages.materialize(raw_jobs, run_config={"ops": {"raw_jobs": {"config": {"force": True}}}})

    metadata = stages.metadata(forced, "raw_jobs")
    assert (metadata["skipped_unchanged"], metadata["dagster/row_count"], metadata["accepted"]) == (False, 6, 5)
    assert metadata["written_this_run"] == 0, "read again, but no posting changed: none is rewritten"


def test_a_shrunk_feed_fails_the_shrink_check_with_both_counts(stages):
    stages.materialize(raw_jobs)
    stages.feed_path.write_text(feed_xml(POSTINGS[:2]), encoding="utf-8")

    result = stages.materialize(raw_jobs, feed_did_not_shrink)

    assert stages.checks(result)["feed_did_not_shrink"] == (False, {"postings": 2, "previous_postings": 6,
                                                                    "ratio": round(2 / 6, 4)})
    assert stages.rows(raw_table, "source_id", order_by="source_id") == [("A-1",), ("A-2",)]
