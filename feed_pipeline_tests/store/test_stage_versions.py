"""stage_versions: one record per feed and stage, replaced on each run, forgotten on demand."""
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.stage_versions import (
    StageVersion,
    forget_stage_versions,
    get_stage_version,
    save_stage_version,
)


def test_a_stage_version_is_replaced_not_duplicated_and_keeps_its_figures(db_url):
    engine = engine_for(db_url)
    assert get_stage_version(engine, "f", "deduped_jobs") is None
    save_stage_version(engine, "f", "deduped_jobs", StageVersion("in-1", "in-1", "run-1", {"counts": {"deduped": 3}}))
    save_stage_version(engine, "f", "deduped_jobs", StageVersion("in-2", "in-2:incomplete:run-2", "run-2", {}))
    assert get_stage_version(engine, "f", "deduped_jobs") == StageVersion("in-2", "in-2:incomplete:run-2", "run-2", {})
    save_stage_version(engine, "g", "deduped_jobs", StageVersion("in-9", "in-9", "run-9", {"counts": {"deduped": 1}}))
    assert get_stage_version(engine, "g", "deduped_jobs").figures == {"counts": {"deduped": 1}}


def test_forgetting_a_feeds_versions_leaves_other_feeds_alone(db_url):
    engine = engine_for(db_url)
    for feed in ("f", "g"):
        for stage in ("raw_jobs", "routed_jobs"):
            save_stage_version(engine, feed, stage, StageVersion("v", "v", "r", {}))
    forget_stage_versions(engine, "f", ("routed_jobs",))
    assert get_stage_version(engine, "f", "routed_jobs") is None
    assert get_stage_version(engine, "f", "raw_jobs") is not None
    forget_stage_versions(engine, "f")
    assert get_stage_version(engine, "f", "raw_jobs") is None
    assert get_stage_version(engine, "g", "routed_jobs") is not None
