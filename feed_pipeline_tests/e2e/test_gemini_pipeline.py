"""feed_job with Gemini: the real google-genai client against the loopback Gemini server.

Covers what only the assets can show: the cache (a rerun makes no call), resuming after a per-day quota stop
(only the unfinished jobs are sent again), and the pass 2 merge on the standardized title.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.definitions import build_definitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.gemini import GeminiResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.schema import jobs
from feed_pipeline_tests.fakes.gemini_server import FakeGeminiServer, Fault, default_industry_item


def _gemini(server: FakeGeminiServer) -> GeminiResource:
    return GeminiResource(api_key=server.api_key, base_url=server.base_url, requests_per_minute=None,
                          backoff_initial_s=0.01, backoff_max_s=0.05, max_retry_delay_s=0.1, timeout_s=10)


def _pipeline(db_url: str, tmp_path: Path, server: FakeGeminiServer, feed_id: str, url: Path):
    feed_store.upsert_feed(engine_for(db_url), feed_id, url=str(url))
    return build_definitions({
        "database": DatabaseResource(url=db_url),
        "classifier": _gemini(server),
        "routing": RoutingResource(),
        "xano": XanoResource(sandbox_db_path=str(tmp_path / "xano.sqlite")),
    })


def _stage_jobs(server: FakeGeminiServer, stage: str) -> int:
    return sum(len(r.job_ids) for r in server.generate_requests if r.stage == stage and r.status == 200)


def test_gemini_run_is_batched_and_a_rerun_makes_no_call(sqlite_url, tmp_path):
    with FakeGeminiServer() as server, dg.instance_for_test() as instance:
        defs = _pipeline(sqlite_url, tmp_path, server, "gem", SAMPLE_FEED_PATH)
        first = run_feed(defs, instance, "gem", database_url=sqlite_url)
        calls = server.generate_calls

        assert first["status"] == "success", first
        assert first["ai"]["calls"] == calls > 0
        assert first["ai"]["input_tokens"] > 0 and first["ai"]["output_tokens"] > 0
        assert calls * 10 <= first["counts"]["deduped"] * 2, "at least 10x fewer calls than one per job per stage"
        assert first["counts"]["approved"] > 0

        second = run_feed(defs, instance, "gem", database_url=sqlite_url)
        assert server.generate_calls == calls, "an unchanged feed is answered from the cache"
        assert second["ai"]["calls"] == 0 and second["ai"]["cache_hits"] > 0
        assert second["counts"] == first["counts"]


def test_a_per_day_quota_stop_resumes_with_only_the_unfinished_jobs(sqlite_url, tmp_path):
    quota = Fault("daily_quota", times=10**6, when=lambda r: r.stage == "industry" and r.index >= 3)
    with FakeGeminiServer() as server, dg.instance_for_test() as instance:
        defs = _pipeline(sqlite_url, tmp_path, server, "quota", SAMPLE_FEED_PATH)
        server.add_faults(quota)
        first = run_feed(defs, instance, "quota", database_url=sqlite_url)
        answered_first = _stage_jobs(server, "industry")
        failed_first = first["counts"]["failed"]
        assert first["status"] == "partial", first  # jobs the AI could not answer are work left undone
        assert first["reasons"] == [f"{failed_first} job(s) failed in the AI stages and stay `failed` until the "
                                    f"next run retries them"]
        assert failed_first > 0 and answered_first > 0
        assert failed_first + answered_first == first["counts"]["deduped"]

        server.reset()
        second = run_feed(defs, instance, "quota", database_url=sqlite_url)

        assert _stage_jobs(server, "industry") == failed_first, "finished jobs are not sent again"
        assert second["counts"]["failed"] == 0 and second["status"] == "success"
        assert second["counts"]["approved"] > first["counts"]["approved"]


FEED_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<source><publisher>t</publisher>{jobs}</source>"""
JOB_TEMPLATE = """<job><title><![CDATA[{title}]]></title><referencenumber>{ref}</referencenumber>
<url>https://jobs.example.com/{ref}</url><company>Acme Cloud</company><city>{city}</city><country>US</country>
<jobtype>fulltime</jobtype><date>Mon, 02 Nov 2026 10:00:00 GMT</date>
<description><![CDATA[<p>Build and run backend services in Python and Go on Kubernetes for our logistics
platform. You will design APIs, own reliability and mentor engineers.</p>]]></description></job>"""


def _standard_title(job_id, fields, allowed):
    item = default_industry_item(job_id, fields, allowed)
    if "back" in fields.get("Title", "").lower():
        item["ai_title"] = "Backend Engineer"
    return item


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_pass_two_merges_jobs_whose_standardized_titles_agree(database, tmp_path, request):
    db_url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    postings = [("Backend Developer", "BD-1", "Austin"), ("Back-End Software Engineer", "BE-2", "Denver"),
                ("Data Analyst", "DA-3", "Austin")]
    feed = tmp_path / "two_titles.xml"
    feed.write_text(FEED_TEMPLATE.format(jobs="".join(
        JOB_TEMPLATE.format(title=t, ref=r, city=c) for t, r, c in postings)))
    with FakeGeminiServer(industry_item=_standard_title) as server, dg.instance_for_test() as instance:
        defs = _pipeline(db_url, tmp_path, server, "pass2", feed)
        summary = run_feed(defs, instance, "pass2", database_url=db_url)
        function_jobs = _stage_jobs(server, "function")

    assert summary["status"] == "success", summary
    assert summary["counts"]["deduped"] == 3, "pass 1 keeps the differently worded titles apart"
    with engine_for(db_url).connect() as conn:
        rows = conn.execute(sa.select(jobs.c.title, jobs.c.locations, jobs.c.is_multi_location,
                                      jobs.c.source_ids).where(jobs.c.feed_id == "pass2")).mappings().all()
    assert len(rows) == 2
    merged = next(r for r in rows if r["is_multi_location"])
    assert sorted(merged["source_ids"]) == ["BD-1", "BE-2"]
    assert len(merged["locations"]) == 2
    assert function_jobs == 2, "stage 2 runs once per merged job"
