"""`feed-pipeline evaluate` and `calibrate` on SQLite and PostgreSQL: figures on stdout, reports on disk,
nothing written to the stage tables or Xano; and the same label figures in a labeled feed's run metadata."""
from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import main
from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.routing import Thresholds
from feed_pipeline.core.semantic_classifier import SEMANTIC_MODEL_NAME
from feed_pipeline.definitions import build_definitions
from feed_pipeline.evaluation.classify import blind
from feed_pipeline.resources.database import DatabaseResource
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store import schema
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.rows import job_to_row
from feed_pipeline_tests.fakes.gemini_server import FakeGeminiServer

ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_")
STAGE_TABLES = ("raw_jobs", "ingests", "deduped_jobs", "enrichments", "enrichment_cache", "jobs",
                "job_route_history", "execution_reports")

# (referencenumber, title, company, category, board tag, status): eight distinct open postings, one closed,
# one without a category.
POSTINGS = [
    ("R1", "Senior Backend Software Engineer", "Quanta", "Software Engineering", "tech",
     "Design and build backend services and REST APIs in Python; code review, microservices, PostgreSQL."),
    ("R2", "Registered Nurse - ICU", "Mercy Hospital", "Nursing", "care",
     "Registered nurse (RN) for our intensive care unit: patient care, medication administration, BLS/ACLS."),
    ("R3", "CDL-A Truck Driver", "Roadway Freight", "Truck Driving", "drive",
     "Class A CDL truck driver for regional routes; DOT compliance, tractor-trailer, home weekly."),
    ("R4", "Staff Accountant", "Ledger & Co", "Accounting", "money",
     "Staff accountant: general ledger, month-end close, reconciliations, accounts payable, GAAP, CPA track."),
    ("R5", "Elementary School Teacher", "Maple District", "Teaching", "school",
     "Elementary teacher for grade 3: lesson plans, classroom instruction, state teaching certificate."),
    ("R6", "Line Cook", "Bistro 9", "Culinary", "food",
     "Line cook for a busy kitchen: food prep, grill station, food safety, restaurant experience."),
    ("R7", "Warehouse Associate", "Stockline", "Nursing", "ops",  # a deliberately wrong label
     "Warehouse associate: picking, packing, forklift, shipping and receiving in our distribution center."),
    ("R8", "Paralegal", "Hart Law", "Paralegal & Legal Support", "law",
     "Paralegal supporting attorneys: legal research, document drafting, case files, e-filing."),
    ("R9", "Closed Role Engineer", "Quanta", "Software Engineering", "tech", "This job is closed."),
    ("R10", "Office Manager", "Acme Offices", None, None, "Office manager running the front office and vendors."),
]


def _feed_xml(label_prefix: str = "") -> str:
    jobs = []
    for ref, title, company, category, tag, text in POSTINGS:
        jobs.append(
            "<job>"
            f"<title><![CDATA[{title}]]></title><referencenumber>{ref}</referencenumber>"
            f"<url>https://jobs.example.com/{ref}</url><company><![CDATA[{company}]]></company>"
            f"<city>Austin</city><state>TX</state><country>US</country>"
            f"<date>Mon, 02 Nov 2026 10:00:00 +0000</date>"
            f"<description><![CDATA[<p>{text}</p>]]></description>"
            + (f"<category><![CDATA[{label_prefix}{category}]]></category>" if category else "")
            + (f"<boardtag>{tag}</boardtag>" if tag else "")
            + f"<status>{'CLOSED' if ref == 'R9' else 'OPEN'}</status></job>"
        )
    return f'<?xml version="1.0" encoding="utf-8"?><source>{"".join(jobs)}</source>'


@pytest.fixture
def workdir(db_url, tmp_path, monkeypatch) -> Path:
    """An empty working folder, the project's variables unset, the database under test configured."""
    for name in [n for n in os.environ if n.startswith(ISOLATED_PREFIXES)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FEED_PIPELINE_DATABASE_URL", db_url)
    monkeypatch.setenv("FEED_PIPELINE_XANO_SANDBOX", "true")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster_home"))
    monkeypatch.chdir(tmp_path)
    feed = tmp_path / "labeled.xml"
    feed.write_text(_feed_xml(), encoding="utf-8")
    feed_store.upsert_feed(engine_for(db_url), "labeled", url=str(feed), kind="xml")
    return tmp_path


def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def _row_counts(db_url: str) -> dict[str, int]:
    with engine_for(db_url).connect() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(schema.metadata.tables[t])).scalar_one()
                for t in STAGE_TABLES}


def _assert_consistent(figures: dict) -> None:
    """The figures agree with one another: every labeled job is counted once everywhere."""
    jobs = figures["jobs"]
    assert sum(sum(row) for row in figures["confusion"]["matrix"]) == jobs
    assert sum(r["support"] for r in figures["per_label"]) == jobs
    assert sum(r["correct"] for r in figures["per_label"]) == figures["correct"]
    assert sum(figures["routes"].values()) == jobs
    assert figures["agreement"] == round(figures["correct"] / jobs, 4)
    current = figures["current"]
    assert current["approved"] == figures["routes"].get("approved", 0)
    assert current["coverage"] == round(current["approved"] / jobs, 4)


def test_evaluate_classifies_blind_to_the_category_and_writes_reports_but_no_rows(workdir, db_url):
    result = cli("evaluate", "labeled", "--label-field", "category")

    figures = json.loads(result.stdout)
    assert figures["records"] == {"read": 10, "closed_expired_invalid": 1, "duplicate_keys": 0, "labeled": 8,
                                  "unlabeled": 1}
    assert (figures["jobs"], figures["level"], figures["classifier"]) == (8, "function", SEMANTIC_MODEL_NAME)
    assert {"agreement", "per_label", "confusion", "current", "recommended", "curve", "target_precision",
            "ai_usage", "report"} <= set(figures)
    assert (figures["current"]["archive_below"], figures["current"]["approve_at"]) == (
        Thresholds().archive_below, Thresholds().approve_at)
    assert figures["target_precision"] == 0.97
    _assert_consistent(figures)
    assert next(r for r in figures["per_label"] if r["label"] == "Nursing")["support"] == 2
    md, png = Path(figures["report"]["markdown"]), Path(figures["report"]["plot"])
    assert md.parent == workdir / ".feed_pipeline" / "reports" / "labeled"
    assert "# Classification evaluation: feed `labeled`" in md.read_text() and "Nursing" in md.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert set(_row_counts(db_url).values()) == {0}, "evaluate writes no stage table and no job"
    assert not (workdir / ".feed_pipeline" / "xano_sandbox.sqlite").exists(), "nor anything to Xano"


def test_evaluate_reads_labels_from_a_file_by_the_feeds_own_id(workdir):
    labels = workdir / "labels.csv"
    labels.write_text("referencenumber,label\nR1,software engineering\nR3,Truck  Driving\nR404,Nursing\n")
    out = workdir / "out"

    figures = json.loads(cli("evaluate", "labeled", "--labels", str(labels), "--out", str(out),
                             "--target-precision", "0.9").stdout)

    assert figures["label_source"] == {"file_ids": 3}
    assert (figures["records"]["labeled"], figures["records"]["unlabeled"], figures["jobs"]) == (2, 7, 2)
    assert figures["target_precision"] == 0.9
    _assert_consistent(figures)
    assert (out / "evaluation.md").stat().st_size > 0 and (out / "evaluation.png").stat().st_size > 0


def test_evaluate_label_field_from_a_tag_the_profile_keeps_in_extra(workdir):
    mapping = workdir / "map.json"
    mapping.write_text(json.dumps({"tech": "Software Engineering", "care": "Nursing"}))

    figures = json.loads(cli("evaluate", "labeled", "--label-field", "boardtag", "--label-map", str(mapping)).stdout)

    labels = {r["label"] for r in figures["per_label"]}
    assert {"Software Engineering", "Nursing", "drive"} <= labels, "mapped labels read as function names"
    assert figures["jobs"] == 8


def test_evaluate_explains_what_is_wrong(workdir):
    assert "is not registered" in cli("evaluate", "ghost", "--label-field", "category", code=1).stderr
    absent = cli("evaluate", "labeled", "--label-field", "department", code=1).stderr
    assert "'department' is absent from all 9 open records" in absent and "boardtag" in absent
    stray = workdir / "stray.json"
    stray.write_text(json.dumps({"X1": "Nursing", "X2": "Teaching"}))
    unmatched = cli("evaluate", "labeled", "--labels", str(stray), code=1).stderr
    assert "matched 0 of its 2 ids" in unmatched and "referencenumber" in unmatched
    assert "exactly one of" in cli("evaluate", "labeled", code=2).stderr
    bad = workdir / "bad.csv"
    bad.write_text("job,category\nR1,Nursing\n")
    assert "id column" in cli("evaluate", "labeled", "--labels", str(bad), code=2).stderr


def test_evaluate_with_gemini_configured_never_sends_the_label(workdir, db_url, monkeypatch):
    feed = workdir / "prefixed.xml"
    feed.write_text(_feed_xml(label_prefix="board:"), encoding="utf-8")
    feed_store.upsert_feed(engine_for(db_url), "prefixed", url=str(feed), kind="xml")
    mapping = workdir / "map.json"
    mapping.write_text(json.dumps({f"board:{p[3]}": p[3] for p in POSTINGS if p[3]}))
    with FakeGeminiServer() as server:
        monkeypatch.setenv("GEMINI_API_KEY", server.api_key)
        monkeypatch.setenv("GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("GEMINI_RPM", "100000")

        figures = json.loads(cli("evaluate", "prefixed", "--label-field", "category", "--label-map",
                                 str(mapping)).stdout)
        sent = json.dumps([r.body for r in server.generate_requests])

    assert figures["classifier"] != SEMANTIC_MODEL_NAME and figures["ai_usage"]["calls"] >= 2
    assert figures["jobs"] == 8
    _assert_consistent(figures)
    assert "Senior Backend Software Engineer" in sent, "the postings went to Gemini"
    assert "board:" not in sent, "but never a posting's own label"


# --- calibrate from review decisions --------------------------------------------------------------------------

# job, routing confidence, function, decision: worked out in test_calibrate_*
JUDGED = [("a", 0.95, "Nursing", "approve"), ("b", 0.90, "Nursing", "approve"), ("c", 0.88, "Nursing", "reject"),
          ("d", 0.70, "Nursing", "approve"), ("e", 0.40, None, "reject"), ("f", 0.92, "Nursing", "approve"),
          ("g", 0.99, "Nursing", None)]


def _store_judged_jobs(db_url: str) -> None:
    engine = engine_for(db_url)
    rows = []
    for name, confidence, function, _ in JUDGED:
        job = JobRecord(feed_id="labeled", source="xml", source_id=f"S-{name}", title=f"Job {name}",
                        description=f"text {name}", url=f"https://jobs.example.com/{name}")
        assign_identity(job)
        job.member_keys, job.source_ids = [job.job_key], [job.source_id]
        rows.append(job_to_row(job) | {
            "industry": "Healthcare", "industry_confidence": confidence, "job_function": function,
            "function_confidence": confidence if function else None, "routing_confidence": confidence,
            "skills": [], "tech_stack": [], "route": "approved" if confidence >= 0.86 else "manual_review"})
    with engine.begin() as conn:
        job_store.upsert_routed_jobs(conn, "run-1", rows)
    keys = {r["source_id"][2:]: r["job_key"] for r in rows}
    for name, _, _, decision in JUDGED:
        if decision:
            job_store.record_review(engine, keys[name], decision, decided_by="test")
    with engine.begin() as conn:  # f's content changed after its review: the decision no longer counts
        conn.execute(schema.jobs.update().where(schema.jobs.c.job_key == keys["f"]).values(content_hash="changed"))


def test_calibrate_measures_approved_precision_from_review_decisions(workdir, db_url):
    _store_judged_jobs(db_url)

    figures = json.loads(cli("calibrate", "labeled").stdout)

    assert figures["sources"] == {"review_decisions": {"decided": 6, "stale": 1, "used": 5}}
    assert (figures["jobs"], figures["correct"], figures["accuracy"]) == (5, 3, 0.6)
    # approved at 0.86: a, b right, c wrong
    assert figures["current"] | {} == {"archive_below": 0.5, "approve_at": 0.86, "approved": 3,
                                       "approved_correct": 2, "approved_precision": 0.6667, "coverage": 0.6,
                                       "archive_precision": 1.0}
    # 0.5 and 0.7 -> 3/4, 0.88 -> 2/3, 0.9 -> 2/2; below 0.7 only e (wrong), below 0.88 also d (right)
    assert figures["recommended"]["approve_at"] == {"threshold": 0.9, "approved": 2, "correct": 2,
                                                    "precision": 1.0, "coverage": 0.4}
    assert figures["recommended"]["archive_below"]["threshold"] == 0.7
    md = Path(figures["report"]["markdown"])
    assert md == workdir / ".feed_pipeline" / "reports" / "calibration" / "calibration.md"
    assert "approve_at **0.9**" in md.read_text()
    assert Path(figures["report"]["plot"]).stat().st_size > 0


def test_calibrate_with_a_labels_file_judges_the_stored_classification(workdir, db_url):
    _store_judged_jobs(db_url)
    labels = workdir / "labels.json"
    labels.write_text(json.dumps([{"id": "S-a", "label": "nursing"}, {"id": "S-g", "label": "Teaching"}]))

    figures = json.loads(cli("calibrate", "--labels", str(labels), "--no-reviews").stdout)

    assert figures["sources"] == {"labels": {"file_ids": 2, "matched_jobs": 2}}
    assert (figures["jobs"], figures["correct"], figures["label_agreement"]) == (2, 1, 0.5)
    assert figures["current"]["approved_precision"] == 0.5


def test_calibrate_with_nothing_judged_says_so(workdir):
    assert "nothing to calibrate" in cli("calibrate", "labeled", code=1).stderr
    assert "is not registered" in cli("calibrate", "ghost", code=1).stderr


# --- the same figures in a run ---------------------------------------------------------------------------------


def test_a_labeled_feeds_run_shows_the_figures_evaluate_reports(workdir, db_url, tmp_path):
    engine = engine_for(db_url)
    feed = feed_store.get_feed(engine, "labeled")
    feed_store.upsert_feed(engine, "labeled", url=feed.url, kind="xml", params={"label_field": "category"})
    evaluated = json.loads(cli("evaluate", "labeled", "--label-field", "category").stdout)
    defs = build_definitions({"database": DatabaseResource(url=db_url), "classifier": OfflineClassifierResource(),
                              "routing": RoutingResource(),
                              "xano": XanoSandboxResource(db_path=str(tmp_path / "xano.sqlite"))})

    with dg.instance_for_test() as instance:
        summary = run_feed(defs, instance, "labeled", database_url=db_url)
        event = instance.get_latest_materialization_event(dg.AssetKey("routed_jobs"))

    assert summary["status"] == "success", summary
    metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert metadata["label_field"] == "category" and metadata["labeled_jobs"] == evaluated["jobs"]
    assert metadata["label_agreement"] == evaluated["agreement"]
    assert metadata["label_approved"] == evaluated["current"]["approved"]
    if evaluated["current"]["approved"]:
        assert metadata["label_approved_precision"] == evaluated["current"]["approved_precision"]


def test_blind_removes_only_the_label_and_leaves_the_record_untouched():
    job = JobRecord(feed_id="f", source="xml", source_id="1", title="Nurse", category="Nursing",
                    extra={"boardtag": "care", "other": "x"})

    assert blind(job, "category").category is None
    assert blind(job, "boardtag").extra == {"other": "x"} and blind(job, "boardtag").category == "Nursing"
    assert (job.category, job.extra) == ("Nursing", {"boardtag": "care", "other": "x"})


def test_evaluate_classifies_in_the_feeds_own_taxonomy(workdir, db_url):
    board = {"industries": [{"name": "Board", "functions": [
        {"name": "Software Engineering", "keywords": ["software engineer", "backend"]},
        {"name": "Nursing", "keywords": ["registered nurse", "patient care"]},
        {"name": "Everything Else", "keywords": ["truck driver", "accountant", "teacher", "cook", "paralegal"]},
    ]}]}
    feed = feed_store.set_feed_taxonomy(engine_for(db_url), "labeled", board)

    figures = json.loads(cli("evaluate", "labeled", "--label-field", "category").stdout)

    assert figures["taxonomy"] == f"the feed's ({feed.taxonomy_version})"
    assert set(figures["confusion"]["predicted"]) <= {"Software Engineering", "Nursing", "Everything Else", "(none)"}
    assert next(r for r in figures["per_label"] if r["label"] == "Software Engineering")["correct"] == 1
