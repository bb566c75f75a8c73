"""GET /api/jobs on SQLite and PostgreSQL: every filter, full-text search, duplicates, sorting, paging, errors."""
from __future__ import annotations

import pytest

from feed_pipeline.store import search
from feed_pipeline_tests.api.conftest import KEYS, names

APPROVED_NEWEST = ["b_python", "a_python", "a_analyst", "b_backend", "a_nurse", "b_nurse", "a_devops"]


def test_default_lists_approved_jobs_newest_first_with_undated_last(catalogue_client):
    response = catalogue_client.get("/api/jobs")

    assert names(response) == APPROVED_NEWEST
    assert response.json()["total"] == 7


def test_equal_posting_times_are_ordered_by_feed_then_job_key(catalogue_client):
    listed = names(catalogue_client.get("/api/jobs", params={"industry": "Healthcare"}))

    assert listed == ["a_nurse", "b_nurse"]  # feed-a < feed-b, same posted_at


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_pages_concatenate_to_the_full_list_without_gaps_or_repeats(catalogue_client, page_size):
    pages = []
    for offset in range(0, 7, page_size):
        response = catalogue_client.get("/api/jobs", params={"limit": page_size, "offset": offset})
        assert response.json()["total"] == 7
        pages += names(response)

    assert pages == APPROVED_NEWEST


def test_offset_past_the_end_gives_an_empty_page_and_the_total(catalogue_client):
    body = catalogue_client.get("/api/jobs", params={"offset": 50}).json()

    assert body == {"total": 7, "total_exact": True, "limit": 50, "offset": 50, "jobs": []}


def test_past_the_exact_count_limit_postgresql_estimates_the_total(catalogue_url, catalogue_client, monkeypatch):
    monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", 3)

    body = catalogue_client.get("/api/jobs").json()

    assert len(body["jobs"]) == 7, "the page itself is complete"
    if catalogue_url.startswith("postgresql"):
        assert (body["total"], body["total_exact"]) == (7, False)  # the planner's estimate, exact after ANALYZE
    else:
        assert (body["total"], body["total_exact"]) == (7, True)


def test_under_the_exact_count_limit_the_total_is_exact(catalogue_client, monkeypatch):
    monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", 7)

    body = catalogue_client.get("/api/jobs").json()

    assert (body["total"], body["total_exact"]) == (7, True)


@pytest.mark.parametrize(("params", "expected"), [
    ({"source": "remoteok"}, ["b_python", "b_backend", "b_nurse"]),
    ({"source": ["remoteok", "xml"]}, APPROVED_NEWEST),
    ({"source": "adzuna"}, []),
    ({"feed_id": "feed-a"}, ["a_python", "a_analyst", "a_nurse", "a_devops"]),
    ({"employment_type": "full_time"}, ["b_python", "a_python", "b_backend", "a_nurse", "b_nurse"]),
    ({"employment_type": "contract"}, ["a_devops"]),
    ({"remote_only": "true"}, ["b_python", "a_python", "a_devops"]),  # a_devops: the AI says remote
    ({"industry": "Healthcare"}, ["a_nurse", "b_nurse"]),
    ({"job_function": "Data Analysis"}, ["a_analyst"]),
    ({"route": "manual_review"}, ["a_intern"]),
    ({"route": "archived"}, ["b_sales"]),
    ({"route": "rejected"}, ["a_closed"]),
    ({"route": "failed"}, []),
    ({"route": "any", "feed_id": "feed-b"}, ["b_python", "b_sales", "b_backend", "b_nurse"]),
    ({"posted_after": "2026-10-08T12:00:00Z"}, ["b_python", "a_python", "a_analyst"]),
    ({"posted_after": "2026-10-08T13:00:00+01:00"}, ["b_python", "a_python", "a_analyst"]),
    ({"posted_after": "2026-10-08T12:00:01"}, ["b_python", "a_python"]),  # no offset: UTC
    ({"feed_id": "feed-a", "employment_type": "full_time", "remote_only": "true"}, ["a_python"]),
    # Places: city in any case; a state or province by code or name; a country in every form feeds write.
    ({"city": "AUSTIN"}, ["a_python"]),
    ({"state": "Texas"}, ["a_python"]),
    ({"state": "ontario"}, ["b_nurse"]),
    ({"country": "USA"}, ["a_python"]),
    ({"country": "Canada"}, ["b_nurse"]),
    ({"country": "uk"}, ["b_backend"]),
    ({"city": "London", "country": "GB"}, ["b_backend"]),
    ({"country": "Atlantis"}, []),
])
def test_filters_select_exactly_the_matching_jobs(catalogue_client, params, expected):
    response = catalogue_client.get("/api/jobs", params=params)

    assert names(response) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(("search", "expected"), [
    ("python", ["b_python", "a_python", "b_backend"]),  # title, skills, description
    ("PYTHON", ["b_python", "a_python", "b_backend"]),
    ("kubernetes", ["a_python"]),  # only in skills
    ("dashboards", ["a_analyst"]),  # only in the description
    ("engineers", ["b_python", "a_python", "a_devops"]),  # stemmed
    ("python engineer", ["b_python", "a_python"]),  # words are ANDed
    ('"patient care"', ["a_nurse", "b_nurse"]),  # a phrase
    ('"care patient"', []),  # word order matters in a phrase
    ("nurse or analyst", ["a_analyst", "a_nurse", "b_nurse"]),
    ("python -remote", ["a_python", "b_backend"]),  # exclusion
    ("-python", ["a_analyst", "a_nurse", "b_nurse", "a_devops"]),  # only an exclusion
    ("terraform or -python", ["a_analyst", "a_nurse", "b_nurse", "a_devops"]),
    ("quantum", []),
])
def test_full_text_search_over_title_description_and_skills(catalogue_client, search, expected):
    response = catalogue_client.get("/api/jobs", params={"search": search})

    assert names(response) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize("search", [
    "'; DROP TABLE jobs; --", "python' OR '1'='1", "\" OR 1=1 --", "title:python", "NEAR(python engineer)",
    "python AND NOT", "python*", "(python", "^python", "python & !java | (go <-> rust):*", "\\", '"', "--",
    "%", "_", "!!!", "OR", "-", "a" * 500, "名前 python", "😀 python",
])
def test_search_strings_with_sql_or_fts_syntax_are_harmless(catalogue_client, search):
    response = catalogue_client.get("/api/jobs", params={"search": search})

    assert response.status_code == 200, response.text
    assert set(names(response)) <= set(KEYS)
    assert catalogue_client.get("/api/jobs").json()["total"] == 7, "the table is intact"


def test_a_search_without_any_word_matches_nothing(catalogue_client):
    assert catalogue_client.get("/api/jobs", params={"search": "!!! ---"}).json()["total"] == 0


def test_a_blank_search_is_no_filter(catalogue_client):
    assert catalogue_client.get("/api/jobs", params={"search": "   "}).json()["total"] == 7


def test_relevance_puts_title_matches_above_description_matches(catalogue_client):
    response = catalogue_client.get("/api/jobs", params={"search": "python", "sort": "relevance"})
    ranked = names(response)

    assert set(ranked[:2]) == {"a_python", "b_python"}
    assert ranked[2] == "b_backend"
    scores = [j["relevance"] for j in response.json()["jobs"]]
    assert scores == sorted(scores, reverse=True)


def test_relevance_without_a_search_orders_newest_first(catalogue_client):
    assert names(catalogue_client.get("/api/jobs", params={"sort": "relevance"})) == APPROVED_NEWEST


@pytest.mark.parametrize(("sort", "expected"), [
    ("oldest", ["a_nurse", "b_nurse", "b_backend", "a_analyst", "a_python", "b_python", "a_devops"]),
    ("salary", ["a_python", "b_backend", "a_nurse", "b_python", "a_analyst", "b_nurse", "a_devops"]),
])
def test_sorts_are_total_orders(catalogue_client, sort, expected):
    assert names(catalogue_client.get("/api/jobs", params={"sort": sort})) == expected


def test_updated_sort_lists_every_job(catalogue_client):
    assert sorted(names(catalogue_client.get("/api/jobs", params={"sort": "updated"}))) == sorted(APPROVED_NEWEST)


def test_distinct_collapses_cross_feed_duplicates_into_the_newest_posting(catalogue_client):
    response = catalogue_client.get("/api/jobs", params={"distinct": "true"})
    body = response.json()

    assert names(response) == ["b_python", "a_analyst", "b_backend", "a_nurse", "b_nurse", "a_devops"]
    assert body["total"] == 6
    counts = {j["job_key"]: j["duplicate_count"] for j in body["jobs"]}
    assert counts[KEYS["b_python"]] == 2
    assert counts[KEYS["a_nurse"]] == 1  # no dedupe_key: a group of its own


def test_distinct_applies_after_the_filters(catalogue_client):
    response = catalogue_client.get("/api/jobs", params={"distinct": "true", "feed_id": "feed-a", "search": "python"})

    assert names(response) == ["a_python"]
    assert response.json()["jobs"][0]["duplicate_count"] == 1


def test_distinct_pages_are_stable(catalogue_client):
    pages = []
    for offset in range(0, 6, 4):
        pages += names(catalogue_client.get("/api/jobs", params={"distinct": "true", "limit": 4, "offset": offset}))

    assert pages == ["b_python", "a_analyst", "b_backend", "a_nurse", "b_nurse", "a_devops"]


def test_a_job_carries_its_fields_locations_salary_and_enrichment(catalogue_client):
    job = catalogue_client.get("/api/jobs", params={"feed_id": "feed-a", "limit": 1}).json()["jobs"][0]

    assert job["job_key"] == KEYS["a_python"]
    assert job["title"] == "Senior Python Engineer"
    assert job["locations"] == ["Austin, TX, US"]
    assert job["location"] == {"city": "Austin", "state": "TX", "country": "US", "postal_code": None}
    assert job["salary"] == {"min": 120000.0, "max": 150000.0, "currency": "USD", "period": "year"}
    assert job["enrichment"]["industry"] == "Information Technology"
    assert job["enrichment"]["skills"] == ["Python", "Kubernetes"]
    assert job["posted_at"] == "2026-10-10T12:00:00Z"
    assert job["route"] == "approved"
    assert "relevance" in job and job["relevance"] is None


def test_a_job_without_salary_has_null_salary(catalogue_client):
    job = catalogue_client.get("/api/jobs", params={"job_function": "DevOps"}).json()["jobs"][0]

    assert job["salary"] is None


@pytest.mark.parametrize(("params", "parameter"), [
    ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": 10_000_001}, "offset"),
    ({"employment_type": "fulltime"}, "employment_type"),
    ({"route": "open"}, "route"),
    ({"sort": "best"}, "sort"),
    ({"posted_after": "yesterday"}, "posted_after"),
    ({"remote_only": "maybe"}, "remote_only"),
    ({"search": "python\x00"}, "search"),
    ({"search": "x" * 501}, "search"),
    ({"feed_id": "f" * 201}, "feed_id"),
])
def test_bad_parameters_are_422_naming_the_parameter(catalogue_client, params, parameter):
    response = catalogue_client.get("/api/jobs", params=params)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert parameter in body["message"]
    assert any(parameter in d["loc"] for d in body["details"])
