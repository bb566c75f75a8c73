"""GET /api/feeds, /api/feeds/{id} (health) and /api/feeds/{id}/reports, PUT /api/feeds/{id}/taxonomy, on SQLite
and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from feed_pipeline.core.taxonomy import taxonomy_from_dict
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline_tests.api.conftest import TOKEN, make_client, operator_client
from feed_pipeline_tests.api.factories import at, insert_jobs, job_row


def test_feeds_are_listed_by_id_with_their_health(catalogue_client):
    response = catalogue_client.get("/api/feeds")

    assert response.status_code == 200
    feeds = response.json()
    assert [f["id"] for f in feeds] == ["feed-a", "feed-b"]
    assert feeds[1]["params"] == {"tag": "dev"} and feeds[1]["kind"] == "remoteok"
    assert feeds[0]["health"]["status"] == "never_run"


def test_an_unknown_feed_is_404_everywhere(catalogue_client):
    for path in ("/api/feeds/nope", "/api/feeds/nope/reports"):
        response = catalogue_client.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "feed_not_found"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def feed_with_runs(request, tmp_path_factory):
    """feed-h: a successful run, then a failed one, each with stage figures; `fine`: one good run; `idle`: off.

    Built once per dialect; the tests only read.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('feeds') / 'feeds.sqlite'}"
    else:
        url = request.getfixturevalue("pg_database_factory")()
    engine = engine_for(url)
    feed_store.upsert_feed(engine, "feed-h", url="/feeds/h.xml")
    feed_store.upsert_feed(engine, "fine", url="/feeds/fine.xml")
    feed_store.upsert_feed(engine, "idle", url="/feeds/idle.xml", active=False)
    insert_jobs(engine, [job_row("feed-h", "1"), job_row("feed-h", "2", "Nurse", route="archived")])
    for n, (status, error) in enumerate([(reports.SUCCESS, None), (reports.FAILED, "routed_jobs: boom")]):
        run_id = f"run-{n}"
        reports.report_stage(engine, run_id, "feed-h", "raw_jobs", duration_s=1.5, counts={"raw": 10 + n})
        reports.record_run_outcome(engine, run_id, "feed-h", status, started_at=at(1 + n),
                                   finished_at=at(1 + n) + timedelta(seconds=30), error=error)
    reports.record_run_outcome(engine, "fine-run", "fine", reports.SUCCESS, started_at=at(1))
    return operator_client(url)


def test_feed_detail_shows_health_jobs_by_route_and_the_newest_report(feed_with_runs):
    feed = feed_with_runs.get("/api/feeds/feed-h").json()

    assert feed["health"] == {
        "status": "failing", "last_run_at": "2026-10-02T12:00:30Z", "last_run_status": "failed",
        "run_count": 2, "consecutive_failure_count": 1, "avg_processing_time_s": 30.0,
    }
    assert feed["jobs_by_route"] == {"approved": 1, "archived": 1}
    assert feed["last_report"]["run_id"] == "run-1"
    assert feed["last_report"]["error"] == "routed_jobs: boom"
    assert feed["last_report"]["stages"]["raw_jobs"]["duration_s"] == 1.5


def test_reports_come_newest_first_and_page(feed_with_runs):
    body = feed_with_runs.get("/api/feeds/feed-h/reports").json()

    assert [r["run_id"] for r in body["reports"]] == ["run-1", "run-0"]
    assert [r["status"] for r in body["reports"]] == ["failed", "success"]
    assert body["reports"][1]["counts"] == {"raw": 10}
    second = feed_with_runs.get("/api/feeds/feed-h/reports", params={"limit": 1, "offset": 1}).json()
    assert [r["run_id"] for r in second["reports"]] == ["run-0"]


def test_active_only_hides_disabled_feeds(feed_with_runs):
    every = [f["id"] for f in feed_with_runs.get("/api/feeds").json()]
    active = [f["id"] for f in feed_with_runs.get("/api/feeds", params={"active_only": "true"}).json()]

    assert every == ["feed-h", "fine", "idle"]
    assert active == ["feed-h", "fine"]


def test_a_feed_whose_last_run_succeeded_is_ok(feed_with_runs):
    health = feed_with_runs.get("/api/feeds/fine").json()["health"]

    assert (health["status"], health["consecutive_failure_count"], health["run_count"]) == ("ok", 0, 1)


BOARD_TAXONOMY = {"industries": [{"name": "Property Management", "description": "Apartment communities.",
                                  "functions": [{"name": "Leasing"}, {"name": "Maintenance"}]}]}


def test_a_feed_taxonomy_is_set_validated_and_cleared_with_the_token(db_url):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "board", url="/feeds/board.xml")
    client = make_client(db_url, token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    assert client.put("/api/feeds/board/taxonomy", json={"taxonomy": BOARD_TAXONOMY}).status_code == 401
    response = client.put("/api/feeds/board/taxonomy", json={"taxonomy": BOARD_TAXONOMY}, headers=auth)
    assert response.status_code == 200
    version = response.json()["taxonomy_version"]
    assert version == taxonomy_from_dict(BOARD_TAXONOMY).version
    assert client.get("/api/feeds/board", headers=auth).json()["taxonomy_version"] == version
    assert feed_store.feed_taxonomy(engine, "board").industry_names == ("Property Management",)

    broken = {"industries": [{"name": "Property Management", "functions": [{"name": "Leasing", "keywords": "x"}]}]}
    response = client.put("/api/feeds/board/taxonomy", json={"taxonomy": broken}, headers=auth)
    assert response.status_code == 422 and response.json()["error"] == "invalid_taxonomy"
    assert "industries[0] (Property Management).functions[0] (Leasing).keywords" in response.json()["message"]
    assert client.get("/api/feeds/board", headers=auth).json()["taxonomy_version"] == version, \
        "a refused taxonomy changes nothing"

    assert client.put("/api/feeds/ghost/taxonomy", json={"taxonomy": None}, headers=auth).status_code == 404
    response = client.put("/api/feeds/board/taxonomy", json={"taxonomy": None}, headers=auth)
    assert response.status_code == 200 and response.json()["taxonomy_version"] is None
