"""feed_pipeline/settings.py: the one reader of the environment, its defaults, and secrets kept out of sight."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import feed_pipeline
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.automation.schedules import interval_minutes
from feed_pipeline.settings import DEFAULT_DAGSTER_HOME, DEFAULT_STATE_DIR, Settings
from feed_pipeline.sources.http_fetch import private_urls_allowed

PACKAGE = Path(feed_pipeline.__file__).parent
ENV_ACCESS = re.compile(r"os\.environ|getenv|environ\.get")


def test_only_the_settings_module_reads_the_environment():
    readers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if ENV_ACCESS.search(path.read_text(encoding="utf-8")))
    assert readers == ["settings.py"]


def test_nothing_set_gives_the_defaults():
    settings = Settings.from_env({})
    assert (settings.database_url, settings.state_dir, settings.dagster_home, settings.taxonomy_path) == (
        "", DEFAULT_STATE_DIR, DEFAULT_DAGSTER_HOME, "")
    assert settings.uses_local_database and settings.xano_sandbox is None and settings.allow_private_urls is False
    assert (settings.archive_below, settings.approve_at, settings.gemini_api_key, settings.xano_token) == (
        None, None, None, None)


def test_variables_are_read_by_name_and_empty_ones_count_as_unset():
    settings = Settings.from_env({
        "FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds", "FEED_PIPELINE_STATE_DIR": "  ",
        "FEED_PIPELINE_ARCHIVE_BELOW": "0.4", "FEED_PIPELINE_XANO_SANDBOX": "yes", "DAGSTER_HOME": "/srv/dagster",
        "FEED_PIPELINE_TAXONOMY": "/etc/taxonomy.json", "XANO_REQUESTS_PER_WINDOW": "10", "UNRELATED": "x"})
    assert settings.database_url == "postgresql://db/feeds" and not settings.uses_local_database
    assert settings.state_dir == DEFAULT_STATE_DIR and settings.state_path("reports") == Path(".feed_pipeline/reports")
    assert (settings.archive_below, settings.xano_sandbox, settings.dagster_home, settings.taxonomy_path,
            settings.xano_requests_per_window) == (0.4, True, "/srv/dagster", "/etc/taxonomy.json", 10)


def test_secrets_are_never_shown():
    settings = Settings.from_env({"GEMINI_API_KEY": "g-secret", "XANO_TOKEN": "x-secret", "RAPIDAPI_KEY": "r-secret",
                                  "ADZUNA_APP_KEY": "a-secret", "FEED_PIPELINE_API_TOKEN": "api-secret"})
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert not any(secret in shown for secret in ("g-secret", "x-secret", "r-secret", "a-secret", "api-secret"))
    assert settings.xano_token.get_secret_value() == "x-secret"


def test_a_malformed_value_names_its_variable():
    with pytest.raises(ValidationError, match=r"FEED_PIPELINE_APPROVE_AT\n  Input should be a valid number"):
        Settings.from_env({"FEED_PIPELINE_APPROVE_AT": "high"})
    with pytest.raises(ValidationError, match=r"FEED_PIPELINE_XANO_SANDBOX\n  Input should be a valid boolean"):
        Settings.from_env({"FEED_PIPELINE_XANO_SANDBOX": "perhaps"})


def test_the_modules_that_used_to_read_the_environment_take_it_from_settings(monkeypatch):
    monkeypatch.setenv("FEED_PIPELINE_ALLOW_PRIVATE_URLS", "on")
    monkeypatch.setenv("INGESTION_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("FEED_PIPELINE_API_TOKEN", "t0ken")
    monkeypatch.setenv("FEED_PIPELINE_PUBLIC_JOBS", "false")
    assert private_urls_allowed() is True and private_urls_allowed({}) is False
    assert interval_minutes() == 15 and interval_minutes({}) == 30
    api = ApiSettings.from_env()
    assert (api.api_token, api.public_jobs) == ("t0ken", False)
