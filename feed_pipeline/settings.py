"""The deployment's environment, read in one place: every variable the package honours outside Dagster's
resource fields (README.md "Environment" lists them all).

`Settings.from_env()` reads the process environment; tests pass a mapping instead. An empty variable counts
as unset. Values whose parse has its own clear error (INGESTION_INTERVAL_MINUTES, FEED_PIPELINE_PUBLIC_JOBS,
FEED_PIPELINE_MAX_FEED_BYTES) stay text here and are checked where they are used, so one bad variable fails
only what uses it. Secrets are `SecretStr`: a printed or logged Settings never shows them.

`definitions.py` is the only other module that touches the environment, and only through `dg.EnvVar`, so
Dagster resolves secrets inside the run and never shows them in the UI.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr

DEFAULT_STATE_DIR = ".feed_pipeline"
DEFAULT_DAGSTER_HOME = ".dagster_home"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _env(name: str, default: object = None, **kwargs: object):
    """A field read from the variable `name` (also settable by its field name, for tests)."""
    return Field(default, validation_alias=AliasChoices(name), **kwargs)


class Settings(BaseModel):
    """Every environment variable the package reads; field names are the variables' meanings."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # storage
    database_url: str = _env("FEED_PIPELINE_DATABASE_URL", "", description="SQLAlchemy URL; empty = local SQLite")
    state_dir: str = _env("FEED_PIPELINE_STATE_DIR", DEFAULT_STATE_DIR, description="local state and reports")
    dagster_home: str = _env("DAGSTER_HOME", DEFAULT_DAGSTER_HOME, description="the Dagster instance's folder")
    lease_wait_s: float | None = _env("FEED_PIPELINE_LEASE_WAIT_S", description="a run's wait for its feed's lease")
    # classification and routing
    taxonomy_path: str = _env("FEED_PIPELINE_TAXONOMY", "", description="taxonomy JSON file; empty = bundled")
    archive_below: float | None = _env("FEED_PIPELINE_ARCHIVE_BELOW", description="routing archive threshold")
    approve_at: float | None = _env("FEED_PIPELINE_APPROVE_AT", description="routing approve threshold")
    gemini_api_key: SecretStr | None = _env("GEMINI_API_KEY", description="set: Gemini; unset: offline classifier")
    gemini_model: str | None = _env("GEMINI_MODEL")
    gemini_base_url: str | None = _env("GEMINI_BASE_URL")
    gemini_rpm: int | None = _env("GEMINI_RPM")
    gemini_tpm: int | None = _env("GEMINI_TPM")
    gemini_batch_size: int | None = _env("GEMINI_BATCH_SIZE")
    gemini_max_concurrency: int | None = _env("GEMINI_MAX_CONCURRENCY")
    # the Xano mirror
    xano_base_url: str = _env("XANO_BASE_URL", "", description="the API group's base URL")
    xano_table: str | None = _env("XANO_TABLE")
    xano_token: SecretStr | None = _env("XANO_TOKEN")
    xano_requests_per_window: int | None = _env("XANO_REQUESTS_PER_WINDOW")
    xano_window_seconds: float | None = _env("XANO_WINDOW_SECONDS")
    xano_sandbox: bool | None = _env("FEED_PIPELINE_XANO_SANDBOX", description="mirror into the local sandbox")
    # sources
    allow_private_urls: bool = _env("FEED_PIPELINE_ALLOW_PRIVATE_URLS", False)
    max_feed_bytes: str = _env("FEED_PIPELINE_MAX_FEED_BYTES", "", description="checked by sources.feed_bytes")
    rapidapi_key: SecretStr | None = _env("RAPIDAPI_KEY", description="JSearch")
    adzuna_app_id: SecretStr | None = _env("ADZUNA_APP_ID")
    adzuna_app_key: SecretStr | None = _env("ADZUNA_APP_KEY")
    remoteok_base_url: str | None = _env("REMOTEOK_BASE_URL")
    jsearch_base_url: str | None = _env("JSEARCH_BASE_URL")
    adzuna_base_url: str | None = _env("ADZUNA_BASE_URL")
    # automation and the API
    ingestion_interval_minutes: str = _env("INGESTION_INTERVAL_MINUTES", "", description="checked by schedules")
    api_token: SecretStr | None = _env("FEED_PIPELINE_API_TOKEN", description="unset: operator endpoints off")
    dagster_graphql_url: str | None = _env("DAGSTER_GRAPHQL_URL")
    public_jobs: str = _env("FEED_PIPELINE_PUBLIC_JOBS", "", description="checked by api.settings")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in `env` (default: the process environment); empty variables count as unset."""
        env = os.environ if env is None else env
        return cls.model_validate({name: value for name, value in env.items() if value.strip()})

    @property
    def uses_local_database(self) -> bool:
        """No database URL configured: the embedded SQLite file, i.e. a local run (`make run`, `make dev`)."""
        return not self.database_url

    def state_path(self, *parts: str) -> Path:
        return Path(self.state_dir, *parts)


def process_environment() -> Mapping[str, str]:
    """The whole environment, live: `${NAME}` references in feed URLs may name any variable."""
    return os.environ
