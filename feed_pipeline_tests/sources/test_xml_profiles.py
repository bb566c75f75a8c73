"""Profiles and per-feed mappings: which profile a feed's params pick, detection, and the key -> field mapping."""
from __future__ import annotations

import pytest

from feed_pipeline.core.dates import DEFAULT_DATE_ORDER
from feed_pipeline.sources.xml_profiles import (
    ADZUNA,
    BUILTIN_PROFILES,
    INDEED,
    JOOBLE,
    FieldMapper,
    detect_profile,
    feed_date_order,
    keep_own_id,
    profile_from_params,
    score_profiles,
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


def test_a_feeds_date_order_is_its_params_else_the_default_every_builtin_profile_uses():
    assert {profile.date_order for profile in BUILTIN_PROFILES.values()} == {DEFAULT_DATE_ORDER} == {"dmy"}
    assert feed_date_order({}) == feed_date_order({"profile": "adzuna"}) == DEFAULT_DATE_ORDER
    assert feed_date_order({"date_order": "mdy"}) == "mdy"
    assert feed_date_order({"profile": "jooble", "date_order": "mdy"}) == "mdy"
    with pytest.raises(ValueError, match=r"params\.date_order must be one of"):
        feed_date_order({"date_order": "ymd"})


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


# The first record of each family's real layout (REFERENCE.md, "XML job feeds"), as flatten_record keys it.
PUBLISHED_INDEED = {"title", "date", "referencenumber", "url", "company", "companyurl", "companylogo", "city", "state",
                    "country", "postalcode", "description", "salary_min", "salary_max", "salary_currency",
                    "salary_schedule", "jobtype", "expiration_date", "remotetype", "category"}
ADZUNA_INBOUND = {"id", "title", "description", "url", "location", "country", "salary", "salary_min", "salary_max",
                  "salary_currency", "salary_frequency", "company", "category", "contract_type", "contract_time",
                  "date"}
JOBRAPIDO_RECORD = {"reference_id", "title", "company", "city", "region", "country", "zipcode", "url",
                    "description", "publishdate", "expirydate", "jobtype", "salary", "category"}
CAREERJET_RECORD = {"id", "title", "company", "location", "location/city", "location/region", "location/country",
                    "url", "apply_url", "description", "salary", "contract_type", "contract_period", "date"}
JOOBLE_RECORD = {"@id", "link", "name", "region", "salary", "description", "company", "pubdate", "updated", "expire",
                 "jobtype"}


@pytest.mark.parametrize(
    ("root", "keys", "expected"),
    [
        ("source", PUBLISHED_INDEED, "indeed"),
        ("jobs", ADZUNA_INBOUND, "adzuna"),
        ("jobs", ADZUNA_INBOUND - {"contract_type", "contract_time", "salary"}, "adzuna"),
        ("jobs", JOBRAPIDO_RECORD, "jobrapido"),
        ("source", JOBRAPIDO_RECORD - {"region", "zipcode"}, "jobrapido"),
        ("jobs", CAREERJET_RECORD, "careerjet"),
        ("jobs", JOOBLE_RECORD, "jooble"),
    ],
)
def test_detection_on_each_familys_whole_record(root, keys, expected):
    assert detect_profile(root, keys).name == expected


def test_salary_tags_do_not_outweigh_an_indeed_records_ids_places_and_types():
    fits = {fit.profile.name: fit for fit in score_profiles("source", PUBLISHED_INDEED)}
    indeed, adzuna = fits["indeed"], fits["adzuna"]

    assert {"id", "city", "state", "employment_type", "expires", "remote", "salary_period"} <= indeed.fields
    assert not {"referencenumber", "city", "state", "jobtype", "expiration_date", "remotetype"} & adzuna.mapped
    assert {"referencenumber", "city", "jobtype"} <= adzuna.lost and not indeed.lost


def test_detection_keeps_the_records_own_id_when_the_chosen_profile_does_not_read_it():
    keys = {"referencenumber", "title", "url", "contract_type", "contract_time", "salary_min", "salary_max"}
    profile = detect_profile("jobs", keys)

    assert profile.name == "adzuna" and profile.fields["id"][0] == "referencenumber"
    assert keep_own_id(ADZUNA, {"id", "referencenumber"}) is ADZUNA  # it reads an id already: unchanged
    assert keep_own_id(ADZUNA, {"title"}) is ADZUNA  # no id at all: nothing to keep


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
