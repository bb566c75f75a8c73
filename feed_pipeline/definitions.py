"""The single Definitions: six partitioned stage assets, their checks, resources, feed_job and the automation.

Resources are chosen from the environment (feed_pipeline/settings.py) when the code location loads: Gemini
when GEMINI_API_KEY is set, otherwise the offline classifier; Xano at XANO_BASE_URL, the embedded local sandbox
only when asked for or when nothing is configured (`xano_resource` says when; otherwise loading fails).

Every job runs in process, the asset graph's implicit `__ASSET_JOB` (the UI's Materialize button) as much as
feed_job: the stages hand data over through the database, so a process per step buys nothing but start-up
time. In process, the database resource is set up once per run, which is what takes the feed's lease and
records the run (resources/run_scope.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from feed_pipeline.assets.checks import ASSET_CHECKS
from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.enrich import function_enriched, industry_enriched
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.assets.mirror import xano_mirror
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.automation.health import dead_feed_runs_sensor, feed_health_sensors
from feed_pipeline.automation.jobs import feed_job
from feed_pipeline.automation.schedules import api_feeds_schedule
from feed_pipeline.automation.sensors import feed_registry_sensor, feed_update_sensor
from feed_pipeline.redacted_logging import install_log_redaction
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.job_apis import SECRETS, VARIABLES, JobApiResource
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource, XanoSandboxResource
from feed_pipeline.settings import Settings

ASSETS = [raw_jobs, deduped_jobs, industry_enriched, function_enriched, routed_jobs, xano_mirror]


def classifier_resource(settings: Settings) -> ClassifierResource:
    """Gemini when a key is configured, the deterministic offline classifier otherwise."""
    if settings.gemini_api_key is None:
        return OfflineClassifierResource()
    from feed_pipeline.resources.gemini import GeminiResource

    return GeminiResource(api_key=dg.EnvVar("GEMINI_API_KEY"), **_given(
        model=settings.gemini_model, base_url=settings.gemini_base_url, requests_per_minute=settings.gemini_rpm,
        tokens_per_minute=settings.gemini_tpm, batch_size=settings.gemini_batch_size,
        max_concurrency=settings.gemini_max_concurrency))


def xano_resource(settings: Settings) -> XanoResource:
    """Xano at XANO_BASE_URL; the local sandbox only when asked for (FEED_PIPELINE_XANO_SANDBOX=true) or when
    nothing is configured at all (no database URL either: a fresh clone's `make run` / `make dev`).

    A configuration with a database but neither fails here, when the code location loads, naming XANO_BASE_URL:
    a production deploy never mirrors into a local file by mistake.
    """
    options = _given(table=settings.xano_table, requests_per_window=settings.xano_requests_per_window,
                     window_seconds=settings.xano_window_seconds,
                     token=dg.EnvVar("XANO_TOKEN") if settings.xano_token else None)
    sandbox = settings.xano_sandbox
    if sandbox or (sandbox is None and not settings.xano_base_url and settings.uses_local_database):
        return XanoSandboxResource(**options)
    if not settings.xano_base_url:
        raise dg.DagsterInvalidDefinitionError(
            "XANO_BASE_URL is not set: set it to the Xano API group's base URL (like https://x.xano.io/api:AbCd), "
            "or set FEED_PIPELINE_XANO_SANDBOX=true to mirror into the local sandbox (local runs only)")
    return XanoResource(base_url=settings.xano_base_url, **options)


def job_api_resource(settings: Settings) -> JobApiResource:
    """The job APIs' hosts, and their keys as EnvVars (resolved inside the run, never shown)."""
    values = {name: getattr(settings, name) for name in VARIABLES}
    return JobApiResource(**_given(**{
        name: dg.EnvVar(VARIABLES[name]) if name in SECRETS else value for name, value in values.items() if value}))


def build_resources(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every resource, configured from `env` (default: the process environment) through settings.Settings."""
    settings = Settings.from_env(env)
    return {
        "database": DatabaseResource(url=settings.database_url, **_given(lease_wait_s=settings.lease_wait_s)),
        "classifier": classifier_resource(settings),
        "routing": RoutingResource(**_given(archive_below=settings.archive_below, approve_at=settings.approve_at)),
        "xano": xano_resource(settings),
        "job_apis": job_api_resource(settings),
    }


def _given(**values: Any) -> dict[str, Any]:
    """The values that are set: an unset one leaves the resource's own default (declared once, on the field)."""
    return {name: value for name, value in values.items() if value is not None}


def build_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[feed_job],
        schedules=[api_feeds_schedule],
        sensors=[*feed_health_sensors, dead_feed_runs_sensor, feed_registry_sensor, feed_update_sensor],
        resources=_with_job_apis(resources) if resources is not None else build_resources(),
        executor=dg.in_process_executor,
    )


def _with_job_apis(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Given resources, plus the environment's job-API credentials unless they include their own."""
    return {"job_apis": job_api_resource(Settings.from_env()), **resources}


install_log_redaction()  # every process that loads the code location (webserver, daemon, run workers)
defs = build_definitions()
