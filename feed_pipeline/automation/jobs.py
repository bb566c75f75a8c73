"""`feed_job`: the six stages for one feed partition, in order. Runs come from the UI, CLI, API, sensors, schedule."""
import dagster as dg

FEED_JOB_NAME = "feed_job"
STAGES = ("raw_jobs", "deduped_jobs", "industry_enriched", "function_enriched", "routed_jobs", "xano_mirror")

feed_job = dg.define_asset_job(
    FEED_JOB_NAME,
    selection=dg.AssetSelection.assets(*STAGES),  # the `feeds` partitions come with the assets
    description="Ingest, dedupe, enrich, route and mirror one feed (partition key = feed id).",
    # One process per run, not per step: the stages hand data over through the database, so separate step
    # processes buy nothing but start-up time (13 steps). Feeds still run in parallel, one run each. Run retries
    # (a crashed worker) come from the instance's `run_retries`, the same for every job (dagster.yaml).
    executor_def=dg.in_process_executor,
)
