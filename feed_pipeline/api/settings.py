"""The API's configuration, read from the environment once when the app is created."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

TOKEN_ENV = "FEED_PIPELINE_API_TOKEN"
GRAPHQL_URL_ENV = "DAGSTER_GRAPHQL_URL"
PUBLIC_JOBS_ENV = "FEED_PIPELINE_PUBLIC_JOBS"
FALSE_WORDS = ("0", "false", "no", "off")
TRUE_WORDS = ("1", "true", "yes", "on")


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
        env = os.environ if env is None else env
        public_jobs = env.get(PUBLIC_JOBS_ENV, "").strip().lower()
        if public_jobs and public_jobs not in FALSE_WORDS + TRUE_WORDS:
            raise ValueError(f"{PUBLIC_JOBS_ENV} must be true or false, got {public_jobs!r}")
        return cls(
            database_url=env.get("FEED_PIPELINE_DATABASE_URL") or None,
            api_token=env.get(TOKEN_ENV) or None,
            dagster_graphql_url=env.get(GRAPHQL_URL_ENV) or None,
            public_jobs=public_jobs not in FALSE_WORDS,
        )
