"""The offline classifier on two cores: helper processes answer exactly what this process would have, batch for
batch; a helper that fails costs time, never an answer; small stage runs never start one; and a whole feed run
with helpers equals one without."""
from __future__ import annotations

import json
import logging
import os
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from feed_pipeline.core.enrichment import Classifier, FunctionInput, IndustryInput
from feed_pipeline.labeled_set import load_board
from feed_pipeline.resources.classifier_pool import PooledClassifier
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource, offline_classifier, usable_cores
from feed_pipeline.store.schema import enrichments
from feed_pipeline_tests.e2e.test_routing_lifecycle import FEED, Pipeline

pytestmark = pytest.mark.xdist_group("classifier_pool")  # spawns processes: keep these tests on one worker


@pytest.fixture(scope="module")
def board():
    return load_board("general_board")


def _inputs(board) -> list[IndustryInput]:
    return [IndustryInput(j.id, j.title, j.company, j.description, (j.location,)) for j in board.jobs]


def _batches(stream) -> list[list]:
    return [list(batch) for batch in stream]


def _until_a_helper_answers(clf: PooledClassifier, ask, timeout: float = 60.0) -> list[list]:
    """Ask again until a helper has answered (it starts in the background and is never waited for until then)."""
    deadline = time.monotonic() + timeout
    while True:
        answers = _batches(ask())
        if clf.usage.helper_batches or time.monotonic() > deadline:
            return answers
        time.sleep(0.2)


@pytest.mark.parametrize("method", ["semantic", "keyword"])
def test_helpers_answer_both_stages_exactly_as_this_process_would_batch_for_batch(board, method):
    jobs = _inputs(board)[:120]
    single = offline_classifier(method, board.taxonomy, 8)
    expected = _batches(single.classify_industries(jobs))
    industry = board.jobs[0].industry
    functions = board.taxonomy.functions_of(industry)
    stage2 = [FunctionInput(j.id, "", "", (), title=j.title, text=j.description) for j in board.jobs[:120]]
    expected2 = _batches(single.classify_functions(industry, functions, stage2))

    with OfflineClassifierResource(method=method, batch_size=8, workers=2,
                                   parallel_min_jobs=0).open_classifier(board.taxonomy) as clf:
        assert isinstance(clf, PooledClassifier) and clf.helpers == 1
        assert _until_a_helper_answers(clf, lambda: clf.classify_industries(jobs)) == expected
        assert clf.usage.helper_batches > 0
        before = clf.usage.helper_batches
        assert _until_a_helper_answers(
            clf, lambda: clf.classify_functions(industry, functions, stage2)) == expected2
        assert clf.usage.helper_batches > before
        assert clf.usage.calls == 0


def _broken_build() -> Classifier:
    raise RuntimeError("helper cannot start")


def test_a_helper_that_cannot_start_costs_time_never_an_answer(board, caplog):
    jobs = _inputs(board)[:64]
    local = offline_classifier("semantic", board.taxonomy, 4)
    expected = _batches(offline_classifier("semantic", board.taxonomy, 4).classify_industries(jobs))
    clf = PooledClassifier(local, _broken_build, helpers=1, batch_size=4, min_jobs=0)
    caplog.set_level(logging.WARNING, logger="feed_pipeline.resources.classifier_pool")
    try:
        deadline = time.monotonic() + 60
        while "classifier helper failed" not in caplog.text and time.monotonic() < deadline:
            assert _batches(clf.classify_industries(jobs)) == expected
            time.sleep(0.2)
        assert "classifier helper failed" in caplog.text
        assert _batches(clf.classify_industries(jobs)) == expected  # and afterwards, without the helper
        assert clf.usage.helper_batches == 0
        assert caplog.text.count("classifier helper failed") == 1
    finally:
        clf.close()


def test_small_stage_runs_and_one_worker_start_no_helper(board):
    jobs = _inputs(board)[:50]
    with OfflineClassifierResource(batch_size=10).open_classifier(board.taxonomy) as clf:  # the defaults
        _batches(clf.classify_industries(jobs))
        assert clf.asked == 50 and not clf.started
    with OfflineClassifierResource(batch_size=10, workers=1, parallel_min_jobs=0).open_classifier(
            board.taxonomy) as clf:
        _batches(clf.classify_industries(jobs))
        assert clf.helpers == 0 and not clf.started


def _enrichment_rows(pipeline: Pipeline) -> list[str]:
    columns = [c for c in enrichments.c if c.name not in ("updated_at", "run_id")]
    with pipeline.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(enrichments.c.feed_id == FEED)
                            .order_by(enrichments.c.job_key)).all()
    return [json.dumps(list(r), default=str) for r in rows]


def test_a_feed_run_with_a_helper_equals_one_without(db_url, request, tmp_path):
    other_url = (f"sqlite:///{tmp_path / 'single.sqlite'}" if db_url.startswith("sqlite")
                 else request.getfixturevalue("pg_database_factory")())
    (tmp_path / "pooled").mkdir()
    (tmp_path / "single").mkdir()
    with dg.instance_for_test() as instance:
        pooled = Pipeline(db_url, tmp_path / "pooled", instance, classifier=OfflineClassifierResource(
            batch_size=5, workers=2, parallel_min_jobs=0))
        single = Pipeline(other_url, tmp_path / "single", instance,
                          classifier=OfflineClassifierResource(batch_size=5, workers=1))
        assert pooled.run()["status"] == single.run()["status"] == "success"
    assert _enrichment_rows(pooled) == _enrichment_rows(single)
    assert pooled.jobs_by_route("approved").keys() == single.jobs_by_route("approved").keys()


@pytest.mark.parametrize(("cpu_max", "cap"), [("150000 100000\n", 1), ("400000 100000\n", 4), ("max 100000\n", None),
                                              ("50000 100000\n", 1), (None, None), ("garbage", None)])
def test_helpers_count_the_containers_cpu_quota_not_the_hosts_cores(tmp_path, cpu_max, cap):
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)
    cores = len(os.sched_getaffinity(0))
    assert usable_cores(path) == (cores if cap is None else min(cores, cap))
