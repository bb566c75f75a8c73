"""core.run_outcome: success, partial (with reasons) or failed (with root causes) from a run's report and steps."""
import pytest

from feed_pipeline.core.run_outcome import FAILED, PARTIAL, SUCCESS, StepFailure, judge_run, partial_reasons

CLEAN = {"stages": {"raw_jobs": {"complete": True}, "xano_mirror": {}}, "counts": {"approved": 3, "failed": 0},
         "mirror": {"errors": 0}}
BLOCKED = {"stages": {"raw_jobs": {"complete": True}, "xano_mirror": {"deletes_blocked": "deleting 40 of 50"}},
           "counts": {}, "mirror": {}}


def test_a_clean_run_is_a_success_with_no_error():
    assert judge_run(CLEAN, []) == (SUCCESS, None)


@pytest.mark.parametrize("report, reason", [
    ({"stages": {"raw_jobs": {"complete": False, "error": "truncated: the document ended in a <job>"}}},
     "ingest incomplete: truncated: the document ended in a <job>; no job was treated as removed"),
    ({"stages": {"raw_jobs": {"complete": False, "error": "jsearch: 403"},
                 "xano_mirror": {}}, "counts": {}},
     "ingest incomplete: jsearch: 403; no job was treated as removed"),
    ({"counts": {"failed": 4}}, "4 job(s) failed in the AI stages and stay `failed` until the next run retries them"),
    (BLOCKED, "Xano deletes held back: deleting 40 of 50"),
    ({"mirror": {"errors": 2}}, "Xano refused 2 record(s); see the xano_mirror step's log"),
])
def test_work_left_undone_makes_the_run_partial_with_the_reason(report, reason):
    assert partial_reasons(report) == [reason]
    assert judge_run(report, []) == (PARTIAL, reason)


def test_failed_sources_the_ingest_error_does_not_name_are_added():
    report = {"stages": {"raw_jobs": {"complete": False, "error": "adzuna timed out",
                                      "source_errors": {"adzuna": "adzuna timed out", "remoteok": "HTTP 500"}}}}
    assert partial_reasons(report) == ["ingest incomplete: adzuna timed out (remoteok: HTTP 500); no job was treated "
                                       "as removed"]


def test_a_step_that_failed_for_good_fails_the_run_with_each_root_cause():
    failures = [StepFailure("raw_jobs", "feed 'acme' answered HTTP 404"), StepFailure("run", "worker died")]
    assert judge_run(CLEAN, failures) == (FAILED, "raw_jobs: feed 'acme' answered HTTP 404; run: worker died")


def test_the_mirror_stopping_after_held_back_deletes_is_partial_but_another_failure_is_not():
    mirror_stopped = [StepFailure("xano_mirror", "Xano mirror of feed 'acme': deleting 40 of 50")]
    assert judge_run(BLOCKED, mirror_stopped)[0] == PARTIAL
    assert judge_run(CLEAN, mirror_stopped)[0] == FAILED, "without held-back deletes the mirror really failed"
    assert judge_run(BLOCKED, [*mirror_stopped, StepFailure("routed_jobs", "boom")]) == (FAILED, "routed_jobs: boom")
