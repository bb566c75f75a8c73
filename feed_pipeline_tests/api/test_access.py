"""Who may call what (operator endpoints behind the token, job reads configurable), docs that work offline, and
answers of bounded size."""
from __future__ import annotations

import re

import pytest

from feed_pipeline.api.models import LIST_DESCRIPTION_MAX_CHARS, MAX_LISTED_KEYS
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import search
from feed_pipeline_tests.api.conftest import AUTH, KEYS, TOKEN, make_client, operator_client
from feed_pipeline_tests.api.factories import insert_jobs, job_row

OPERATOR_ENDPOINTS = [
    ("GET", "/api/feeds"), ("GET", "/api/feeds/feed-a"), ("GET", "/api/feeds/feed-a/reports"),
    ("POST", "/api/feeds/feed-a/runs"), ("GET", "/api/runs/0e6f0c3e-0000-4000-8000-000000000000"),
    ("POST", "/trigger-feed/feed-a"), ("GET", "/execution-status/feed-a"), ("POST", "/api/jobs/ingest"),
]


@pytest.mark.parametrize(("method", "path"), OPERATOR_ENDPOINTS)
def test_operator_endpoints_are_off_without_a_configured_token(catalogue_url, method, path):
    response = make_client(catalogue_url, token=None).request(method, path, headers={"Authorization": "Bearer x"})

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "token_not_configured"
    assert "FEED_PIPELINE_API_TOKEN" in response.json()["message"]


@pytest.mark.parametrize(("method", "path"), OPERATOR_ENDPOINTS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
def test_operator_endpoints_need_the_right_bearer_token(catalogue_url, method, path, headers):
    response = make_client(catalogue_url, token=TOKEN).request(method, path, headers=headers)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_operator_reads_answer_with_the_token(catalogue_url):
    client = make_client(catalogue_url, token=TOKEN)

    for path in ("/api/feeds", "/api/feeds/feed-a", "/api/feeds/feed-a/reports", "/execution-status/feed-a"):
        assert client.get(path, headers=AUTH).status_code == 200, path


def test_job_reads_are_open_by_default(catalogue_url):
    client = make_client(catalogue_url, token=None)

    assert client.get("/api/jobs").status_code == 200
    assert client.get(f"/api/jobs/{KEYS['a_python']}").status_code == 200


def test_public_jobs_false_puts_job_reads_behind_the_token(catalogue_url):
    client = make_client(catalogue_url, token=TOKEN, public_jobs=False)

    for path in ("/api/jobs", f"/api/jobs/{KEYS['a_python']}"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=AUTH).status_code == 200, path
    closed = make_client(catalogue_url, token=None, public_jobs=False).get("/api/jobs")
    assert closed.status_code == 403 and "FEED_PIPELINE_PUBLIC_JOBS" in closed.json()["message"]
    assert make_client(catalogue_url, public_jobs=False).get("/api/health").status_code == 200


@pytest.mark.parametrize(("value", "public"), [("false", False), ("0", False), ("off", False), ("true", True),
                                               ("", True)])
def test_public_jobs_is_read_from_the_environment(value, public):
    assert ApiSettings.from_env({"FEED_PIPELINE_PUBLIC_JOBS": value}).public_jobs is public


def test_an_unreadable_public_jobs_value_is_refused():
    with pytest.raises(ValueError, match="FEED_PIPELINE_PUBLIC_JOBS"):
        ApiSettings.from_env({"FEED_PIPELINE_PUBLIC_JOBS": "sometimes"})


# --- docs without internet ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_this_server(sqlite_url, page):
    client = make_client(sqlite_url)

    html = client.get(page).text
    referenced = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    scripts = re.findall(r"""<script[^>]*\bsrc\s*=\s*["']([^"']+)["']""", html)

    assert scripts, "the page loads its viewer"
    assert not re.search(r"https?://|cdn\.|googleapis", html)
    for url in referenced:
        assert url.startswith("/") and not url.startswith("//"), url
        response = client.get(url)
        assert response.status_code == 200, url
    for url in scripts:
        response = client.get(url)
        assert "javascript" in response.headers["content-type"] and len(response.content) > 100_000, url


def test_the_schema_the_docs_load_is_served(sqlite_url):
    assert make_client(sqlite_url).get("/openapi.json").json()["info"]["title"] == "feed_pipeline API"


# --- bounded answers -----------------------------------------------------------------------------------------


def test_a_job_merged_from_200000_postings_answers_a_bounded_member_list_with_the_count(db_url):
    engine = engine_for(db_url)
    row = job_row("feed-big", "1", "Warehouse Operative")
    row["member_keys"] = [f"{i:064x}" for i in range(200_000)]
    row["source_ids"] = [str(i) for i in range(200_000)]
    (key,) = insert_jobs(engine, [row])

    response = make_client(db_url).get(f"/api/jobs/{key}")

    assert response.status_code == 200
    body = response.json()
    assert body["member_count"] == 200_000 and len(body["member_keys"]) == MAX_LISTED_KEYS
    assert body["source_id_count"] == 200_000 and len(body["source_ids"]) == MAX_LISTED_KEYS
    assert len(response.content) < 100_000, "one job is kilobytes, not megabytes"


def test_page_sizes_are_capped(catalogue_url):
    client = make_client(catalogue_url)

    assert client.get("/api/jobs", params={"limit": search.MAX_LIMIT + 1}).status_code == 422
    assert operator_client(catalogue_url).get("/api/feeds/feed-a/reports", params={"limit": 201}).status_code == 422


def test_a_page_of_jobs_cuts_long_descriptions_and_the_detail_keeps_them_whole(sqlite_url):
    engine = engine_for(sqlite_url)
    long_text = "Lifting and packing. " * 20_000  # 420,000 characters, under the feed field limit
    (key,) = insert_jobs(engine, [job_row("feed-long", "1", "Warehouse Operative", description=long_text)])
    client = make_client(sqlite_url)

    (listed,) = client.get("/api/jobs", params={"feed_id": "feed-long"}).json()["jobs"]
    detail = client.get(f"/api/jobs/{key}").json()

    assert listed["description_truncated"] is True
    assert listed["description"] == long_text[:LIST_DESCRIPTION_MAX_CHARS]
    assert detail["description"] == long_text and detail["description_truncated"] is False
