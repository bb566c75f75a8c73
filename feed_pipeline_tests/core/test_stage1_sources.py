"""Which stage 1 rows a rerun keeps: those whose jobs and settings are what they were made from."""
from feed_pipeline.core.stage1_sources import EnrichmentSource, job_source, plan_stage1, row_source


def source(salt: str, hashes: dict[str, str]) -> str:
    return row_source(job_source(salt, key, value) for key, value in hashes.items())


def test_a_row_is_kept_only_while_its_jobs_and_settings_are_unchanged():
    current = {"a": "h1", "b": "h2", "c": "h3", "d": "h4"}
    rows = [
        EnrichmentSource("a", ["a", "b"], "blk-ab", "ok", source("s", {"a": "h1", "b": "h2"})),  # kept
        EnrichmentSource("c", ["c"], "blk-c", "ok", source("s", {"c": "old"})),  # c changed
        EnrichmentSource("x", ["x"], "blk-x", "ok", source("s", {"x": "h9"})),  # x left the feed
    ]
    plan = plan_stage1("s", current, rows)
    assert plan.kept_rows == 1
    assert plan.stale_rows == ["c", "x"]
    assert plan.blocks == {"blk-c", "blk-x"}
    assert plan.redo == {"c", "d"}, "the changed job and the new one (d has no row)"


def test_other_settings_failures_and_rows_without_sources_are_redone():
    current = {"a": "h1", "b": "h2", "c": None}
    rows = [EnrichmentSource("a", ["a"], "blk", "ok", source("s", {"a": "h1"})),
            EnrichmentSource("b", ["b"], "", "failed", source("s2", {"b": "h2"})),
            EnrichmentSource("c", ["c"], "blk-c", "ok", None)]
    assert plan_stage1("s2", current, rows).redo == {"a", "b", "c"}, "a: other settings; b: failed; c: no digest"
    assert plan_stage1("s", current, rows).redo == {"b", "c"}


def test_a_merged_rows_source_does_not_depend_on_member_order():
    assert row_source(["x", "y"]) == row_source(["y", "x"]) != row_source(["x"])
    assert row_source(["x"]) == "x"
