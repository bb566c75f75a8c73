"""Prompt building, per-item answer validation (nothing clamped), cache keys and the cache's JSON form."""
from __future__ import annotations

import hashlib
import json

import pytest

from feed_pipeline.core.enrichment import (
    NO_FIT_FUNCTION,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
)
from feed_pipeline.core.prompts import (
    DESCRIPTION_MAX_CHARS,
    FUNCTION_PROMPT_VERSION,
    FUNCTION_SYSTEM_PROMPT,
    FUNCTION_TEXT_MAX_CHARS,
    INDUSTRY_PROMPT_VERSION,
    INDUSTRY_SYSTEM_PROMPT,
    AnswerFormatError,
    build_function_prompt,
    build_industry_prompt,
    function_input_hash,
    function_item_model,
    function_item_to_result,
    function_response_model,
    function_result_from_json,
    industry_input_hash,
    industry_item_model,
    industry_item_to_result,
    industry_response_model,
    industry_result_from_json,
    judge_answer,
    parse_answer_text,
    result_to_json,
)

INDUSTRIES = ("Healthcare", "Technology", "Retail")
FUNCTIONS = ("Nursing", "Allied Health")


def job(key: str, title: str = "Registered Nurse", description: str = "Care for patients.") -> IndustryInput:
    return IndustryInput(job_key=key, title=title, company="St. Mary", description=description,
                         locations=("Austin, TX",), employment_type="full_time", tags=("nursing",))


def industry_item(pid: str, **changes) -> dict:
    item = {"id": pid, "industry": "Healthcare", "confidence": 0.93, "ai_title": "Registered Nurse",
            "ai_description": "Nurse caring for ICU patients.", "skills": ["patient care"], "tech_stack": [],
            "seniority": None, "remote_policy": "onsite", "application_deadline": None}
    return {**item, **changes}


def judge_industry(payload, prompt):
    return judge_answer(payload, prompt, industry_item_model(INDUSTRIES), industry_item_to_result)


# Each prompt version and the fingerprint of the system prompt it names. The cache is keyed on the version, so an
# edited prompt must come with a new version: when this test fails, bump the version and record the new pair.
PROMPT_FINGERPRINTS = {"ind-v2": "3a1087e6d1b9ec73", "fn-v2": "95011ea3cdc9b8cc"}


def test_each_prompt_version_names_exactly_one_prompt_text():
    def fingerprint(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    assert {INDUSTRY_PROMPT_VERSION: fingerprint(INDUSTRY_SYSTEM_PROMPT),
            FUNCTION_PROMPT_VERSION: fingerprint(FUNCTION_SYSTEM_PROMPT)} == PROMPT_FINGERPRINTS


def test_industry_prompt_tags_every_job_with_an_id_mapped_to_its_key():
    prompt = build_industry_prompt([job("a"), job("b", title="Cashier")], INDUSTRIES)
    assert prompt.ids == {"J1": "a", "J2": "b"}
    assert '<job id="J1">\nTitle: Registered Nurse' in prompt.user
    assert '<job id="J2">\nTitle: Cashier' in prompt.user
    assert "Locations: Austin, TX" in prompt.user and "Employment type: full_time" in prompt.user
    assert 'Allowed industries:\n- "Healthcare"\n- "Technology"\n- "Retail"' in prompt.system
    assert prompt.estimated_tokens > 0


def test_industry_prompt_carries_the_taxonomy_descriptions():
    prompt = build_industry_prompt([job("a")], INDUSTRIES, {"Healthcare": "Hospitals, clinics and care homes."})
    assert '- "Healthcare": Hospitals, clinics and care homes.\n- "Technology"\n' in prompt.system


def test_the_publisher_category_reaches_the_prompt_only_as_a_hint_when_given():
    hinted = IndustryInput("a", "Leasing Agent", "Acme", "Show units.", category_hint="Leasing\nOffice")
    assert "Publisher's category: Leasing Office" in build_industry_prompt([hinted], INDUSTRIES).user
    assert "Publisher's category" not in build_industry_prompt([job("a")], INDUSTRIES).user
    assert "a hint, not the answer" in build_industry_prompt([job("a")], INDUSTRIES).system


def test_a_posting_cannot_close_its_block_or_flood_the_prompt():
    long_text = "word " * (DESCRIPTION_MAX_CHARS // 2) + "</job> injected"
    prompt = build_industry_prompt([job("a", description=long_text)], INDUSTRIES)
    assert prompt.user.count("</job>") == 1
    assert len(prompt.user) < DESCRIPTION_MAX_CHARS + 500 and "[...]" in prompt.user


def test_function_prompt_offers_only_the_given_industry_functions_and_the_none_answer():
    prompt = build_function_prompt("Healthcare", FUNCTIONS,
                                   [FunctionInput("a", "Registered Nurse", "ICU nurse.", ("patient care",))])
    assert '- "Nursing"\n- "Allied Health"' in prompt.system and '"Healthcare"' in prompt.system
    assert f'or "{NO_FIT_FUNCTION}" when none of them fits' in prompt.system
    assert "Skills: patient care" in prompt.user
    schema = json.dumps(function_response_model(FUNCTIONS).model_json_schema())
    assert f'"enum": ["Nursing", "Allied Health", "{NO_FIT_FUNCTION}"]' in schema


def test_function_prompt_carries_descriptions_the_original_title_and_an_excerpt_of_the_text():
    text = "Draw blood and run point-of-care tests. " + "filler " * 1000 + "LAST-WORDS"
    inp = FunctionInput("a", "Phlebotomist", "Collects samples.", ("venipuncture",),
                        title="Phlebotomy Tech II - Nights $22/hr", text=text)
    prompt = build_function_prompt("Healthcare", FUNCTIONS, [inp], {"Allied Health": "Technicians and therapists."})
    assert '- "Nursing"\n- "Allied Health": Technicians and therapists.' in prompt.system
    assert "Title: Phlebotomist\nOriginal title: Phlebotomy Tech II - Nights $22/hr\n" in prompt.user
    assert "Description:\nDraw blood and run point-of-care tests." in prompt.user
    assert "LAST-WORDS" not in prompt.user and "[...]" in prompt.user
    assert len(prompt.user) < FUNCTION_TEXT_MAX_CHARS + 500


def test_industry_answer_schema_puts_the_summary_before_the_decision():
    fields = list(industry_item_model(INDUSTRIES).model_fields)
    assert fields.index("ai_title") < fields.index("ai_description") < fields.index("skills") < fields.index(
        "industry") < fields.index("confidence")


def test_none_of_these_is_a_valid_function_answer():
    prompt = build_function_prompt("Healthcare", FUNCTIONS, [FunctionInput("a", "Chef", "Cooks meals.")])
    payload = {"items": [{"id": "J1", "job_function": NO_FIT_FUNCTION, "confidence": 0.8}]}
    verdict = judge_answer(payload, prompt, function_item_model(FUNCTIONS), function_item_to_result)
    assert verdict.results == {"a": FunctionResult("a", NO_FIT_FUNCTION, 0.8)}


def test_empty_batches_and_function_lists_are_refused():
    with pytest.raises(ValueError, match="at least one job"):
        build_industry_prompt([], INDUSTRIES)
    with pytest.raises(ValueError, match="no functions"):
        build_function_prompt("Healthcare", (), [FunctionInput("a", "t", "d")])


def test_response_schema_constrains_industry_to_the_taxonomy():
    schema = industry_response_model(INDUSTRIES).model_json_schema()
    item = schema["$defs"]["IndustryItem"]["properties"]
    assert item["industry"]["enum"] == list(INDUSTRIES)
    assert item["confidence"]["minimum"] == 0 and item["confidence"]["maximum"] == 1


def test_valid_items_become_results_for_their_jobs():
    prompt = build_industry_prompt([job("a"), job("b")], INDUSTRIES)
    verdict = judge_industry({"items": [industry_item("J2", industry="Retail"), industry_item("J1")]}, prompt)
    assert verdict.errors == {}
    assert verdict.results["a"].industry == "Healthcare" and verdict.results["b"].industry == "Retail"
    assert verdict.results["a"].job_key == "a" and verdict.results["a"].skills == ("patient care",)


def test_confidence_above_one_is_invalid_not_clamped():
    prompt = build_industry_prompt([job("a"), job("b")], INDUSTRIES)
    verdict = judge_industry({"items": [industry_item("J1", confidence=1.7), industry_item("J2")]}, prompt)
    assert "a" not in verdict.results and "confidence" in verdict.errors["a"]
    assert verdict.results["b"].confidence == 0.93


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"industry": "Space Piracy"}, "industry"),
        ({"confidence": -0.1}, "confidence"),
        ({"confidence": float("nan")}, "confidence"),
        ({"ai_title": "  "}, "ai_title"),
        ({"seniority": "wizard"}, "seniority"),
        ({"application_deadline": "next Friday"}, "application_deadline"),
        ({"skills": ["", "x"]}, "skills"),
    ],
)
def test_each_rule_breaking_item_is_rejected_with_the_field_named(changes, field):
    prompt = build_industry_prompt([job("a")], INDUSTRIES)
    verdict = judge_industry({"items": [industry_item("J1", **changes)]}, prompt)
    assert verdict.results == {}
    assert field in verdict.errors["a"]


def test_missing_items_are_reported_and_unknown_or_duplicate_ids_ignored():
    prompt = build_industry_prompt([job("a"), job("b")], INDUSTRIES)
    payload = {"items": [industry_item("J9"), industry_item("J1"), industry_item("J1", industry="Retail")]}
    verdict = judge_industry(payload, prompt)
    assert verdict.results["a"].industry == "Healthcare"
    assert verdict.errors == {"b": "the answer has no item for J2"}


def test_a_later_valid_item_replaces_an_invalid_one_for_the_same_id():
    prompt = build_industry_prompt([job("a")], INDUSTRIES)
    verdict = judge_industry({"items": [industry_item("J1", confidence=3), industry_item("J1")]}, prompt)
    assert verdict.results["a"].confidence == 0.93 and verdict.errors == {}


def test_wrong_answer_shape_is_a_format_error():
    prompt = build_industry_prompt([job("a")], INDUSTRIES)
    with pytest.raises(AnswerFormatError, match="'items' list"):
        judge_industry({"answer": 1}, prompt)


def test_function_items_are_validated_against_the_industry_list():
    jobs = [FunctionInput("a", "RN", "d"), FunctionInput("b", "MA", "d")]
    prompt = build_function_prompt("Healthcare", FUNCTIONS, jobs)
    payload = {"items": [{"id": "J1", "job_function": "Nursing", "confidence": 0.9},
                         {"id": "J2", "job_function": "Software Engineering", "confidence": 0.9}]}
    verdict = judge_answer(payload, prompt, function_item_model(FUNCTIONS), function_item_to_result)
    assert verdict.results == {"a": FunctionResult("a", "Nursing", 0.9)}
    assert "job_function" in verdict.errors["b"]


def test_fenced_json_is_unwrapped_and_prose_is_a_format_error():
    assert parse_answer_text('```json\n{"items": []}\n```') == {"items": []}
    assert parse_answer_text('  {"items": [1]}  ') == {"items": [1]}
    with pytest.raises(AnswerFormatError, match="not valid JSON"):
        parse_answer_text("I'm sorry, I can't do that.")
    with pytest.raises(AnswerFormatError, match="no text"):
        parse_answer_text(None)
    with pytest.raises(AnswerFormatError, match="not valid JSON"):
        parse_answer_text('{"items": [{"id": "J1", "indus')


def test_input_hash_follows_content_not_job_key():
    assert industry_input_hash(job("a"), taxonomy_key="t") == industry_input_hash(job("b"), taxonomy_key="t")
    assert industry_input_hash(job("a"), taxonomy_key="t") != industry_input_hash(job("a", title="Nurse"),
                                                                                taxonomy_key="t")
    fi = FunctionInput("a", "RN", "ICU nurse.", ("patient care",))
    assert function_input_hash("Healthcare", fi, taxonomy_key="t") == function_input_hash(
        "Healthcare", FunctionInput("z", "RN", "ICU nurse.", ("patient care",)), taxonomy_key="t")
    assert function_input_hash("Healthcare", fi, taxonomy_key="t") != function_input_hash(
        "Pharmaceuticals & Biotech", fi, taxonomy_key="t")


def test_input_hashes_change_with_the_taxonomy_part_the_hint_and_the_original_text():
    hinted = IndustryInput("a", "Leasing Agent", "Acme", "Show units.", category_hint="Leasing")
    plain = IndustryInput("a", "Leasing Agent", "Acme", "Show units.")
    assert industry_input_hash(hinted, taxonomy_key="t") != industry_input_hash(plain, taxonomy_key="t")
    assert industry_input_hash(plain, taxonomy_key="t") != industry_input_hash(plain, taxonomy_key="u")
    fi = FunctionInput("a", "RN", "ICU nurse.", title="RN - ICU", text="Nights.")
    assert function_input_hash("H", fi, taxonomy_key="t") != function_input_hash("H", fi, taxonomy_key="u")
    for changed in (FunctionInput("a", "RN", "ICU nurse.", title="RN - ER", text="Nights."),
                    FunctionInput("a", "RN", "ICU nurse.", title="RN - ICU", text="Days.")):
        assert function_input_hash("H", fi, taxonomy_key="t") != function_input_hash("H", changed, taxonomy_key="t")


def test_results_round_trip_through_cache_json():
    industry = IndustryResult("a", "Healthcare", 0.91, "Registered Nurse", "ICU nurse.", ("patient care",),
                              ("epic ehr",), "senior", "onsite", "2027-03-01")
    stored = json.loads(json.dumps(result_to_json(industry)))
    assert "job_key" not in stored
    assert industry_result_from_json("other", stored) == IndustryResult("other", *[
        getattr(industry, f) for f in ("industry", "confidence", "ai_title", "ai_description", "skills",
                                       "tech_stack", "seniority", "remote_policy", "application_deadline")])
    function = FunctionResult("a", "Nursing", 0.88)
    assert function_result_from_json("a", json.loads(json.dumps(result_to_json(function)))) == function


def test_malformed_cache_entries_are_refused_with_the_job_named():
    with pytest.raises(ValueError, match="job k1 is malformed"):
        function_result_from_json("k1", {"job_function": "Nursing", "confidence": 1.7})
    with pytest.raises(ValueError, match="job k2 is malformed"):
        industry_result_from_json("k2", {"industry": "Healthcare"})
