"""feed_job with Gemini: the real google-genai client against the loopback Gemini server.

Covers what only the assets can show: the cache (a rerun makes no call), resuming after a per-day quota stop
(only the unfinished jobs are sent again), the pass 2 merge on the standardized title, a feed's own taxonomy
(an edit of one industry's functions re-asks only that industry's stage 2), the category hint, what stage 2
sees, and a "none of these fits" answer routed to manual review.
"""
from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.core.enrichment import NO_FIT_FUNCTION
from feed_pipeline.core.routing import NO_FIT_REASON
from feed_pipeline.core.taxonomy import TAXONOMY_ENV
from feed_pipeline.definitions import build_definitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.gemini import GeminiResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
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
        "xano": XanoSandboxResource(db_path=str(tmp_path / "xano.sqlite")),
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
        assert server.generate_calls == calls, "an unchanged feed skips the AI stages"
        assert second["ai"]["calls"] == 0
        assert second["counts"] == first["counts"]

        forced = run_feed(defs, instance, "gem", database_url=sqlite_url, force=True)
        assert server.generate_calls == calls, "every stage runs again and keeps the answers of unchanged jobs"
        assert forced["ai"]["calls"] == 0
        assert forced["counts"] == first["counts"]


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


# ------------------------------------------------------------------------------------------ feed taxonomies
BOARD_TAXONOMY = {"industries": [
    {"name": "Property Management", "description": "Apartment communities and their operations.",
     "functions": [{"name": "Leasing", "description": "Shows units and signs leases."},
                   {"name": "Maintenance", "description": "Repairs units and common areas."}]},
    {"name": "Hospitality", "description": "Hotels and resorts.",
     "functions": [{"name": "Front Desk"}, {"name": "Housekeeping"}]},
]}
BOARD_POSTINGS = [("Leasing Consultant", "L-1", "Austin", "Leasing"),
                  ("Maintenance Technician", "M-2", "Denver", "Maintenance"),
                  ("Hotel Front Desk Agent", "H-3", "Reno", "Hotel"),
                  ("Hotel Room Attendant", "H-4", "Reno", "Hotel")]
CATEGORY_JOB = JOB_TEMPLATE.replace("<jobtype>", "<category>{category}</category><jobtype>")


def _board_feed(tmp_path: Path) -> Path:
    feed = tmp_path / "board.xml"
    feed.write_text(FEED_TEMPLATE.format(jobs="".join(
        CATEGORY_JOB.format(title=t, ref=r, city=c, category=cat) for t, r, c, cat in BOARD_POSTINGS)))
    return feed


def _by_title_industry(job_id, fields, allowed):
    """Hotel postings are Hospitality, the others the board's first industry, all confidently."""
    item = default_industry_item(job_id, fields, allowed)
    item["industry"] = next((a for a in allowed if a == "Hospitality"), allowed[0]) \
        if "Hotel" in fields.get("Title", "") else allowed[0]
    item["confidence"] = 0.95
    return item


def _requests(server: FakeGeminiServer, stage: str) -> list:
    return [r for r in server.generate_requests if r.stage == stage and r.status == 200]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_feed_is_classified_in_its_own_taxonomy_and_an_edit_re_asks_only_what_it_affects(
        database, tmp_path, request):
    db_url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    with FakeGeminiServer(industry_item=_by_title_industry) as server, dg.instance_for_test() as instance:
        defs = _pipeline(db_url, tmp_path, server, "board", _board_feed(tmp_path))
        engine = engine_for(db_url)
        feed_store.set_feed_taxonomy(engine, "board", BOARD_TAXONOMY)
        first = run_feed(defs, instance, "board", database_url=db_url)
        assert first["status"] == "success", first
        (industry_request,) = _requests(server, "industry")
        schema = industry_request.body["generationConfig"]["responseSchema"]
        assert schema["properties"]["items"]["items"]["properties"]["industry"]["enum"] == [
            "Property Management", "Hospitality"]
        assert sorted(len(r.job_ids) for r in _requests(server, "function")) == [2, 2]
        with engine.connect() as conn:
            industries = dict(conn.execute(
                sa.select(jobs.c.title, jobs.c.industry).where(jobs.c.feed_id == "board")).all())
        assert industries["Leasing Consultant"] == "Property Management"
        assert industries["Hotel Room Attendant"] == "Hospitality"

        edited = {"industries": [dict(BOARD_TAXONOMY["industries"][0]), BOARD_TAXONOMY["industries"][1]]}
        edited["industries"][0]["functions"] = [*BOARD_TAXONOMY["industries"][0]["functions"],
                                                {"name": "Resident Services", "description": "Resident events."}]
        feed_store.set_feed_taxonomy(engine, "board", edited)
        server.reset()
        second = run_feed(defs, instance, "board", database_url=db_url)

    assert second["status"] == "success", second
    assert _requests(server, "industry") == [], "stage 1 answers survive an edit of stage 2 functions"
    (function_request,) = _requests(server, "function")
    assert '"Property Management"' in function_request.body["systemInstruction"]["parts"][0]["text"]
    assert sorted(function_request.titles) == ["Leasing Consultant", "Maintenance Technician"]
    assert second["ai"]["cache_hits"] == 0, "Hospitality's 2 stage 2 answers are kept: its functions did not change"
    skipped = {name for name, stage in reports.get_report(engine_for(db_url), second["run_id"])["stages"].items()
               if stage.get("skipped_unchanged")}
    assert skipped == {"deduped_jobs", "industry_enriched"}


def test_the_category_hint_reaches_stage_one_only_when_the_feed_asks(sqlite_url, tmp_path):
    with FakeGeminiServer() as server, dg.instance_for_test() as instance:
        defs = _pipeline(sqlite_url, tmp_path, server, "hint", _board_feed(tmp_path))
        assert run_feed(defs, instance, "hint", database_url=sqlite_url)["status"] == "success"
        assert all("Publisher's category" not in r.prompt_text for r in _requests(server, "industry"))

        feed_store.upsert_feed(engine_for(sqlite_url), "hint", url=str(_board_feed(tmp_path)),
                               params={"category_hint": True})
        server.reset()
        assert run_feed(defs, instance, "hint", database_url=sqlite_url)["status"] == "success"
    prompt = "".join(r.prompt_text for r in _requests(server, "industry"))
    assert "Title: Leasing Consultant\nCompany: Acme Cloud" in prompt
    assert "Publisher's category: Leasing" in prompt and "Publisher's category: Hotel" in prompt
    assert _stage_jobs(server, "industry") == 4, "the hint is part of stage 1's cache key"


def test_stage_two_sees_the_original_title_and_text_and_a_none_answer_goes_to_manual_review(sqlite_url, tmp_path):
    def none_for_hotels(job_id, fields, allowed):
        if "Hotel" in fields.get("Original title", ""):
            return {"id": job_id, "job_function": NO_FIT_FUNCTION, "confidence": 0.9}
        return {"id": job_id, "job_function": allowed[0], "confidence": 0.95}

    with FakeGeminiServer(industry_item=_by_title_industry, function_item=none_for_hotels) as server, \
            dg.instance_for_test() as instance:
        defs = _pipeline(sqlite_url, tmp_path, server, "nofit", _board_feed(tmp_path))
        feed_store.set_feed_taxonomy(engine_for(sqlite_url), "nofit", BOARD_TAXONOMY)
        summary = run_feed(defs, instance, "nofit", database_url=sqlite_url)
        stage2 = "".join(r.prompt_text for r in _requests(server, "function"))

    assert summary["status"] == "success", summary
    assert "Original title: Hotel Front Desk Agent" in stage2
    assert "Description:\nBuild and run backend services" in stage2
    assert summary["counts"]["approved"] == 2 and summary["counts"]["manual_review"] == 2
    with engine_for(sqlite_url).connect() as conn:
        rows = conn.execute(sa.select(jobs.c.title, jobs.c.route, jobs.c.reason, jobs.c.job_function).where(
            jobs.c.feed_id == "nofit", jobs.c.title.like("Hotel%"))).all()
    assert {(route, function) for _, route, _, function in rows} == {("manual_review", None)}
    assert all(reason.startswith(NO_FIT_REASON) for _, _, reason, _ in rows)


def test_the_deployment_taxonomy_applies_to_feeds_without_their_own(sqlite_url, tmp_path, monkeypatch):
    deployment = tmp_path / "deployment.json"
    deployment.write_text(json.dumps(BOARD_TAXONOMY))
    monkeypatch.setenv(TAXONOMY_ENV, str(deployment))
    with FakeGeminiServer(industry_item=_by_title_industry) as server, dg.instance_for_test() as instance:
        defs = _pipeline(sqlite_url, tmp_path, server, "deployed", _board_feed(tmp_path))
        summary = run_feed(defs, instance, "deployed", database_url=sqlite_url)
        (industry_request,) = _requests(server, "industry")

    assert summary["status"] == "success", summary
    assert summary["counts"]["approved"] == 4, "the blocking taxonomy checks read the same taxonomy"
    item = industry_request.body["generationConfig"]["responseSchema"]["properties"]["items"]["items"]
    assert item["properties"]["industry"]["enum"] == ["Property Management", "Hospitality"]
