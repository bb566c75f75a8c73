"""Role filter: include/exclude keywords on titles and tags, the backend_devops preset, params validation."""
from __future__ import annotations

import pytest

from feed_pipeline.core.role_filter import (
    DEFAULT_API_PRESET,
    RoleFilter,
    RoleFilterError,
    role_filter_from_params,
)


@pytest.fixture(scope="module")
def preset() -> RoleFilter:
    role_filter = role_filter_from_params({}, default_preset=DEFAULT_API_PRESET)
    assert role_filter is not None
    return role_filter


@pytest.mark.parametrize("title", [
    "Senior Backend Engineer",
    "Back-End Developer (Go)",
    "DevOps Engineer",
    "Dev Ops Specialist",
    "Site Reliability Engineer",
    "SRE II",
    "Cloud Architect",
    "Platform Engineer - Kubernetes",
    "Infrastructure Engineers",
    "Sr. backend dev",
])
def test_backend_devops_preset_keeps_backend_and_operations_titles(preset, title):
    assert preset.keeps(title)


@pytest.mark.parametrize("title", ["Registered Nurse", "Frontend Developer", "Data Scientist", "Account Executive",
                                   "Backendless Sales"])
def test_backend_devops_preset_drops_other_titles(preset, title):
    decision = preset.decide(title)
    assert not decision.keep
    assert decision.reason == "no include keyword matched"


def test_a_tag_can_carry_the_match_when_the_title_does_not(preset):
    assert preset.keeps("Software Engineer", ["golang", "devops"])
    assert not preset.keeps("Software Engineer", ["golang", "react"])


def test_keywords_do_not_match_across_title_and_tags():
    role_filter = RoleFilter(include=("site reliability",))
    assert not role_filter.keeps("Site", ["reliability"])


def test_exclude_wins_over_include_and_names_the_keyword():
    role_filter = role_filter_from_params({"exclude": ["sales"]}, default_preset=DEFAULT_API_PRESET)
    decision = role_filter.decide("Cloud Sales Manager")
    assert decision == decision.__class__(False, "excluded by 'sales'")
    assert role_filter.keeps("Cloud Engineer")


def test_feed_keywords_add_to_the_preset():
    role_filter = role_filter_from_params({"include": "data engineer, mlops"}, default_preset=DEFAULT_API_PRESET)
    assert role_filter.keeps("Senior Data Engineer")
    assert role_filter.keeps("MLOps lead")
    assert role_filter.keeps("DevOps Engineer")


@pytest.mark.parametrize("value", ["none", ""])
def test_role_filter_none_keeps_everything(value):
    assert role_filter_from_params({"role_filter": value}, default_preset=DEFAULT_API_PRESET) is None


def test_custom_keywords_without_a_preset():
    role_filter = role_filter_from_params({"role_filter": "none", "include": ["nurse"]},
                                          default_preset=DEFAULT_API_PRESET)
    assert role_filter.keeps("ICU Nurse")
    assert not role_filter.keeps("Backend Engineer")


def test_exclude_only_keeps_everything_else():
    role_filter = role_filter_from_params({"role_filter": "none", "exclude": ["intern"]}, default_preset=None)
    assert role_filter.keeps("Barista")
    assert not role_filter.keeps("Backend Intern")


def test_unknown_preset_is_an_error_listing_the_presets():
    with pytest.raises(RoleFilterError, match=r"'backend' is not a preset; use one of backend_devops or 'none'"):
        role_filter_from_params({"role_filter": "backend"}, default_preset=None)


@pytest.mark.parametrize("params, message", [
    ({"include": 5}, r"params.include must be a list of strings"),
    ({"exclude": ["ok", 3]}, r"params.exclude must be a list of strings"),
    ({"role_filter": ["backend_devops"]}, r"params.role_filter must be a preset name"),
    ({"include": ["++"]}, r"no letters or digits"),
])
def test_malformed_params_are_errors_naming_the_param(params, message):
    with pytest.raises(RoleFilterError, match=message):
        role_filter_from_params(params, default_preset=DEFAULT_API_PRESET)


def test_describe_names_preset_and_keywords():
    role_filter = role_filter_from_params({"exclude": "sales"}, default_preset=DEFAULT_API_PRESET)
    text = role_filter.describe()
    assert text.startswith("preset backend_devops: include backend,")
    assert text.endswith("; exclude sales")
