"""`deduped_jobs` materialized after the real `raw_jobs`: one job per role (the Backend Engineer posted in two
cities becomes one multi-location job), its figures, the duplicate-rate check, and a skip on unchanged input."""
from __future__ import annotations

from feed_pipeline.assets.checks import duplicate_rate_stable
from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.store import reports
from feed_pipeline.store.schema import deduped_jobs as deduped_table

DEDUPED_KEYS = {"dagster/row_count", "input_jobs", "output_jobs", "duplicate_rate", "merged_groups", "largest_group",
                "blocks", "largest_block", "largest_block_key", "windowed_blocks", "comparisons",
                "multi_location_jobs", "total_locations", "locations_per_job", "split_groups", "split_jobs",
                "reused_blocks"}
LOCATIONS_PER_JOB = [("0", 0), ("1", 3), ("2-5", 1), ("6-20", 0), ("21-100", 0), ("101+", 0)]


def test_deduped_jobs_merges_one_role_posted_twice_and_reports_it(stages):
    stages.upstream_of("deduped_jobs")

    result = stages.materialize(deduped_jobs, duplicate_rate_stable)

    backend, nurse, sales, mystery = (stages.job_of(ref) for ref in ("A-1", "M-1", "A-3", "X-1"))
    assert sorted(stages.rows(deduped_table, "job_key", "source_ids", "locations", "is_multi_location")) == sorted([
        (backend, ["A-1", "A-2"], ["Denver, AZ, US", "Phoenix, AZ, US"], True),
        (sales, ["A-3"], ["Phoenix, AZ, US"], False),
        (nurse, ["M-1"], ["Austin, AZ, US"], False),
        (mystery, ["X-1"], ["Boston, AZ, US"], False),
    ])
    metadata = stages.metadata(result, "deduped_jobs")
    assert set(metadata) == DEDUPED_KEYS
    assert {k: v for k, v in metadata.items() if k not in ("largest_block_key", "locations_per_job")} == {
        "dagster/row_count": 4, "input_jobs": 5, "output_jobs": 4, "duplicate_rate": 0.2, "merged_groups": 1,
        "largest_group": 2, "blocks": 4, "largest_block": 2, "windowed_blocks": 0, "comparisons": 0,
        "multi_location_jobs": 1, "total_locations": 5, "split_groups": 0, "split_jobs": 0, "reused_blocks": 0}
    assert [(row["locations"], row["jobs"]) for row in metadata["locations_per_job"]] == LOCATIONS_PER_JOB
    with stages.engine.connect() as conn:
        block_keys = conn.execute(deduped_table.select().with_only_columns(deduped_table.c.block_key).where(
            deduped_table.c.job_key == backend)).scalars().all()
    assert block_keys == [metadata["largest_block_key"]], "the largest block is the Backend Engineer's"
    assert stages.checks(result) == {  # the raw_jobs run before this one succeeded without a dedupe
        "duplicate_rate_stable": (True, {"note": "no earlier successful run with a duplicate rate to compare with"})}
    assert reports.get_report(stages.engine, result.run_id)["stages"]["deduped_jobs"]["duplicate_rate"] == 0.2


def test_unchanged_input_is_skipped_with_the_last_figures(stages):
    stages.upstream_of("deduped_jobs")
    first = stages.materialize(deduped_jobs)
    rows = stages.rows(deduped_table, "job_key", "content_hash", "member_keys")

    second = stages.materialize(raw_jobs, deduped_jobs)

    metadata = stages.metadata(second, "deduped_jobs")
    assert set(metadata) == DEDUPED_KEYS | {"skipped_unchanged", "figures_from_run"}
    assert (metadata["skipped_unchanged"], metadata["figures_from_run"]) == (True, first.run_id)
    assert {k: v for k, v in metadata.items() if k not in ("skipped_unchanged", "figures_from_run")} == \
        stages.metadata(first, "deduped_jobs")
    assert stages.rows(deduped_table, "job_key", "content_hash", "member_keys") == rows


def test_a_new_similarity_threshold_runs_the_stage_again(stages):
    stages.upstream_of("deduped_jobs")
    stages.materialize(deduped_jobs)

    again = stages.materialize(deduped_jobs, run_config={
        "ops": {"deduped_jobs": {"config": {"similarity_threshold": 0.95}}}})

    metadata = stages.metadata(again, "deduped_jobs")
    assert "skipped_unchanged" not in metadata
    assert (metadata["output_jobs"], metadata["merged_groups"]) == (4, 1), "identical texts merge at 0.95 too"
