"""GET /api/jobs/{job_key} and POST /api/jobs/{job_key}/review (Bearer-token writes), on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from feed_pipeline.resources.database import engine_for
from feed_pipeline.store.schema import review_decisions
from feed_pipeline_tests.api.conftest import KEYS, TOKEN, make_client
from feed_pipeline_tests.api.factories import at, insert_jobs, job_row


def test_job_detail_has_every_field_and_the_route_history(catalogue_client):
    response = catalogue_client.get(f"/api/jobs/{KEYS['a_closed']}")

    assert response.status_code == 200
    job = response.json()
    assert job["title"] == "Closed Python role"
    assert job["route"] == "rejected" and job["reason"] == "closed"
    assert job["member_keys"] == [KEYS["a_closed"]]
    assert job["extra"] == {}
    assert [(h["route"], h["reason"], h["run_id"]) for h in job["route_history"]] == [("rejected", "closed", "run-1")]
    assert job["review"] is None


def test_unknown_job_is_a_json_404(catalogue_client):
    response = catalogue_client.get("/api/jobs/does-not-exist")

    assert response.status_code == 404
    assert response.json()["error"] == "job_not_found"
    assert "does-not-exist" in response.json()["message"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def review_db(request, tmp_path_factory):
    """One database per dialect for this module; each test reviews a job of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('reviews') / 'reviews.sqlite'}"
    return request.getfixturevalue("pg_database_factory")()


def _job_db(url: str):
    engine = engine_for(url)
    key, = insert_jobs(engine, [job_row("feed-r", uuid.uuid4().hex, "Python Intern", route="manual_review",
                                        posted_at=at(3))])
    return url, engine, key


@pytest.fixture
def job_db(review_db):
    return _job_db(review_db)


@pytest.fixture
def sqlite_job_db(sqlite_url):
    """For checks made before the database is touched (auth, body validation): one dialect is enough."""
    return _job_db(sqlite_url)


def test_writes_are_off_without_a_configured_token(job_db):
    url, engine, key = job_db
    client = make_client(url, token=None)

    response = client.post(f"/api/jobs/{key}/review", json={"decision": "approve"},
                           headers={"Authorization": "Bearer anything"})

    assert response.status_code == 403
    assert response.json()["error"] == "token_not_configured"
    assert "FEED_PIPELINE_API_TOKEN" in response.json()["message"]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(review_decisions).where(review_decisions.c.job_key == key)).all()
    assert stored == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": TOKEN}])
def test_a_missing_or_wrong_token_is_401(sqlite_job_db, headers):
    url, _, key = sqlite_job_db
    client = make_client(url, token=TOKEN)

    response = client.post(f"/api/jobs/{key}/review", json={"decision": "approve"}, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


def test_review_records_the_decision_on_the_current_content(job_db):
    url, engine, key = job_db
    client = make_client(url, token=TOKEN)

    response = client.post(f"/api/jobs/{key}/review", json={"decision": "approve", "note": "checked by hand"},
                           headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["decision"] == "approve" and decision["decided_by"] == "api"
    with engine.connect() as conn:
        stored = conn.execute(sa.select(review_decisions).where(review_decisions.c.job_key == key)).mappings().one()
    assert (stored["job_key"], stored["decision"], stored["note"]) == (key, "approve", "checked by hand")
    detail = client.get(f"/api/jobs/{key}").json()
    assert detail["review"]["decision"] == "approve"
    assert detail["review"]["content_hash"] == detail["content_hash"]


def test_a_second_review_replaces_the_first(job_db):
    url, _, key = job_db
    client = make_client(url, token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    client.post(f"/api/jobs/{key}/review", json={"decision": "approve"}, headers=auth)
    client.post(f"/api/jobs/{key}/review", json={"decision": "reject", "decided_by": "ana"}, headers=auth)

    review = client.get(f"/api/jobs/{key}").json()["review"]
    assert (review["decision"], review["decided_by"]) == ("reject", "ana")


@pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": "approve", "note": "x" * 2001},
                                  {"decision": "approve", "note": "nul\x00"}])
def test_an_invalid_review_body_is_422(sqlite_job_db, body):
    url, _, key = sqlite_job_db
    response = make_client(url, token=TOKEN).post(f"/api/jobs/{key}/review", json=body,
                                                  headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_reviewing_an_unknown_job_is_404(job_db):
    url, _, _ = job_db
    response = make_client(url, token=TOKEN).post("/api/jobs/nope/review", json={"decision": "reject"},
                                                  headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 404
    assert response.json()["error"] == "job_not_found"
