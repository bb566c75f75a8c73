"""GeminiResource through the real google-genai SDK against the loopback Gemini server (real wire format).

Every test states one behaviour: batching and id-tying, per-item validation and retries, transport retries,
the daily quota stop, client-side pacing, usage accounting, and results streamed batch by batch.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import dagster as dg
import pytest

from feed_pipeline.core.enrichment import (
    NO_FIT_FUNCTION,
    EnrichmentFailure,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
)
from feed_pipeline.core.prompts import FUNCTION_PROMPT_VERSION, INDUSTRY_PROMPT_VERSION
from feed_pipeline.core.taxonomy import load_taxonomy, taxonomy_from_dict
from feed_pipeline.definitions import classifier_resource
from feed_pipeline.resources.gemini import GeminiClassifier, GeminiResource, price_per_million
from feed_pipeline.resources.gemini_errors import quota_ids, retry_delay_seconds
from feed_pipeline.settings import Settings
from feed_pipeline_tests.fakes.gemini_server import FakeGeminiServer, Fault, default_function_item, pick

TAXONOMY = load_taxonomy()
INDUSTRIES = list(TAXONOMY.industry_names)


@pytest.fixture(scope="module")
def server():
    with FakeGeminiServer() as fake:
        yield fake


@pytest.fixture
def gemini(server):
    server.reset()
    server.latency_s = 0.0
    return server


def resource(server: FakeGeminiServer, **overrides) -> GeminiResource:
    settings = dict(api_key=server.api_key, base_url=server.base_url, requests_per_minute=None,
                    backoff_initial_s=0.01, backoff_max_s=0.05, timeout_s=2.0)
    return GeminiResource(**{**settings, **overrides})


def jobs(count: int, prefix: str = "k") -> list[IndustryInput]:
    return [IndustryInput(f"{prefix}{i}", f"Job title {prefix}{i}", "Acme", f"Description of job {i}.")
            for i in range(count)]


def run_industries(classifier, inputs: Sequence[IndustryInput]) -> list:
    return [r for batch in classifier.classify_industries(inputs) for r in batch]


def assert_complete_and_valid(results: list, inputs: Sequence) -> None:
    """Every input appears exactly once, and nothing outside the rules is returned as a result."""
    assert sorted(r.job_key for r in results) == sorted(j.job_key for j in inputs)
    for r in results:
        if isinstance(r, IndustryResult):
            assert TAXONOMY.has_industry(r.industry) and 0.0 <= r.confidence <= 1.0, r
        elif isinstance(r, FunctionResult):
            assert 0.0 <= r.confidence <= 1.0, r
        else:
            assert isinstance(r, EnrichmentFailure) and r.error


# ------------------------------------------------------------------------------------------------ requests
def test_jobs_are_batched_and_each_item_is_tied_to_its_job(gemini):
    inputs = jobs(45)
    classifier = resource(gemini, batch_size=20).classifier(TAXONOMY)
    results = run_industries(classifier, inputs)
    assert gemini.generate_calls == 3
    assert sorted(len(r.job_ids) for r in gemini.generate_requests) == [5, 20, 20]
    assert_complete_and_valid(results, inputs)
    for job, result in zip(inputs, sorted(results, key=lambda r: int(r.job_key[1:])), strict=True):
        assert result.industry == pick(job.title, INDUSTRIES) and result.ai_title == job.title


def test_requests_use_the_pinned_version_schema_enum_and_deterministic_config(gemini):
    run_industries(resource(gemini, model="gemini-2.5-flash-lite").classifier(TAXONOMY), jobs(2))
    (request,) = gemini.generate_requests
    assert (request.version, request.model, request.api_key) == ("v1beta", "gemini-2.5-flash-lite", gemini.api_key)
    config = request.body["generationConfig"]
    assert config["temperature"] == 0 and config["responseMimeType"] == "application/json"
    assert config["thinkingConfig"] == {"thinking_budget": 0}, "as the installed SDK sends it (the API reads both)"
    item = config["responseSchema"]["properties"]["items"]["items"]["properties"]
    assert item["industry"]["enum"] == INDUSTRIES
    assert "Allowed industries" in request.body["systemInstruction"]["parts"][0]["text"]


def test_stage_two_request_carries_only_that_industrys_functions(gemini):
    functions = TAXONOMY.functions_of("Healthcare")
    inputs = [FunctionInput(f"f{i}", f"Nurse {i}", "ICU nurse.", ("patient care",)) for i in range(3)]
    classifier = resource(gemini).classifier(TAXONOMY)
    results = [r for b in classifier.classify_functions("Healthcare", functions, inputs) for r in b]
    (request,) = gemini.generate_requests
    item = request.body["generationConfig"]["responseSchema"]["properties"]["items"]["items"]["properties"]
    assert item["job_function"]["enum"] == [*functions, NO_FIT_FUNCTION]
    assert request.stage == "function" and '"Healthcare"' in request.body["systemInstruction"]["parts"][0]["text"]
    assert [r.job_function for r in results] == [pick(j.ai_title, list(functions)) for j in inputs]
    assert all(r.confidence == 0.88 for r in results)


BOARD = taxonomy_from_dict({"industries": [
    {"name": "Property Management", "description": "Apartment communities and their operations.",
     "functions": [{"name": "Leasing", "description": "Shows units and signs leases."},
                   {"name": "Maintenance", "description": "Repairs units, HVAC and plumbing."}]},
    {"name": "Hospitality", "description": "Hotels and resorts.", "functions": [{"name": "Front Desk"}]},
]})


def test_stage_one_request_carries_descriptions_the_hint_and_the_summary_before_the_decision(gemini):
    inputs = [IndustryInput("k1", "Leasing Consultant", "Acme Living", "Show apartments.", category_hint="Leasing")]
    run_industries(resource(gemini).classifier(BOARD), inputs)
    (request,) = gemini.generate_requests
    system = request.body["systemInstruction"]["parts"][0]["text"]
    assert '- "Property Management": Apartment communities and their operations.' in system
    assert "Publisher's category: Leasing" in request.prompt_text
    item = request.body["generationConfig"]["responseSchema"]["properties"]["items"]["items"]
    order = item.get("property_ordering") or item.get("propertyOrdering")
    assert order.index("ai_title") < order.index("ai_description") < order.index("skills") < order.index(
        "industry") < order.index("confidence")


def test_stage_two_request_carries_descriptions_the_original_title_an_excerpt_and_the_none_option(gemini):
    text = "Respond to work orders in occupied units. " + "Filler sentence here. " * 200 + "TAIL-MARKER"
    inputs = [FunctionInput("m1", "Maintenance Technician", "Repairs units.", ("hvac",),
                            title="Maintenance Tech II - $24/hr - Sparks, NV", text=text)]
    list(resource(gemini).classifier(BOARD).classify_functions(
        "Property Management", BOARD.functions_of("Property Management"), inputs))
    (request,) = gemini.generate_requests
    system = request.body["systemInstruction"]["parts"][0]["text"]
    assert '- "Leasing": Shows units and signs leases.\n- "Maintenance": Repairs units, HVAC and plumbing.' in system
    assert NO_FIT_FUNCTION in system
    assert "Original title: Maintenance Tech II - $24/hr - Sparks, NV" in request.prompt_text
    assert "Respond to work orders in occupied units." in request.prompt_text
    assert "TAIL-MARKER" not in request.prompt_text, "only an excerpt of the text is sent"


def test_a_none_of_these_answer_comes_back_as_the_no_fit_result(gemini):
    gemini.function_item = lambda job_id, fields, allowed: {"id": job_id, "job_function": NO_FIT_FUNCTION,
                                                            "confidence": 0.7}
    try:
        inputs = [FunctionInput("c1", "Line Cook", "Cooks meals.")]
        results = [r for b in resource(gemini).classifier(BOARD).classify_functions(
            "Property Management", BOARD.functions_of("Property Management"), inputs) for r in b]
    finally:
        gemini.function_item = default_function_item
    assert results == [FunctionResult("c1", NO_FIT_FUNCTION, 0.7)]


def test_function_outside_the_industry_list_is_asked_again_alone(gemini):
    gemini.add_faults(Fault("bad_industry", item=1))
    functions = TAXONOMY.functions_of("Technology")
    inputs = [FunctionInput(f"f{i}", f"Engineer {i}", "Builds services.") for i in range(3)]
    classifier = resource(gemini).classifier(TAXONOMY)
    results = [r for b in classifier.classify_functions("Technology", functions, inputs) for r in b]
    assert_complete_and_valid(results, inputs)
    assert all(r.job_function in functions for r in results)
    assert [r.job_ids for r in gemini.generate_requests] == [["J1", "J2", "J3"], ["J1"]]
    assert gemini.generate_requests[1].titles == ["Engineer 1"]


# ------------------------------------------------------------------------------------------------ invalid answers
@pytest.mark.parametrize("fault", ["bad_confidence", "bad_industry", "drop_item"])
def test_an_invalid_or_missing_item_is_asked_again_alone(gemini, fault):
    gemini.add_faults(Fault(fault, item=0))
    inputs = jobs(4)
    classifier = resource(gemini).classifier(TAXONOMY)
    results = run_industries(classifier, inputs)
    assert_complete_and_valid(results, inputs)
    assert not any(isinstance(r, EnrichmentFailure) for r in results)
    assert gemini.generate_calls == 2
    retry = gemini.generate_requests[1]
    assert retry.job_ids == ["J1"] and retry.titles == [inputs[0].title]
    assert classifier.usage.retries == 1


@pytest.mark.parametrize("fault", ["not_json", "truncated"])
def test_an_unusable_answer_gets_every_job_asked_again_alone(gemini, fault):
    gemini.add_faults(Fault(fault))
    inputs = jobs(3)
    results = run_industries(resource(gemini, max_concurrency=1).classifier(TAXONOMY), inputs)
    assert not any(isinstance(r, EnrichmentFailure) for r in results)
    assert [len(r.job_ids) for r in gemini.generate_requests] == [3, 1, 1, 1]


def test_json_inside_a_code_fence_is_accepted_without_asking_again(gemini):
    gemini.add_faults(Fault("fenced"))
    results = run_industries(resource(gemini).classifier(TAXONOMY), jobs(3))
    assert gemini.generate_calls == 1 and not any(isinstance(r, EnrichmentFailure) for r in results)


def test_a_job_that_never_gets_a_valid_answer_fails_with_the_error_kept(gemini):
    doomed = IndustryInput("doomed", "Doomed job", "Acme", "x")
    gemini.add_faults(Fault("bad_confidence", times=10, when=lambda r: "Doomed job" in r.titles, item=-1))
    inputs = [*jobs(2), doomed]
    classifier = resource(gemini, item_retries=2).classifier(TAXONOMY)
    results = {r.job_key: r for r in run_industries(classifier, inputs)}
    assert isinstance(results["doomed"], EnrichmentFailure)
    assert "confidence" in results["doomed"].error and "1.7" in results["doomed"].error
    assert isinstance(results["k0"], IndustryResult) and isinstance(results["k1"], IndustryResult)
    assert gemini.generate_calls == 3  # the batch, then the doomed job alone twice


# ------------------------------------------------------------------------------------------------ transport
def test_429_waits_for_the_servers_retry_delay(gemini):
    gemini.add_faults(Fault("rate_limit", retry_delay="0.4s"))
    started = time.monotonic()
    classifier = resource(gemini).classifier(TAXONOMY)
    results = run_industries(classifier, jobs(2))
    assert time.monotonic() - started >= 0.4
    assert gemini.generate_calls == 2 and classifier.usage.retries == 1 and classifier.usage.calls == 2
    assert not any(isinstance(r, EnrichmentFailure) for r in results)


def test_429_without_retry_info_backs_off_and_succeeds(gemini):
    gemini.add_faults(Fault("rate_limit", retry_delay=None, times=2))
    results = run_industries(resource(gemini).classifier(TAXONOMY), jobs(2))
    assert gemini.generate_calls == 3 and not any(isinstance(r, EnrichmentFailure) for r in results)


@pytest.mark.parametrize("fault", ["unavailable", "internal"])
def test_server_errors_are_retried(gemini, fault):
    gemini.add_faults(Fault(fault, times=2))
    results = run_industries(resource(gemini).classifier(TAXONOMY), jobs(2))
    assert gemini.generate_calls == 3 and not any(isinstance(r, EnrichmentFailure) for r in results)


def test_a_request_past_the_timeout_is_retried(gemini):
    gemini.add_faults(Fault("slow", delay_s=1.0))
    classifier = resource(gemini, timeout_s=0.25).classifier(TAXONOMY)
    results = run_industries(classifier, jobs(2))
    assert gemini.generate_calls == 2 and classifier.usage.retries == 1
    assert not any(isinstance(r, EnrichmentFailure) for r in results)


def test_exhausted_retries_fail_the_batch_with_the_last_error(gemini):
    gemini.add_faults(Fault("unavailable", times=100))
    inputs = jobs(3)
    results = run_industries(resource(gemini, max_attempts=3).classifier(TAXONOMY), inputs)
    assert gemini.generate_calls == 3
    assert_complete_and_valid(results, inputs)
    assert all(isinstance(r, EnrichmentFailure) and "503" in r.error for r in results)


def test_daily_quota_stops_all_calls_and_leaves_the_rest_failed(gemini):
    gemini.add_faults(Fault("daily_quota", when=lambda r: r.index == 1))
    inputs = jobs(60)
    classifier = resource(gemini, batch_size=20, max_concurrency=1).classifier(TAXONOMY)
    started = time.monotonic()
    results = run_industries(classifier, inputs)
    assert time.monotonic() - started < 5  # the quota's retryDelay ("33s") is not waited for
    assert gemini.generate_calls == 2
    assert_complete_and_valid(results, inputs)
    failures = [r for r in results if isinstance(r, EnrichmentFailure)]
    assert len(failures) == 40 and all("quota" in f.error for f in failures)
    assert classifier.usage.quota_exhausted and classifier.usage.as_dict()["quota_exhausted"] is True


def test_a_rejected_key_stops_the_run_after_one_call(gemini):
    classifier = resource(gemini, api_key="wrong-key", batch_size=2, max_concurrency=1).classifier(TAXONOMY)
    results = run_industries(classifier, jobs(6))
    assert gemini.generate_calls == 1
    assert all(isinstance(r, EnrichmentFailure) and "GEMINI_API_KEY" in r.error for r in results)
    assert not classifier.usage.quota_exhausted


# ------------------------------------------------------------------------------------------------ pacing
def test_client_paces_itself_under_the_servers_request_cap(gemini):
    gemini.rpm_limit, gemini.window_s = 4, 1.0
    try:
        settings = GeminiResource(api_key=gemini.api_key, base_url=gemini.base_url, batch_size=1,
                                  max_concurrency=4, requests_per_minute=4, rate_window_s=1.0, tokens_per_minute=None)
        started = time.monotonic()
        results = run_industries(GeminiClassifier(settings, TAXONOMY), jobs(9))
        elapsed = time.monotonic() - started
    finally:
        gemini.rpm_limit, gemini.window_s = None, 60.0
    assert gemini.rpm_rejections == 0 and gemini.generate_calls == 9
    assert elapsed >= 2.0  # 9 requests at 4 per second: the last one leaves after 2 s
    assert not any(isinstance(r, EnrichmentFailure) for r in results)


def test_concurrency_is_bounded(gemini):
    gemini.latency_s = 0.15
    classifier = resource(gemini, batch_size=1, max_concurrency=2).classifier(TAXONOMY)
    run_industries(classifier, jobs(6))
    times = sorted(r.received_at for r in gemini.generate_requests)
    # with two in flight and 0.15 s each, no three requests arrive within 0.15 s of one another
    assert all(times[i + 2] - times[i] >= 0.12 for i in range(len(times) - 2))


# ------------------------------------------------------------------------------------------------ streaming
def test_batches_are_handed_over_as_they_finish(gemini):
    gemini.latency_s = 0.1
    classifier = resource(gemini, batch_size=2, max_concurrency=1).classifier(TAXONOMY)
    stream = classifier.classify_industries(jobs(8))
    first = next(stream)
    assert len(first) == 2 and gemini.generate_calls <= 2
    rest = [r for batch in stream for r in batch]
    assert len(rest) == 6


def test_closing_the_stream_early_stops_further_calls(gemini):
    gemini.latency_s = 0.05
    classifier = resource(gemini, batch_size=1, max_concurrency=1).classifier(TAXONOMY)
    stream = classifier.classify_industries(jobs(20))
    next(stream)
    stream.close()
    calls_at_close = gemini.generate_calls
    time.sleep(0.3)
    assert gemini.generate_calls <= calls_at_close + 1  # at most the request already on the wire
    assert gemini.generate_calls < 5


# ------------------------------------------------------------------------------------------------ usage
def test_usage_counts_calls_tokens_retries_and_cost_from_usage_metadata(gemini):
    gemini.add_faults(Fault("bad_confidence", item=0))
    classifier = resource(gemini, batch_size=5).classifier(TAXONOMY)
    run_industries(classifier, jobs(5))
    usage = classifier.usage
    assert usage.calls == 2 and usage.retries == 1 and usage.cache_hits == 0
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    price_in, price_out = price_per_million(classifier.settings.prices_per_million, classifier.model_name)
    expected = (usage.input_tokens * price_in + usage.output_tokens * price_out) / 1_000_000
    assert usage.estimated_cost_usd == pytest.approx(expected) and expected > 0


def test_each_classifier_starts_with_fresh_usage_and_versioned_prompts(gemini):
    res = resource(gemini)
    first, second = res.classifier(TAXONOMY), res.classifier(TAXONOMY)
    run_industries(first, jobs(1))
    assert first.usage.calls == 1 and second.usage.calls == 0
    assert INDUSTRY_PROMPT_VERSION in first.prompt_version and FUNCTION_PROMPT_VERSION in first.prompt_version
    assert len(first.prompt_version) <= 32 and first.model_name == "gemini-2.5-flash"


def test_count_tokens_asks_the_count_tokens_endpoint(gemini):
    assert resource(gemini).count_tokens("x" * 400) == 100
    assert [r.action for r in gemini.requests] == ["countTokens"]


def test_the_environment_sets_model_base_url_and_limits():
    res = classifier_resource(Settings.from_env({
        "GEMINI_API_KEY": "k", "GEMINI_MODEL": "gemini-2.5-pro", "GEMINI_BASE_URL": "http://127.0.0.1:9",
        "GEMINI_RPM": "30", "GEMINI_TPM": "5000", "GEMINI_BATCH_SIZE": "7", "GEMINI_MAX_CONCURRENCY": "2"}))
    assert isinstance(res, GeminiResource)
    assert (res.model, res.base_url, res.requests_per_minute, res.tokens_per_minute, res.batch_size,
            res.max_concurrency, res.api_version) == ("gemini-2.5-pro", "http://127.0.0.1:9", 30, 5000, 7, 2, "v1beta")
    defaults = classifier_resource(Settings.from_env({"GEMINI_API_KEY": "k", "GEMINI_MODEL": " "}))
    assert (defaults.model, defaults.base_url, defaults.batch_size, defaults.requests_per_minute) == (
        "gemini-2.5-flash", None, 20, 150)


def test_duplicate_job_keys_are_refused(gemini):
    with pytest.raises(ValueError, match="duplicate job_keys"):
        run_industries(resource(gemini).classifier(TAXONOMY), [*jobs(2), *jobs(1)])


# ------------------------------------------------------------------------------------------------ error bodies
def test_quota_ids_and_retry_delay_are_read_from_google_error_details():
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "20"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "33s"}]}}
    assert quota_ids(body) == ["GenerateRequestsPerDayPerProjectPerModel-FreeTier"]
    assert retry_delay_seconds(body) == 33.0
    half_second = {"error": {"details": [{"@type": "x.google.rpc.RetryInfo", "retryDelay": "0.5s"}]}}
    assert retry_delay_seconds(half_second) == 0.5
    assert retry_delay_seconds({"error": {"message": "no details"}}) is None and quota_ids("not a dict") == []


def test_quota_spent_in_one_call_stops_the_classifiers_later_calls(gemini):
    gemini.add_faults(Fault("daily_quota"))
    classifier = resource(gemini, max_concurrency=1).classifier(TAXONOMY)
    first = [r for b in classifier.classify_functions("Retail", TAXONOMY.functions_of("Retail"),
                                                      [FunctionInput("a", "Cashier", "Runs the register.")]) for r in b]
    later = [r for b in classifier.classify_functions("Legal", TAXONOMY.functions_of("Legal"),
                                                      [FunctionInput("b", "Paralegal", "Case files.")]) for r in b]
    assert gemini.generate_calls == 1
    assert all(isinstance(r, EnrichmentFailure) and "quota" in r.error for r in [*first, *later])
    classifier.close()


def test_resource_from_env_resolves_the_key_inside_a_dagster_run(gemini, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", gemini.api_key)
    seen: dict = {}

    @dg.asset
    def classified(classifier: GeminiResource) -> None:
        with classifier.classifier(TAXONOMY) as clf:
            seen["results"] = run_industries(clf, jobs(3))
            seen["usage"] = clf.usage.as_dict()

    resource_from_env = classifier_resource(Settings.from_env({
        "GEMINI_API_KEY": gemini.api_key, "GEMINI_BASE_URL": gemini.base_url, "GEMINI_RPM": "100000"}))
    assert gemini.api_key not in repr(resource_from_env)  # an EnvVar: resolved inside the run, never shown
    assert dg.materialize([classified], resources={"classifier": resource_from_env}).success
    assert all(isinstance(r, IndustryResult) for r in seen["results"]) and seen["usage"]["calls"] == 1


def test_under_mixed_faults_every_job_ends_as_a_valid_result_or_a_failure(gemini):
    kinds = ["bad_confidence", "bad_industry", "drop_item", "not_json", "fenced", "truncated", "unavailable",
             "rate_limit", "internal"]
    # m6 is the last job of the first batch: its item is always invalid (this fault comes first, so it wins)
    gemini.add_faults(Fault("bad_confidence", times=50, when=lambda r: "Job title m6" in r.titles, item=-1))
    gemini.add_faults(*(Fault(kind, times=2, item=i % 3) for i, kind in enumerate(kinds)))
    inputs = jobs(50, prefix="m")
    classifier = resource(gemini, batch_size=7, max_concurrency=3, max_attempts=10).classifier(TAXONOMY)
    results = run_industries(classifier, inputs)
    assert_complete_and_valid(results, inputs)
    failed = {r.job_key for r in results if isinstance(r, EnrichmentFailure)}
    assert "m6" in failed
    assert len(failed) < 5 and classifier.usage.retries > 0
