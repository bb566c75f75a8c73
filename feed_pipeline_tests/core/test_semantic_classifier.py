"""The semantic offline classifier: whole-word skills, the taxonomy's descriptions, stage 2 on the original
title, calibrated confidence in [0, 1], and phrases borrowed from the bundled taxonomy for a names-only board."""
from __future__ import annotations

import json

import numpy as np
import pytest

from feed_pipeline.core.calibration import CalibrationError, LogisticCalibrator, calibrators_from_dict
from feed_pipeline.core.embeddings import load_wordllama
from feed_pipeline.core.enrichment import FunctionInput, IndustryInput
from feed_pipeline.core.keyword_match import PhraseMatcher
from feed_pipeline.core.semantic_classifier import (
    SEMANTIC_SCORING_VERSION,
    SemanticClassifier,
    description_phrases,
    expand_title,
    first_max_per_segment,
    name_phrases,
    on_grid,
    prompt_version,
    ranked_title,
    rows_times,
    spell_out,
    spell_out_capitals,
)
from feed_pipeline.core.taxonomy import load_taxonomy, taxonomy_from_dict
from feed_pipeline.labeled_set import LABELED_DIR, load_board
from feed_pipeline.resources.offline_classifier import CALIBRATION_PATH, load_calibration

PM_NAMES_ONLY = LABELED_DIR / "taxonomies" / "pm_board_names_only.json"


@pytest.fixture(scope="module")
def embedder():
    return load_wordllama()


@pytest.fixture(scope="module")
def calibrated(embedder):
    version, calibrators = load_calibration()

    def build(taxonomy, reference=True):
        return SemanticClassifier(taxonomy, embedder, calibrators, reference=load_taxonomy() if reference else None,
                                  calibration_version=version)
    return build


def industry_of(clf, *jobs):
    return [r for batch in clf.classify_industries(list(jobs)) for r in batch]


def function_of(clf, industry, *jobs):
    return [r for batch in clf.classify_functions(industry, clf.taxonomy.functions_of(industry), list(jobs))
            for r in batch]


def posting(title, text, company="Acme", key="j"):
    return IndustryInput(key, title, company, text, ("Reno, NV",))


def test_skills_and_technologies_match_whole_words_never_the_town_or_the_company(calibrated):
    clf = calibrated(load_taxonomy())
    (result,) = industry_of(clf, posting(
        "Software Engineer", "Prometheus Real Estate Group hires in Sparks, NV. You will use Python and Spark. "
        "Case management experience welcome.", company="Prometheus Real Estate Group"))
    assert "python" in result.tech_stack and "spark" in result.tech_stack
    assert "prometheus" not in result.tech_stack
    (town,) = industry_of(clf, posting("Leasing Consultant", "Our community in Sparks, NV is leasing up."))
    assert "spark" not in town.tech_stack


def test_a_phrase_of_several_words_tolerates_no_typo():
    matcher = PhraseMatcher(["asset management", "kubernetes"])
    assert matcher.find("case management for clients") == set()
    assert matcher.find("kubernets clusters") == {"kubernetes"}  # one long word still tolerates a typo
    assert PhraseMatcher(["spark"], fold_plurals=False).find("Sparks, NV") == set()


def test_descriptions_decide_between_labels_whose_names_say_nothing(embedder):
    raw = {"industries": [{"name": "Ops", "functions": [
        {"name": "Team A", "description": "Porters, groundskeepers and housekeepers."},
        {"name": "Team B", "description": "Leasing consultants and leasing managers."}]}]}
    clf = SemanticClassifier(taxonomy_from_dict(raw), embedder, None)
    jobs = [FunctionInput("p", "", "", title="Porter", text="Pick up trash on the grounds."),
            FunctionInput("l", "", "", title="Leasing Consultant", text="Tour prospects and sign leases.")]
    assert [d.label for d in clf.function_decisions("Ops", ("Team A", "Team B"), jobs)] == ["Team A", "Team B"]


def test_stage_two_reads_the_original_title_and_falls_back_to_the_summary(calibrated):
    clf = calibrated(load_taxonomy(PM_NAMES_ONLY))
    text = "Complete work orders, HVAC and plumbing repairs, make readies."
    (original,) = function_of(clf, "Property Management",
                              FunctionInput("a", "Team Member", "Join our team.", title="Maintenance Technician",
                                            text=text))
    assert original.job_function == "Maintenance"
    (fallback,) = function_of(clf, "Property Management",
                              FunctionInput("b", "Leasing Consultant", "Tour prospects and sign leases."))
    assert fallback.job_function == "Leasing"


@pytest.mark.parametrize(("title", "function"), [
    ("Service Manager", "Maintenance Supervisor"),
    ("Make Ready Technician", "Maintenance"),
    ("Maint Tech", "Maintenance"),
    ("Porter/Groundskeeper", "Groundskeeping, Porter & Housekeeping"),
    ("Community Manager", "Property Management"),
    ("Regional Property Manager", "Regional Management"),
    ("Técnico de Mantenimiento", "Maintenance"),
])
def test_a_names_only_board_learns_role_words_from_the_bundled_taxonomy(calibrated, title, function):
    clf = calibrated(load_taxonomy(PM_NAMES_ONLY))
    (result,) = function_of(clf, "Property Management", FunctionInput("x", "", "", title=title, text=""))
    assert result.job_function == function


@pytest.mark.parametrize("taxonomy_file", ["pm_board.json", "pm_board_names_only.json"])
def test_a_bundled_phrase_that_is_a_board_labels_name_plus_a_modifier_keeps_its_own_meaning(calibrated, taxonomy_file):
    """"property bookkeeper" (bundled: property accounting) and "vp of property management" (bundled: regional)
    use the whole name "Property Management": they name other roles, so they go where their own function maps."""
    clf = calibrated(load_taxonomy(LABELED_DIR / "taxonomies" / taxonomy_file))
    bookkeeper, vp = function_of(clf, "Property Management",
                                 FunctionInput("b", "", "", title="Property Bookkeeper", text=""),
                                 FunctionInput("v", "", "", title="VP of Property Management", text=""))
    assert bookkeeper.job_function == "Accounting & Compliance"
    assert vp.job_function == "Regional Management"


def test_a_bundled_phrase_with_another_generic_head_than_a_board_labels_name_is_not_that_label(calibrated):
    """"resident manager" (bundled: community & property management) shares "resident" with the board's
    "Resident Services", but a manager is not a service: it stays with property management."""
    clf = calibrated(load_taxonomy(PM_NAMES_ONLY))
    (result,) = function_of(clf, "Property Management", FunctionInput("r", "", "", title="Resident Manager", text=""))
    assert result.job_function == "Property Management"


@pytest.mark.parametrize(("title", "ranked"), [
    ("Assistant Property Manager", True), ("Lead Maintenance Technician", True), ("Associate Community Manager", True),
    ("Asst. Maintenance Supervisor", True), ("Nursing Assistant", False), ("Team Lead", False),
    ("Leasing Associate", False), ("Maintenance Technician", False), ("Leadership Coach", False),
])
def test_a_rank_modifier_is_a_word_before_the_role_not_the_role_itself(title, ranked):
    assert ranked_title(title) is ranked


def test_a_title_between_two_ranks_is_less_certain_than_the_same_role_plainly_named(calibrated):
    """Boards with a category for each rank file "Assistant Maintenance Supervisor" either way."""
    clf = calibrated(load_taxonomy(LABELED_DIR / "taxonomies" / "pm_board.json"))
    plain, assistant = function_of(
        clf, "Property Management",
        FunctionInput("p", "", "", title="Maintenance Supervisor", text="Run the maintenance team."),
        FunctionInput("a", "", "", title="Assistant Maintenance Supervisor", text="Run the maintenance team."))
    assert plain.job_function == assistant.job_function == "Maintenance Supervisor"
    assert assistant.confidence < plain.confidence


def test_without_the_reference_a_names_only_board_cannot_place_a_service_manager(calibrated):
    clf = calibrated(load_taxonomy(PM_NAMES_ONLY), reference=False)
    (result,) = function_of(clf, "Property Management", FunctionInput("x", "", "", title="Service Manager", text=""))
    assert result.job_function != "Maintenance Supervisor"


def test_single_industry_board_is_confident_in_scope_and_not_outside(calibrated):
    clf = calibrated(load_taxonomy(PM_NAMES_ONLY))
    inside, outside = industry_of(
        clf,
        posting("Maintenance Technician", "Complete work orders and make readies at our apartment community.",
                key="in"),
        posting("Registered Nurse - ICU", "Provide bedside patient care in our hospital ICU.", key="out"))
    assert inside.confidence >= 0.86
    assert outside.confidence < 0.5


def test_confidences_are_probabilities_for_every_answer(calibrated):
    clf = calibrated(load_taxonomy())
    jobs = [posting("Registered Nurse", "ICU patient care.", key="a"), posting("Team Member", "Apply today!", key="b"),
            posting("", "", key="c"), posting("Maint Tech", "Work orders.", key="d")]
    results = industry_of(clf, *jobs)
    assert all(0.0 <= r.confidence <= 1.0 for r in results)
    functions = function_of(clf, "Healthcare", FunctionInput("a", "Registered Nurse", "ICU patient care."))
    assert all(0.0 <= r.confidence <= 1.0 for r in functions)


def test_a_posting_scores_the_same_to_the_last_bit_alone_or_in_any_batch(calibrated):
    """A rerun classifies only the changed postings, in other batches than the first run did: every score must be
    the same float, or a confidence could round (or cross a threshold) differently from a from-scratch run."""
    board = load_board("general_board")
    clf = calibrated(board.taxonomy)
    jobs = [IndustryInput(j.id, j.title, j.company, j.description, (j.location,)) for j in board.jobs[:70]]
    together = clf.industry_decisions(jobs)
    assert [d.features for d in clf.industry_decisions(jobs[5:8])] == [d.features for d in together[5:8]]
    assert [clf.industry_decisions([job])[0].features for job in jobs[:40]] == [d.features for d in together[:40]]
    industry = board.jobs[0].industry
    functions = clf.taxonomy.functions_of(industry)
    inputs = [FunctionInput(j.id, "", "", (), title=j.title, text=j.description) for j in board.jobs[:70]]
    together = clf.function_decisions(industry, functions, inputs)
    assert [clf.function_decisions(industry, functions, [inp])[0].features for inp in inputs[:40]] == [
        d.features for d in together[:40]]


def test_a_row_times_a_matrix_is_the_same_float_at_any_position_in_any_batch_and_close_to_the_cosine():
    rng = np.random.default_rng(7)
    units = rng.normal(size=(300, 256))
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    units[3] = 0.0  # a text without tokens
    matrix = on_grid(units[:90]).T.copy()
    together = rows_times(units.astype(np.float32), matrix)
    for start, size in ((0, 1), (5, 1), (17, 3), (31, 40), (100, 200)):
        part = rows_times(units[start:start + size].astype(np.float32), matrix)
        assert np.array_equal(part, together[start:start + size])
    assert np.abs(together - units @ units[:90].T).max() < 1e-3
    with pytest.raises(ValueError, match="norm <= 1"):
        rows_times(units[:2] * 2.0, matrix)


def test_first_max_per_segment_is_argmax_within_each_segment_ties_included():
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 4, size=(50, 12)).astype(float)  # many ties
    starts = np.array([0, 1, 5, 6, 11])
    bounds = [*starts[1:], 12]
    expected = [[lo + int(np.argmax(row[lo:hi])) for lo, hi in zip(starts, bounds, strict=True)] for row in rows]
    assert first_max_per_segment(rows, starts).tolist() == expected
    assert first_max_per_segment(np.zeros((0, 12)), starts).shape == (0, 5)


def test_shipped_calibration_never_lowers_confidence_as_evidence_grows():
    raw = json.loads(CALIBRATION_PATH.read_text())
    for name, model in raw["models"].items():
        assert all(c >= 0 for c in model["coef"]), name
    _, calibrators = load_calibration()
    function = calibrators["function"]
    probabilities = [function.probability({"top": 2.0, "margin": m, "agree": 1.0}) for m in (0, 0.5, 1, 2, 4)]
    assert probabilities == sorted(probabilities) and probabilities[-1] > probabilities[0]


def test_shipped_calibration_documents_what_it_was_fit_on():
    raw = json.loads(CALIBRATION_PATH.read_text())
    assert raw["version"].startswith("cal-") and raw["fitted_at"]
    assert set(raw["fitted_on"]) == {"function", "industry", "scope"}
    assert all(row["n"] >= 0 for table in raw["reliability_dev"].values() for row in table)


def test_calibration_json_errors_name_the_model_and_field():
    with pytest.raises(CalibrationError, match=r"models \['scope'\] missing"):
        calibrators_from_dict({"models": {"function": {"features": [], "coef": [], "intercept": 0}}},
                              ["function", "scope"])
    with pytest.raises(CalibrationError, match=r"models\.function\.coef"):
        calibrators_from_dict({"models": {"function": {"features": ["a"], "coef": [], "intercept": 0}}}, ["function"])
    assert LogisticCalibrator(("a",), (1.0,), 0.0).probability({}) == 0.5


def test_cache_key_names_scoring_calibration_and_taxonomy_within_the_column_width():
    short = prompt_version("cal-0123456789", "2026.2")
    assert short == f"{SEMANTIC_SCORING_VERSION}-cal-0123456789-tax2026.2"
    long_a, long_b = prompt_version("cal-0123456789", "x" * 40), prompt_version("cal-0123456789", "y" * 40)
    assert len(long_a) <= 32 and long_a != long_b


def test_titles_spell_out_abbreviations_and_names_split_into_parts():
    assert expand_title("Sr. Maint Tech - $20/hr") == "Senior Maint Tech ; Senior maintenance technician"
    assert expand_title("Leasing Consultant") == "Leasing Consultant"
    assert name_phrases("Grounds, Porter & Housekeeping") == [
        "grounds, porter & housekeeping", "grounds", "porter", "housekeeping"]
    assert description_phrases("Corporate office roles: HR, recruiting, IT and training.") == [
        "corporate office roles", "hr", "recruiting", "information technology", "training"]
    assert description_phrases("Builds data pipelines and trains models.") == []


def test_embedder_gives_unit_vectors_the_same_with_a_cold_or_reset_word_cache(embedder, monkeypatch):
    import feed_pipeline.core.embeddings as embeddings

    texts = ["Maintenance Technician", "Leasing Consultant tours apartments", ""]
    warm = embedder.embed(texts)
    assert abs(float((warm[0] ** 2).sum()) - 1.0) < 1e-5 and not warm[2].any()
    monkeypatch.setattr(embeddings, "WORD_CACHE_SIZE", 2)  # every call now starts a fresh cache
    assert (embedder.embed(texts) == warm).all()


def test_a_texts_vector_is_its_tokens_mean_direction_and_the_same_in_any_batch(embedder):
    texts = ["Maintenance Technician", "  ", "Leasing consultant for a large apartment community. " * 40,
             "Técnico de Mantenimiento", "HVAC"]
    together = embedder.embed(texts)
    for text, vector in zip(texts, together, strict=True):
        assert np.array_equal(embedder.embed([text])[0], vector)
        words = text.split()[:256]
        if not words:
            assert not vector.any()
            continue
        ids = [i for w in words for i in embedder._tokenizer.encode(w, add_special_tokens=False).ids]
        mean = embedder._vectors[ids].astype(np.float64).sum(axis=0)
        assert np.abs(mean / np.linalg.norm(mean) - vector).max() < 1e-6


class CountingEmbedder:
    """The real embedder, counting the texts it embeds."""

    def __init__(self, embedder):
        self.embedder, self.texts = embedder, 0

    def embed(self, texts, **options):
        self.texts += len(texts)
        return self.embedder.embed(texts, **options)


def test_the_versions_a_skipping_stage_asks_for_embed_nothing_and_the_indexes_come_with_the_first_answer(embedder):
    counting = CountingEmbedder(embedder)
    version, calibrators = load_calibration()
    clf = SemanticClassifier(load_taxonomy(), counting, calibrators, reference=load_taxonomy(),
                             calibration_version=version)
    assert (clf.model_name, clf.industry_prompt_version, clf.function_prompt_version) and counting.texts == 0
    plain = SemanticClassifier(load_taxonomy(), embedder, calibrators, reference=load_taxonomy(),
                               calibration_version=version)
    job = posting("Registered Nurse", "Care for patients on a busy medical-surgical unit.")
    assert industry_of(clf, job) == industry_of(plain, job)
    assert counting.texts > 0


def test_it_in_capitals_is_information_technology_and_the_pronoun_stays_a_pronoun():
    assert spell_out_capitals("IT Support Specialist: keep it running") == (
        "information technology Support Specialist: keep it running")
    assert "information technology" in description_phrases("Corporate office roles: HR, recruiting, IT and training.")
    assert spell_out("IT Support") == spell_out("it support") == "information technology support"
