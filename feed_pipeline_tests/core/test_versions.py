"""Stage versions: equal input gives an equal, skippable version; unfinished work never matches again."""
from feed_pipeline.core.versions import is_unchanged, stage_input_version, stage_output_version


def test_the_same_upstream_and_settings_give_the_same_input_version_whatever_the_key_order():
    assert stage_input_version("up-1", {"a": 1, "b": [2, 3]}) == stage_input_version("up-1", {"b": [2, 3], "a": 1})


def test_a_changed_upstream_or_setting_changes_the_input_version():
    base = stage_input_version("up-1", {"threshold": 0.86})
    assert stage_input_version("up-2", {"threshold": 0.86}) != base
    assert stage_input_version("up-1", {"threshold": 0.9}) != base
    assert stage_input_version(None, {"threshold": 0.86}) != base


def test_a_stage_that_did_work_hands_on_a_new_version_marked_done_or_incomplete():
    assert stage_output_version("v1", complete=True, run_id="r1") == "v1:done:r1"
    assert stage_output_version("v1", complete=False, run_id="r1") == "v1:incomplete:r1"
    assert stage_output_version("v1", complete=True, run_id="r1") != stage_output_version(
        "v1", complete=True, run_id="r2")


def test_unchanged_only_when_the_last_run_finished_on_this_very_input():
    assert is_unchanged("v1", "v1", "v1:done:r1")
    assert not is_unchanged("v1", "v1", "v1:incomplete:r1")
    assert not is_unchanged("v2", "v1", "v1:done:r1")
    assert not is_unchanged("v1", None, None)
