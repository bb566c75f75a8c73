"""The bundled taxonomy's shape, and the loader's errors for broken files."""
from __future__ import annotations

import json

import pytest

from feed_pipeline.core.keyword_match import PhraseMatcher
from feed_pipeline.core.taxonomy import DEFAULT_TAXONOMY_PATH, TaxonomyError, load_taxonomy, taxonomy_from_dict


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
    assert taxonomy.version == "7"
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
    ],
)
def test_malformed_taxonomy_is_rejected_with_the_offending_entry(raw, message):
    with pytest.raises(TaxonomyError, match=message):
        taxonomy_from_dict(raw, where="t.json")


def test_bundled_file_is_the_default_path():
    assert DEFAULT_TAXONOMY_PATH.name == "taxonomy.json" and DEFAULT_TAXONOMY_PATH.exists()


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
