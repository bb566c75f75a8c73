"""The job APIs' credentials and hosts as a resource, so the sources never read the environment themselves."""
from __future__ import annotations

import dagster as dg
from pydantic import Field

# field -> the variable that configures it; the sources read their settings by these names, so their errors
# ("the adzuna source needs ADZUNA_APP_ID") tell the operator what to set.
VARIABLES = {
    "rapidapi_key": "RAPIDAPI_KEY",
    "adzuna_app_id": "ADZUNA_APP_ID",
    "adzuna_app_key": "ADZUNA_APP_KEY",
    "remoteok_base_url": "REMOTEOK_BASE_URL",
    "jsearch_base_url": "JSEARCH_BASE_URL",
    "adzuna_base_url": "ADZUNA_BASE_URL",
}
SECRETS = ("rapidapi_key", "adzuna_app_id", "adzuna_app_key")  # core/redact.py counts an app id as secret too


class JobApiResource(dg.ConfigurableResource):
    """RemoteOK, JSearch and Adzuna settings. definitions.py passes the secrets as EnvVars (never shown)."""

    rapidapi_key: str | None = Field(default=None, description="RAPIDAPI_KEY: a RapidAPI key subscribed to JSearch")
    adzuna_app_id: str | None = Field(default=None, description="ADZUNA_APP_ID (developer.adzuna.com)")
    adzuna_app_key: str | None = Field(default=None, description="ADZUNA_APP_KEY (developer.adzuna.com)")
    remoteok_base_url: str | None = Field(default=None, description="REMOTEOK_BASE_URL; None = remoteok.com")
    jsearch_base_url: str | None = Field(default=None, description="JSEARCH_BASE_URL; None = RapidAPI's host")
    adzuna_base_url: str | None = Field(default=None, description="ADZUNA_BASE_URL; None = api.adzuna.com")

    def as_env(self) -> dict[str, str]:
        """The settings that are set, by variable name: what `sources.registry.open_feed(env=...)` takes."""
        values = {variable: getattr(self, name) for name, variable in VARIABLES.items()}
        return {variable: value for variable, value in values.items() if value}
