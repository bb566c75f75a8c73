"""Profiles and per-feed mappings: which profile a feed's params pick, detection, and the key -> field mapping."""
from __future__ import annotations

import pytest

from feed_pipeline.sources.xml_profiles import (
    ADZUNA,
    BUILTIN_PROFILES,
    INDEED,
    JOOBLE,
    FieldMapper,
    detect_profile,
    profile_from_params,
)


def test_no_params_means_detect_and_a_name_means_that_profile():
    assert profile_from_params({}) is None
    assert profile_from_params({"profile": "auto"}) is None
    assert profile_from_params({"profile": "adzuna"}) is ADZUNA
    assert profile_from_params({"profile": "Jooble"}) is JOOBLE


def test_custom_mapping_overrides_only_the_fields_it_names():
    profile = profile_from_params({"profile": "adzuna", "fields": {"title": ["position", "title"]},
                                   "record_tag": "item", "date_order": "mdy"})
    assert profile.name == "custom(adzuna)" and profile.record_tag == "item" and profile.date_order == "mdy"
    assert profile.fields["title"] == ("position", "title")
    assert profile.fields["salary_min"] == ADZUNA.fields["salary_min"]


def test_date_order_alone_keeps_the_profile_name():
    assert profile_from_params({"profile": "indeed", "date_order": "mdy"}).name == "indeed"


@pytest.mark.parametrize(
    ("root", "keys", "expected"),
    [
        ("source", {"title", "referencenumber", "requisitionid", "remotetype"}, "indeed"),
        ("source", {"title", "url"}, "indeed"),  # nothing stands out: the default
        (None, set(), "indeed"),
        ("jobs", {"id", "title", "contract_time", "salary_min"}, "adzuna"),
        ("jobs", {"@id", "name", "link", "pubdate", "region"}, "jooble"),
        ("jobs", {"reference_id", "publishdate", "expirydate"}, "jobrapido"),
        ("jobs", {"location/city", "location/country", "apply_url"}, "careerjet"),
        ("source", {"referencenumber", "dateposted", "expiration_date"}, "talent"),
    ],
)
def test_detection(root, keys, expected):
    assert detect_profile(root, keys).name == expected


def test_every_builtin_profile_maps_title_and_an_identity():
    for profile in BUILTIN_PROFILES.values():
        assert profile.fields["title"] and profile.fields["id"] and profile.fields["url"]


def test_mapper_takes_the_best_ranked_non_empty_key_and_keeps_the_rest_as_extra():
    mapper = FieldMapper(INDEED)
    fields, extra = mapper.map({"jobid": "low", "referencenumber": "  ", "id": "lower", "title": "T",
                                "education": "BA", "empty": None})
    assert fields == {"id": "low", "title": "T"}
    assert extra == {"education": "BA"}


def test_one_key_can_feed_several_fields():
    profile = profile_from_params({"fields": {"salary_min": "pay", "salary_max": "pay"}})
    fields, _ = FieldMapper(profile).map({"pay": "10"})
    assert fields == {"salary_min": "10", "salary_max": "10"}
