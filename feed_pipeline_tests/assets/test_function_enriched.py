"""`function_enriched` materialized after the real stage 1, with the recording classifier: one question per
industry with that industry's functions only, archived and failed jobs never asked, each answer stored, the
metadata, and an unchanged stage 1 skipped on the second materialization."""
from __future__ import annotations

from feed_pipeline.assets.enrich import function_enriched
from feed_pipeline.store.schema import enrichments
from feed_pipeline_tests.assets.conftest import ANSWERS
from feed_pipeline_tests.fakes.classifier import FAKE_MODEL

FUNCTION_KEYS = {"jobs_classified", "answered_jobs", "industries", "jobs_per_industry", "by_function_status", "model",
                 "prompt_version", "ai_calls", "ai_input_tokens", "ai_output_tokens", "ai_cache_hits", "ai_retries",
                 "ai_estimated_cost_usd", "ai_quota_exhausted", "ai_helper_batches"}


def test_stage2_asks_per_industry_with_its_functions_and_stores_each_function(stages):
    stages.upstream_of("function_enriched")
    asked_before = len(stages.classifier.asked)

    result = stages.materialize(function_enriched)

    backend, sales, nurse, mystery = (stages.job_of(ref) for ref in ("A-1", "A-3", "M-1", "X-1"))
    (asked,) = stages.classifier.asked[asked_before:]
    assert (asked.stage, asked.industry, asked.functions) == ("function", "Software", ("Engineering", "Sales"))
    assert sorted(zip(asked.job_keys, asked.titles, strict=True)) == sorted(
        [(backend, "Backend Engineer"), (sales, "Account Executive")]), \
        "stage 2 reads the posting's own title; archived and failed jobs are not asked"
    assert sorted(stages.rows(enrichments, "job_key", "function_status", "job_function", "function_confidence")) == \
        sorted([(backend, "ok", "Engineering", 0.9), (sales, "ok", "Sales", 0.7),
                (nurse, "skipped", None, None), (mystery, None, None, None)])
    assert stages.metadata(result, "function_enriched") == {
        "jobs_classified": 2, "answered_jobs": 2, "industries": 1,
        "jobs_per_industry": [{"industry": "Software", "jobs": 2}],
        "by_function_status": [{"function status": "-", "jobs": 1}, {"function status": "ok", "jobs": 2},
                               {"function status": "skipped", "jobs": 1}],
        "model": FAKE_MODEL, "prompt_version": "fake-ind-1+fake-fn-1",
        "ai_calls": 1, "ai_input_tokens": 0, "ai_output_tokens": 0, "ai_cache_hits": 0, "ai_retries": 0,
        "ai_estimated_cost_usd": 0.0, "ai_quota_exhausted": False, "ai_helper_batches": 0,
    }


def test_unchanged_stage1_output_is_skipped_and_asks_nothing(stages):
    stages.use_classifier({**ANSWERS, "Mystery Role": ["Healthcare", 0.7, "Nursing", 0.55]})
    stages.upstream_of("function_enriched")
    first = stages.materialize(function_enriched)
    asked = list(stages.classifier.asked)
    assert [(a.stage, a.industry) for a in asked] == [("industry", None), ("function", "Healthcare"),
                                                      ("function", "Software")]

    second = stages.materialize(function_enriched)

    metadata = stages.metadata(second, "function_enriched")
    assert set(metadata) == FUNCTION_KEYS | {"skipped_unchanged", "figures_from_run"}
    assert (metadata["skipped_unchanged"], metadata["figures_from_run"]) == (True, first.run_id)
    assert {k: v for k, v in metadata.items() if k not in ("skipped_unchanged", "figures_from_run")} == \
        stages.metadata(first, "function_enriched")
    assert stages.classifier.asked == asked


def test_a_rerun_answers_only_rows_without_a_current_answer(stages):
    from feed_pipeline.store.stage_versions import forget_stage_versions

    stages.upstream_of("function_enriched")
    stages.materialize(function_enriched)
    asked = list(stages.classifier.asked)
    forget_stage_versions(stages.engine, stages.feed, ("function_enriched",))  # the stage cannot skip

    again = stages.materialize(function_enriched)

    metadata = stages.metadata(again, "function_enriched")
    assert (metadata["jobs_classified"], metadata["answered_jobs"], metadata["ai_cache_hits"]) == (2, 0, 0), \
        "every row already holds its answer under the same settings: nothing is read again, not even the cache"
    assert stages.classifier.asked == asked


def test_a_no_fit_answer_is_stored_as_no_fit_without_a_function(stages):
    from feed_pipeline.core.enrichment import NO_FIT_FUNCTION

    stages.use_classifier({**ANSWERS, "Account Executive": ["Software", 0.9, NO_FIT_FUNCTION, 0.8]})
    stages.upstream_of("function_enriched")

    result = stages.materialize(function_enriched)

    sales = stages.job_of("A-3")
    assert [row for row in stages.rows(enrichments, "job_key", "function_status", "job_function",
                                       "function_confidence") if row[0] == sales] == [(sales, "no_fit", None, 0.8)]
    assert stages.metadata(result, "function_enriched")["by_function_status"] == [
        {"function status": "-", "jobs": 1}, {"function status": "no_fit", "jobs": 1},
        {"function status": "ok", "jobs": 1}, {"function status": "skipped", "jobs": 1}]
