"""What the stage-asset tests share: a six-posting feed with its own two-industry taxonomy, a SQLite database in
tmp_path, a Dagster instance (one per module: creating one is most of a test's cost) with the feed's partition
(a new feed id per test, so no test sees another's materializations), a scripted recording classifier, a
loopback Xano sandbox, and `Stages.materialize(...)`, which runs the real assets with `dagster.materialize`;
`Stages.metadata` gives one asset's materialization metadata as plain values."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from feed_pipeline.assets.dedupe import deduped_jobs
from feed_pipeline.assets.enrich import function_enriched, industry_enriched
from feed_pipeline.assets.ingest import raw_jobs
from feed_pipeline.assets.mirror import xano_mirror
from feed_pipeline.assets.route import routed_jobs
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.job_apis import JobApiResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoResource
from feed_pipeline.sandbox import XanoSandbox
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.schema import deduped_jobs as deduped_jobs_table
from feed_pipeline.store.schema import raw_jobs as raw_jobs_table
from feed_pipeline_tests.fakes.classifier import RecordingClassifierResource

FEED_PREFIX = "stages"
TAXONOMY = {"industries": [
    {"name": "Software", "keywords": ["software"], "functions": [
        {"name": "Engineering", "keywords": ["engineer"]}, {"name": "Sales", "keywords": ["account"]}]},
    {"name": "Healthcare", "keywords": ["health"], "functions": [{"name": "Nursing", "keywords": ["nurse"]}]},
]}
# title -> [industry, confidence, function, function confidence]; "Mystery Role" is unscripted: the fake fails it.
ANSWERS = {
    "Backend Engineer": ["Software", 0.95, "Engineering", 0.9],   # approved (routing confidence 0.9)
    "Account Executive": ["Software", 0.9, "Sales", 0.7],         # manual review (0.7)
    "Registered Nurse": ["Healthcare", 0.3, "Nursing", 0.9],      # archived at stage 1 (0.3 < 0.5)
}
DESCRIPTION = {
    "Backend Engineer": "Build backend services and APIs in Python for our logistics platform. You will write "
                        "production code, review pull requests and run services on PostgreSQL every day.",
    "Account Executive": "Sell our logistics software to mid-market customers. You will run demos, negotiate "
                         "contracts and grow a book of business across the region.",
    "Registered Nurse": "Care for patients on a busy surgical ward. You will assess patients, give medication and "
                        "work with doctors on care plans through day and night shifts.",
    "Mystery Role": "An unusual position that defies easy description, with varied duties across many teams "
                    "and a lot of learning on the job for the right person.",
    "Office Manager": "Run the front office, order supplies and keep the calendar for a small friendly team.",
}
# (reference, title, company, city, status): the two Backend Engineer postings are one role in two cities.
POSTINGS = [
    ("A-1", "Backend Engineer", "Acme Logistics", "Phoenix", "OPEN"),
    ("A-2", "Backend Engineer", "Acme Logistics", "Denver", "OPEN"),
    ("A-3", "Account Executive", "Acme Logistics", "Phoenix", "OPEN"),
    ("M-1", "Registered Nurse", "Mercy Hospital", "Austin", "OPEN"),
    ("X-1", "Mystery Role", "Enigma Corp", "Boston", "OPEN"),
    ("C-1", "Office Manager", "Acme Logistics", "Phoenix", "CLOSED"),
]
ALL_STAGES = ("raw_jobs", "deduped_jobs", "industry_enriched", "function_enriched", "routed_jobs", "xano_mirror")


def feed_xml(postings=POSTINGS) -> str:
    jobs = []
    for ref, title, company, city, status in postings:
        jobs.append(f"""  <job>
    <title><![CDATA[{title}]]></title>
    <date><![CDATA[Mon, 26 Oct 2026 14:06:00 +0000]]></date>
    <referencenumber><![CDATA[{ref}]]></referencenumber>
    <url><![CDATA[https://jobs.example.com/{ref}]]></url>
    <company><![CDATA[{company}]]></company>
    <city><![CDATA[{city}]]></city>
    <state><![CDATA[AZ]]></state>
    <country><![CDATA[US]]></country>
    <description><![CDATA[<p>{DESCRIPTION[title]}</p>]]></description>
    <jobtype><![CDATA[fulltime]]></jobtype>
    <status>{status}</status>
  </job>""")
    return '<?xml version="1.0" encoding="utf-8"?>\n<source>\n' + "\n".join(jobs) + "\n</source>\n"


def values(metadata: dg.MetadataMapping | dict) -> dict[str, Any]:
    """Metadata as plain values: numbers, text and bools as themselves, JSON as data, tables as lists of rows."""
    plain = {}
    for key, value in metadata.items():
        if isinstance(value, dg.TableMetadataValue):
            plain[key] = [record.data for record in value.records]
        elif isinstance(value, dg.MetadataValue):
            plain[key] = value.value
        else:
            plain[key] = value
    return plain


class Stages:
    """One feed, one database, one Dagster instance, the recording classifier and a running Xano sandbox."""

    def __init__(self, tmp_path: Path, instance: dg.DagsterInstance, xano: XanoSandbox, feed: str):
        self.feed = feed
        self.db_url = f"sqlite:///{tmp_path / 'feed_pipeline.sqlite'}"
        self.engine = engine_for(self.db_url)
        self.feed_path = tmp_path / "feed.xml"
        self.feed_path.write_text(feed_xml(), encoding="utf-8")
        feed_store.upsert_feed(self.engine, feed, url=str(self.feed_path), taxonomy=TAXONOMY)
        instance.add_dynamic_partitions("feeds", [feed])
        self.instance = instance
        self.xano = xano
        self.classifier = RecordingClassifierResource(answers=ANSWERS)
        self.resources = {"database": DatabaseResource(url=self.db_url), "classifier": self.classifier,
                          "routing": RoutingResource(), "xano": XanoResource(base_url=xano.base_url),
                          "job_apis": JobApiResource()}

    def materialize(self, *assets, run_config: dict | None = None,
                    raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
        """Materialize `assets` (and checks) for the feed's partition."""
        return dg.materialize(list(assets), partition_key=self.feed, resources=self.resources, instance=self.instance,
                              run_config=run_config, raise_on_error=raise_on_error)

    def upstream_of(self, stage: str) -> None:
        """Materialize every stage before `stage` with the real assets, so `stage` has its inputs."""
        order = [raw_jobs, deduped_jobs, industry_enriched, function_enriched, routed_jobs, xano_mirror]
        before = order[:ALL_STAGES.index(stage)]
        if before:
            self.materialize(*before)

    def use_classifier(self, answers: dict[str, list]) -> RecordingClassifierResource:
        """A fresh recording classifier with these answers for the next materializations (same model, same
        prompts, so the enrichment cache still answers what the last one answered)."""
        self.classifier = self.resources["classifier"] = RecordingClassifierResource(answers=answers)
        return self.classifier

    def key_of(self, source_id: str) -> str:
        """The job_key raw_jobs gave the posting with this reference number."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(raw_jobs_table.c.job_key).where(
                raw_jobs_table.c.feed_id == self.feed, raw_jobs_table.c.source_id == source_id)).scalar_one()

    def job_of(self, source_id: str) -> str:
        """The job_key of the deduped job holding the posting with this reference number (after deduped_jobs)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(deduped_jobs_table.c.job_key, deduped_jobs_table.c.source_ids).where(
                deduped_jobs_table.c.feed_id == self.feed)).all()
        (key,) = [key for key, refs in rows if source_id in refs]
        return key

    @staticmethod
    def checks(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, dict[str, Any]]]:
        """check name -> (passed, metadata as plain values)."""
        return {e.check_name: (e.passed, values(e.metadata)) for e in result.get_asset_check_evaluations()}

    @staticmethod
    def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
        (materialization,) = result.asset_materializations_for_node(asset)
        return values(materialization.metadata)

    def rows(self, table: sa.Table, *columns: str, order_by: str = "job_key") -> list[tuple]:
        stmt = sa.select(*(table.c[name] for name in columns)).where(table.c.feed_id == self.feed).order_by(
            table.c[order_by])
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(stmt)]


@pytest.fixture(scope="module")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def stages(tmp_path, dagster_instance) -> Iterator[Stages]:
    with XanoSandbox(tmp_path / "xano.sqlite") as xano:
        yield Stages(tmp_path, dagster_instance, xano, feed=f"{FEED_PREFIX}-{uuid.uuid4().hex[:8]}")
