"""GET /api/health answers 200 when the database does and 503 (JSON) when it does not."""
from __future__ import annotations

from alembic.script import ScriptDirectory

from feed_pipeline.store.db import alembic_config
from feed_pipeline_tests.api.conftest import TOKEN, make_client


def test_health_is_ok_when_the_database_answers(db_url):
    response = make_client(db_url, token=TOKEN).get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == db_url.split(":")[0]
    assert body["schema_revision"] == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert body["writes_enabled"] is True
    assert body["run_launcher"] == "worker"


def test_health_is_503_when_the_database_is_down():
    client = make_client("postgresql://postgres@127.0.0.1:1/feed_pipeline_nowhere?connect_timeout=2")

    response = client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert "FEED_PIPELINE_DATABASE_URL" in response.json()["message"]


def test_other_endpoints_also_answer_503_while_the_database_is_down():
    client = make_client("postgresql://postgres@127.0.0.1:1/feed_pipeline_nowhere?connect_timeout=2")

    for path in ("/api/jobs", "/api/feeds"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.json()["error"] == "database_unavailable"


def test_unknown_paths_are_json_404s(sqlite_url):
    response = make_client(sqlite_url).get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no such endpoint; see /docs for the API",
                               "details": None}


def test_openapi_docs_are_served(sqlite_url):
    client = make_client(sqlite_url)

    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/jobs" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
