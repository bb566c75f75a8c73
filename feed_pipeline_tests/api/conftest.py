"""API fixtures: a seeded job catalogue per dialect (shared by the read-only tests) and app clients."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from feed_pipeline.api.app import create_app
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import feeds as feed_store
from feed_pipeline_tests.api.factories import at, insert_jobs, job_row

TOKEN = "test-token-0123456789"

# name -> row; names let tests state expectations without repeating job keys.
CATALOGUE = {
    "a_python": job_row("feed-a", "a1", "Senior Python Engineer", description="Build APIs with FastAPI.",
                        skills=["Python", "Kubernetes"], employment_type="full_time", is_remote=True,
                        salary_min=120000.0, salary_max=150000.0, salary_currency="USD", salary_period="year",
                        posted_at=at(10), locations=["Austin, TX, US"], city="Austin", state="TX", country="US",
                        dedupe_key="dk-python"),
    "a_analyst": job_row("feed-a", "a2", "Data Analyst", description="SQL dashboards and Excel reporting.",
                         skills=["SQL", "Tableau"], employment_type="part_time", is_remote=False,
                         remote_policy="hybrid", posted_at=at(8), job_function="Data Analysis",
                         dedupe_key="dk-analyst"),
    "a_nurse": job_row("feed-a", "a3", "Registered Nurse", description="Patient care in a busy ward.",
                       skills=["Patient care"], employment_type="full_time", posted_at=at(6),
                       industry="Healthcare", job_function="Nursing", salary_min=60000.0, salary_currency="USD"),
    "a_devops": job_row("feed-a", "a4", "DevOps Engineer", description="Terraform and AWS pipelines.",
                        skills=["AWS", "Terraform"], employment_type="contract", remote_policy="remote",
                        posted_at=None, job_function="DevOps"),
    "a_intern": job_row("feed-a", "a5", "Python Intern", description="Learn python.", posted_at=at(9),
                        route="manual_review", routing_confidence=0.7),
    "a_closed": job_row("feed-a", "a6", "Closed Python role", description="Gone.", posted_at=at(4),
                        route="rejected", reason="closed"),
    "b_python": job_row("feed-b", "b1", "Senior Python Engineer", source="remoteok",
                        description="Remote Python role building APIs.", skills=["Python"],
                        employment_type="full_time", is_remote=True, posted_at=at(12), dedupe_key="dk-python"),
    "b_backend": job_row("feed-b", "b2", "Backend Developer", source="remoteok",
                         description="Go microservices, some python scripting.", skills=["Go"],
                         employment_type="full_time", posted_at=at(7), salary_max=90000.0,
                         salary_currency="USD", city="London", country="United Kingdom"),
    "b_sales": job_row("feed-b", "b3", "Sales Associate", source="remoteok", description="Retail sales.",
                       posted_at=at(11), route="archived", industry="Retail", job_function="Sales"),
    # Same posting time as a_nurse: only the primary key orders these two.
    "b_nurse": job_row("feed-b", "b4", "Night Nurse", source="remoteok", description="Night shifts, patient care.",
                       employment_type="full_time", posted_at=at(6), industry="Healthcare",
                       job_function="Nursing", city="Toronto", state="ON", country="CA"),
}
KEYS = {name: row["job_key"] for name, row in CATALOGUE.items()}
NAMES = {key: name for name, key in KEYS.items()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalogue_url(request, tmp_path_factory) -> str:
    """A database holding CATALOGUE and two feeds, built once per module per dialect; tests must not write."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('catalogue') / 'catalogue.sqlite'}"
    else:
        url = request.getfixturevalue("pg_database_factory")()
    engine = engine_for(url)
    feed_store.upsert_feed(engine, "feed-a", url="/feeds/a.xml", name="Feed A")
    feed_store.upsert_feed(engine, "feed-b", url=None, kind="remoteok", name="Feed B", params={"tag": "dev"})
    insert_jobs(engine, list(CATALOGUE.values()))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE jobs"))  # planner estimates (used for large totals) see the rows
    return url


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(database_url: str, token: str | None = None, *, send_token: bool = False,
                public_jobs: bool = True, **kwargs) -> TestClient:
    """An app on `database_url` configured with `token`; `send_token` makes every request carry it."""
    app = create_app(settings=ApiSettings(database_url=database_url, api_token=token, public_jobs=public_jobs),
                     **kwargs)
    return TestClient(app, raise_server_exceptions=False, headers={**AUTH} if send_token else None)


def operator_client(database_url: str, **kwargs) -> TestClient:
    """A client of an app with the API token configured, sending it with every request."""
    return make_client(database_url, token=TOKEN, send_token=True, **kwargs)


@pytest.fixture(scope="module")
def catalogue_client(catalogue_url) -> TestClient:
    return operator_client(catalogue_url)


def names(response) -> list[str]:
    """The catalogue names of the jobs in a /api/jobs response, in order."""
    assert response.status_code == 200, response.text
    return [NAMES[j["job_key"]] for j in response.json()["jobs"]]
