"""The single Definitions: six partitioned stage assets, their checks, resources, feed_job and the automation.

Resources are chosen from the environment when the code location loads: Gemini when GEMINI_API_KEY is set,
otherwise the offline classifier; Xano at XANO_BASE_URL, otherwise the embedded local sandbox.

Every job runs in process, the asset graph's implicit `__ASSET_JOB` (the UI's Materialize button) as much as
feed_job: the stages hand data over through the database, so a process per step buys nothing but start-up
time. In process, the database resource is set up once per run, which is what takes the feed's lease and
records the run (resources/run_scope.py).
"""
from __future__ import annotations

import os
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
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource

ASSETS = [raw_jobs, deduped_jobs, industry_enriched, function_enriched, routed_jobs, xano_mirror]


def classifier_resource(env: Mapping[str, str]) -> dg.ConfigurableResource:
    """Gemini when a key is configured, the deterministic offline classifier otherwise."""
    if env.get("GEMINI_API_KEY"):
        from feed_pipeline.resources.gemini import GeminiResource

        return GeminiResource.from_env()
    return OfflineClassifierResource()


def xano_throttle(env: Mapping[str, str]) -> dict[str, Any]:
    """XANO_REQUESTS_PER_WINDOW / XANO_WINDOW_SECONDS: the plan's rate limit (free plan: 10 per 20 s)."""
    settings: dict[str, Any] = {}
    if env.get("XANO_REQUESTS_PER_WINDOW"):
        settings["requests_per_window"] = int(env["XANO_REQUESTS_PER_WINDOW"])
    if env.get("XANO_WINDOW_SECONDS"):
        settings["window_seconds"] = float(env["XANO_WINDOW_SECONDS"])
    return settings


def database_resource(env: Mapping[str, str]) -> DatabaseResource:
    """FEED_PIPELINE_DATABASE_URL; FEED_PIPELINE_LEASE_WAIT_S: how long a run waits for its feed's lease."""
    settings: dict[str, Any] = {"url": env.get("FEED_PIPELINE_DATABASE_URL", "")}
    if env.get("FEED_PIPELINE_LEASE_WAIT_S"):
        settings["lease_wait_s"] = float(env["FEED_PIPELINE_LEASE_WAIT_S"])
    return DatabaseResource(**settings)


def build_resources(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    return {
        "database": database_resource(env),
        "classifier": classifier_resource(env),
        "routing": RoutingResource(
            archive_below=float(env.get("FEED_PIPELINE_ARCHIVE_BELOW", "0.5")),
            approve_at=float(env.get("FEED_PIPELINE_APPROVE_AT", "0.86")),
        ),
        "xano": XanoResource.from_env(**xano_throttle(env)),
    }


def build_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[feed_job],
        schedules=[api_feeds_schedule],
        sensors=[*feed_health_sensors, dead_feed_runs_sensor, feed_registry_sensor, feed_update_sensor],
        resources=dict(resources) if resources is not None else build_resources(),
        executor=dg.in_process_executor,
    )


install_log_redaction()  # every process that loads the code location (webserver, daemon, run workers)
defs = build_definitions()
