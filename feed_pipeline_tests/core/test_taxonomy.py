"""The bundled taxonomy's shape, the loader's errors for broken files, which taxonomy a feed gets, and the
content hashes that identify a taxonomy and each stage's part of it."""
from __future__ import annotations

import copy
import json

import pytest

from feed_pipeline.core.enrichment import NO_FIT_FUNCTION
from feed_pipeline.core.keyword_match import PhraseMatcher
from feed_pipeline.core.taxonomy import (
    DEFAULT_TAXONOMY_PATH,
    TAXONOMY_ENV,
    TaxonomyError,
    deployment_taxonomy,
    function_stage_hash,
    industry_stage_hash,
    load_taxonomy,
    resolve_taxonomy,
    taxonomy_from_dict,
    taxonomy_to_dict,
)

BOARD = {"industries": [
    {"name": "Property Management", "description": "Apartment communities.", "keywords": ["apartment"],
     "functions": [{"name": "Leasing", "description": "Shows and leases units.", "keywords": ["leasing"]},
                   {"name": "Maintenance", "keywords": ["hvac"]}]},
    {"name": "Hospitality", "functions": [{"name": "Housekeeping"}, {"name": "Front Desk"}]},
]}


def test_bundled_taxonomy_has_at_least_15_industries_each_with_functions_and_keywords():
    taxonomy = load_taxonomy()
    assert len(taxonomy.industries) >= 15
    for industry, functions in taxonomy.industries.items():
        assert len(functions) >= 2, industry
        assert taxonomy.industry_keywords[industry], industry
        for function in functions:
            assert taxonomy.function_keywords[industry][function], (industry, function)
    assert taxonomy.skills and taxonomy.technologies


def test_bundled_keywords_are_lowercase_and_never_shared_between_labels():
    taxonomy = load_taxonomy()
    owners: dict[str, str] = {}
    for industry in taxonomy.industries:
        labels = {industry: taxonomy.industry_keywords[industry], **taxonomy.function_keywords[industry]}
        for label, keywords in labels.items():
            for keyword in keywords:
                assert keyword == keyword.lower()
                assert keyword not in owners, f"{keyword!r} belongs to {owners.get(keyword)} and {label}"
                owners[keyword] = label


def test_default_taxonomy_is_parsed_once_and_shared():
    assert load_taxonomy() is load_taxonomy()


def test_explicit_path_loads_that_file(tmp_path):
    path = tmp_path / "tax.json"
    path.write_text(json.dumps({"version": "7", "industries": [
        {"name": "Toys", "keywords": ["Toy"], "functions": [{"name": "Sales", "keywords": ["seller"]}]}]}))
    taxonomy = load_taxonomy(path)
    assert taxonomy.version != "7" and len(taxonomy.version) == 16, "the content hash, not the hand-written version"
    assert taxonomy.functions_of("Toys") == ("Sales",)
    assert taxonomy.industry_keywords["Toys"] == ("toy",)
    assert taxonomy.has_function("Toys", "Sales") and not taxonomy.has_function("Toys", "Nursing")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(TaxonomyError, match="does not exist"):
        load_taxonomy(tmp_path / "nope.json")


def test_invalid_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"industries": [\n  oops ]}')
    with pytest.raises(TaxonomyError, match=r"bad\.json is not valid JSON \(line 2\)"):
        load_taxonomy(path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "non-empty list 'industries'"),
        ({"industries": [{"name": "A", "functions": []}]}, r"industries\[0\] \(A\): 'functions' must be a non-empty"),
        ({"industries": [{"name": "A", "functions": [{"name": "F"}]}, {"name": "A", "functions": [{"name": "F"}]}]},
         "industry 'A' appears twice"),
        ({"industries": [{"name": "", "functions": [{"name": "F"}]}]}, "'name' must be a non-empty string"),
        ({"industries": [{"name": "A", "functions": [{"name": "F", "keywords": "x"}]}]},
         r"functions\[0\] \(F\)\.keywords must be a list"),
        ({"industries": [{"name": "A", "functions": [{"name": "F", "description": 3}]}]},
         r"functions\[0\] \(F\)\.description must be a string"),
        ({"industries": [{"name": "A\x00", "functions": [{"name": "F"}]}]}, "contains a control character"),
        ({"industries": [{"name": "A", "functions": [{"name": "F", "keywords": ["a\x1b"]}]}]},
         "contains a control character"),
        ({"industries": [{"name": "A", "functions": [{"name": NO_FIT_FUNCTION}]}]},
         rf"functions\[0\]: '{NO_FIT_FUNCTION}' is reserved"),
    ],
)
def test_malformed_taxonomy_is_rejected_with_the_offending_entry(raw, message):
    with pytest.raises(TaxonomyError, match=message):
        taxonomy_from_dict(raw, where="t.json")


def test_bundled_file_is_the_default_path():
    assert DEFAULT_TAXONOMY_PATH.name == "taxonomy.json" and DEFAULT_TAXONOMY_PATH.exists()


def test_descriptions_are_read_and_keywords_are_optional():
    taxonomy = taxonomy_from_dict(BOARD)
    assert taxonomy.industry_description("Property Management") == "Apartment communities."
    assert taxonomy.function_description("Property Management", "Leasing") == "Shows and leases units."
    assert taxonomy.function_description("Hospitality", "Housekeeping") == ""
    assert taxonomy.function_keywords["Hospitality"]["Front Desk"] == ()


def test_identity_is_the_content_not_formatting_or_the_hand_written_version():
    reformatted = json.loads(json.dumps(BOARD, indent=4))
    reformatted["version"] = "99"
    assert taxonomy_from_dict(reformatted).version == taxonomy_from_dict(BOARD).version
    edited = copy.deepcopy(BOARD)
    edited["industries"][1]["functions"].append({"name": "Concierge"})
    assert taxonomy_from_dict(edited).version != taxonomy_from_dict(BOARD).version


def test_editing_one_industrys_functions_changes_only_that_industrys_stage_two_hash():
    before = taxonomy_from_dict(BOARD)
    edited = copy.deepcopy(BOARD)
    edited["industries"][0]["functions"][1]["description"] = "Repairs units and common areas."
    after = taxonomy_from_dict(edited)
    assert industry_stage_hash(after) == industry_stage_hash(before), "stage 1 answers stay valid"
    assert function_stage_hash(after, "Property Management") != function_stage_hash(before, "Property Management")
    assert function_stage_hash(after, "Hospitality") == function_stage_hash(before, "Hospitality")


@pytest.mark.parametrize("field", ["name", "description", "keywords"])
def test_editing_an_industry_changes_the_stage_one_hash(field):
    edited = copy.deepcopy(BOARD)
    edited["industries"][1][field] = {"name": "Hotels", "description": "Hotels and resorts.",
                                      "keywords": ["hotel"]}[field]
    assert industry_stage_hash(taxonomy_from_dict(edited)) != industry_stage_hash(taxonomy_from_dict(BOARD))


def test_a_feed_uses_its_own_taxonomy_else_the_deployments_else_the_bundled_one(tmp_path):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"industries": [{"name": "Retail", "functions": [{"name": "Cashier"}]}]}))
    assert resolve_taxonomy("f1", BOARD, path).industry_names == ("Property Management", "Hospitality")
    assert resolve_taxonomy("f1", None, path).industry_names == ("Retail",)
    assert resolve_taxonomy("f1", None, "") is load_taxonomy()
    assert deployment_taxonomy("  ") is load_taxonomy()


def test_a_broken_deployment_taxonomy_names_the_variable_and_the_file(tmp_path):
    with pytest.raises(TaxonomyError, match=rf"{TAXONOMY_ENV}: taxonomy file .*gone\.json does not exist"):
        deployment_taxonomy(tmp_path / "gone.json")


def test_a_stored_feed_taxonomy_that_no_longer_validates_names_the_feed():
    with pytest.raises(TaxonomyError, match=r"feed 'f1'\'s taxonomy: industries\[0\]"):
        resolve_taxonomy("f1", {"industries": [{"name": "A", "functions": []}]})


def test_the_stored_json_shape_round_trips_to_the_same_identity():
    taxonomy = taxonomy_from_dict({**BOARD, "skills": ["Yardi"], "about": "not content"})
    stored = json.loads(json.dumps(taxonomy_to_dict(taxonomy)))
    assert "about" not in stored and stored["skills"] == ["yardi"]
    assert taxonomy_from_dict(stored) == taxonomy
    bundled = load_taxonomy()
    assert taxonomy_from_dict(taxonomy_to_dict(bundled)).version == bundled.version


def test_bundled_taxonomy_describes_every_industry_and_function_in_one_sentence():
    taxonomy = load_taxonomy()
    for industry, functions in taxonomy.industries.items():
        assert taxonomy.industry_description(industry).endswith("."), industry
        for function in functions:
            description = taxonomy.function_description(industry, function)
            assert description.endswith(".") and description.count(". ") == 0, (industry, function)


def test_bundled_real_estate_covers_property_management_roles():
    functions = load_taxonomy().functions_of("Real Estate")
    for wanted in ("Leasing", "Maintenance Technicians", "Maintenance Supervision", "Grounds, Porter & Housekeeping",
                   "Community & Property Management", "Regional & Portfolio Management",
                   "Asset Management & Investments", "Property Accounting, Admin & Compliance", "Resident Services"):
        assert wanted in functions


@pytest.mark.parametrize("title", [
    "Maintenance Technician", "Make Ready Technician", "Porter", "Groundskeeper", "Leasing Consultant",
    "Community Manager", "Service Manager", "Regional Property Manager", "Resident Services Coordinator",
])
def test_property_management_titles_hit_real_estate_keywords_only(title):
    """A keyword of another industry inside a property-management title pulls the job out of Real Estate."""
    taxonomy = load_taxonomy()
    hits = set()
    for industry, functions in taxonomy.industries.items():
        vocabulary = {*taxonomy.industry_keywords[industry],
                      *(k for f in functions for k in taxonomy.function_keywords[industry][f])}
        if PhraseMatcher(vocabulary, fuzzy=False).find(title):
            hits.add(industry)
    assert hits == {"Real Estate"}
