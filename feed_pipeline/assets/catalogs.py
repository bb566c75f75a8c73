"""What every metadata key of the six stage assets means: the descriptions the UI shows beside each value.

Each asset emits through its catalog, so a key without a description here is caught at once
(UndescribedMetadataWarning).
"""

from feed_pipeline.assets.common import MetadataCatalog
from feed_pipeline.assets.versions import SKIP_METADATA_DESCRIPTIONS
from feed_pipeline.core.evaluation import LABEL_METADATA_DESCRIPTIONS
from feed_pipeline.pipeline.route import REVIEW_SAMPLE_SIZE

RAW_METADATA = MetadataCatalog("raw_jobs", {
    "dagster/row_count": "postings of the feed's latest version held in raw_jobs (all reasons)",
    "skipped_unchanged": "true when the feed's version (ETag, Last-Modified or content hash) had not changed and "
                         "nothing was parsed: the figures below are then the last ingest's, still true of the data",
    "written_this_run": "postings this run wrote: new or changed since the last ingest (0 when nothing changed)",
    "kept_unread": "postings whose records were read byte for byte as at the last ingest: their stored rows were "
                   "kept without normalizing the records again (XML feeds)",
    "accepted": "postings of the latest version that were not rejected (closed, expired, invalid)",
    "bytes_read": "bytes of the feed read by the ingest that produced the data",
    "profile": "XML profile (field mapping) used; empty for job API feeds",
    "complete": "false when the document or a source ended early: no job is treated as removed on this run",
    "incomplete_reason": "why the ingest was incomplete (only when it was)",
    "records_per_s": "parse speed of this run (only when it parsed)",
    "by_rejection_reason": "postings held, by rejection reason (accepted = kept)",
    "coverage": "share of postings (closure notices excluded) with each field, and the previous ingest's share",
    "source_errors": "job API sources that failed, with the error (multi feeds; only when any failed)",
    "reader_stats": "the reader's own figures for this read (encoding, transport, restarts, repaired records...)",
})

DEDUPED_METADATA = MetadataCatalog("deduped_jobs", {
    "dagster/row_count": "jobs after pass 1 (one per role)",
    "input_jobs": "accepted raw postings merged",
    "output_jobs": "jobs after pass 1 (one per role)",
    "duplicate_rate": "1 - output_jobs / input_jobs: the share of postings that were another posting's role",
    "merged_groups": "jobs made of two or more postings",
    "largest_group": "postings in the largest merged job",
    "blocks": "title/company blocks compared",
    "largest_block": "postings in the largest block (cost grows with it)",
    "largest_block_key": "block_key of the largest block (to look it up in raw_jobs)",
    "windowed_blocks": "blocks too large to compare whole, read in sorted windows",
    "comparisons": "description pairs scored",
    "multi_location_jobs": "jobs posted in more than one location",
    "total_locations": "locations over all jobs",
    "locations_per_job": "jobs by how many locations they carry",
    "split_groups": "roles with more postings than one job may hold (max_members), split into several jobs",
    "split_jobs": "the jobs those split roles became",
    "reused_blocks": "blocks whose postings had not changed since the last run: their jobs kept, not re-clustered",
    **SKIP_METADATA_DESCRIPTIONS,
})

_USAGE_DESCRIPTIONS = {
    "model": "the classifier's model: a Gemini model name, or the offline classifier's name and version",
    "prompt_version": "version of the prompts and response rules, both stages (each stage's own is part of its "
                      "cache key)",
    "ai_calls": "requests sent to the model this run (0 for the offline classifier or a full cache)",
    "ai_input_tokens": "prompt tokens billed this run",
    "ai_output_tokens": "response tokens billed this run",
    "ai_cache_hits": "jobs answered from the enrichment cache, no call",
    "ai_retries": "requests retried (429, 5xx, timeouts, invalid answers)",
    "ai_estimated_cost_usd": "estimated cost of this run's calls at list prices",
    "ai_quota_exhausted": "true when a daily quota ran out: the rest failed and is retried next run",
    "ai_helper_batches": "batches the offline classifier's helper processes answered (0: this process alone)",
}
INDUSTRY_METADATA = MetadataCatalog("industry_enriched", {
    "dagster/row_count": "jobs after the pass 2 merge",
    "by_status": "jobs by stage 1 status after pass 2: ok, archived (below the archive threshold), failed",
    "pass2_merged_away": "jobs merged into another by pass 2 (same AI title, company and type, similar text)",
    "pass2_groups": "jobs pass 2 made from two or more",
    "before_pass2": "stage 1 status/function status counts of the deduped jobs before the pass 2 merge (a merged "
                    "job counted once per job it merged, with its merged status)",
    "answered_jobs": "deduped jobs whose stage 1 answer was read again this run (from the cache where their input "
                     "is unchanged): the jobs that changed and those of the pass 2 groups they leave or join",
    "kept_rows": "enrichment rows kept from the last run because the jobs they stand for did not change",
    "taxonomy_version": "content hash of the taxonomy the feed is classified in (its own, the deployment's or the "
                        "bundled one)",
    "category_hint": "whether the feed's own category went to the classifier as a hint (feed param category_hint)",
    **_USAGE_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})
FUNCTION_METADATA = MetadataCatalog("function_enriched", {
    "jobs_classified": "jobs with a stage 2 answer to give (stage 1 status ok), the whole feed's",
    "answered_jobs": "of those, the jobs answered this run (from the cache or the model): the rows stage 1 rewrote, "
                     "the failed ones, and every job of an industry whose functions or prompt changed",
    "industries": "industries those jobs fall in (one request group each)",
    "jobs_per_industry": "jobs with a stage 2 answer, by industry",
    "by_function_status": "jobs by stage 2 status: ok, no_fit (none of the industry's functions fits), failed, "
                          "skipped (archived at stage 1)",
    **_USAGE_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})

ROUTED_METADATA = MetadataCatalog("routed_jobs", {
    "dagster/row_count": "jobs of the feed in `jobs` after this run, all routes",
    "routes": "jobs by route after this run (rejected = closed, expired, invalid or removed)",
    "removed": "jobs that left the feed in this run (marked rejected/removed); 0 after an incomplete ingest",
    "routed_again": "enriched jobs routed again this run because their enrichment, review decision or the routing "
                    "settings changed (the others kept their route and row)",
    "ingest_complete": "false when the last ingest was incomplete, so no job could be marked removed",
    "thresholds": "the routing resource's thresholds this run used: archived below archive_below, approved "
                  "at approve_at or above, manual review between",
    "confidence_histogram": "routing confidences of this run's routed jobs, in bins whose edges include the "
                            "thresholds, so each bin is one route's",
    "manual_review_sample": f"the {REVIEW_SAMPLE_SIZE} manual-review jobs nearest approval, highest confidence "
                            "first, with company and link",
    **LABEL_METADATA_DESCRIPTIONS,
    **SKIP_METADATA_DESCRIPTIONS,
})

MIRROR_METADATA = MetadataCatalog("xano_mirror", {
    "approved_jobs": "approved jobs of the feed: the records Xano should hold",
    "added": "records created (POST)",
    "updated": "records patched with their changed fields (PATCH)",
    "deleted": "records deleted: stale jobs and extra copies (DELETE, 404 counted as done)",
    "unchanged": "records already exact: no call",
    "deletes_blocked": "why the safety valve held back the stale deletes (empty when it did not)",
    "deletes_skipped": "stale records the safety valve left in place",
    "duplicates_removed": "extra copies of one job removed (always allowed)",
    "already_gone": "deletes answered 404",
    "already_present": "adds skipped because the job's record appeared since the listing (another writer raced)",
    "existing_records": "the feed's records in Xano before the sync, copies included",
    "desired_records": "records the feed should have after the sync",
    "foreign_records": "other feeds' and unkeyed records listed and left alone",
    "calls": "HTTP requests made to Xano",
    "list_calls": "list-page requests (the whole table is listed: Xano's GET has no filter)",
    "write_calls": "POST/PATCH/DELETE requests",
    "retries": "requests retried after 5xx, timeouts or dropped connections",
    "rate_limited": "429 answers received",
    "rate_limit_wait_s": "seconds waited on 429s",
    "backoff_wait_s": "seconds waited between retries",
    "elapsed_s": "seconds the sync took",
    "record_error_count": "records Xano refused (4xx on one record); the others went on",
    "record_errors": "the first refused records, with Xano's answer",
})
