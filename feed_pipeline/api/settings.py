"""The API's configuration, taken from the deployment's settings (feed_pipeline.settings) when the app is created."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from feed_pipeline.settings import FALSE_WORDS, TRUE_WORDS, Settings

TOKEN_ENV = "FEED_PIPELINE_API_TOKEN"
GRAPHQL_URL_ENV = "DAGSTER_GRAPHQL_URL"
PUBLIC_JOBS_ENV = "FEED_PIPELINE_PUBLIC_JOBS"


@dataclass(frozen=True)
class ApiSettings:
    """`database_url` None means FEED_PIPELINE_DATABASE_URL or the local SQLite file (store.db).

    `api_token` None turns the operator endpoints (writes, feeds, reports, runs) off. `public_jobs` False puts
    the job reads behind the token too. `dagster_graphql_url` set means runs are launched through that Dagster
    webserver; otherwise they run in this process, one at a time (api.launchers.WorkerRunLauncher says why).
    """

    database_url: str | None = None
    api_token: str | None = None
    dagster_graphql_url: str | None = None
    public_jobs: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        settings = Settings.from_env(env)
        public_jobs = settings.public_jobs.strip().lower()
        if public_jobs and public_jobs not in FALSE_WORDS + TRUE_WORDS:
            raise ValueError(f"{PUBLIC_JOBS_ENV} must be true or false, got {public_jobs!r}")
        return cls(
            database_url=settings.database_url or None,
            api_token=settings.api_token.get_secret_value() if settings.api_token else None,
            dagster_graphql_url=settings.dagster_graphql_url or None,
            public_jobs=public_jobs not in FALSE_WORDS,
        )
