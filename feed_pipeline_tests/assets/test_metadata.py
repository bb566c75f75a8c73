"""What the stage assets and checks tell an operator: described keys, Dagster tables, figures that stay true on an
unchanged rerun, a histogram on the routing thresholds, a review sample by confidence, neutral AI badges, check
results tied to the feed partition, and a warning when a feed's field coverage drops."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from feed_pipeline.automation.runner import run_feed
from feed_pipeline.cli import SAMPLE_FEED_PATH
from feed_pipeline.core.semantic_classifier import SEMANTIC_MODEL_NAME
from feed_pipeline.definitions import ASSET_CHECKS, ASSETS, build_definitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
from feed_pipeline.resources.routing import RoutingResource
from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.store import feeds as feed_store

THRESHOLDS = {"archive_below": 0.42, "approve_at": 0.78}  # not the defaults: the metadata must follow the resource


def _defs(db_url: str, xano_db: str, routing: RoutingResource) -> dg.Definitions:
    return build_definitions({"database": DatabaseResource(url=db_url), "classifier": OfflineClassifierResource(),
                              "routing": routing, "xano": XanoSandboxResource(db_path=xano_db)})


def _materializations(instance: dg.DagsterInstance, asset: str, partition: str) -> list[dg.AssetMaterialization]:
    """Newest first."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=10).records
    return [record.asset_materialization for record in records]


def _check_evaluations(instance: dg.DagsterInstance, asset: str, check: str):
    """Newest first: the recorded AssetCheckEvaluation of each execution of the check."""
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), check), limit=10)
    return [h.event.dagster_event.event_specific_data for h in history if h.event is not None]


def _rows(value) -> list[dict]:
    return [record.data for record in value.records]


class SampleRuns:
    """The bundled sample feed run twice (the second run finds it unchanged), thresholds 0.42 / 0.78."""

    def __init__(self, instance: dg.DagsterInstance, first: dict, second: dict):
        self.instance, self.first, self.second = instance, first, second


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory) -> Iterator[SampleRuns]:
    tmp = tmp_path_factory.mktemp("sample")
    db_url = f"sqlite:///{tmp / 'feed_pipeline.sqlite'}"
    feed_store.upsert_feed(engine_for(db_url), "sample", url=str(SAMPLE_FEED_PATH), kind="xml")
    defs = _defs(db_url, str(tmp / "xano.sqlite"), RoutingResource(**THRESHOLDS))
    with dg.instance_for_test() as instance:
        first = run_feed(defs, instance, "sample", database_url=db_url)
        second = run_feed(defs, instance, "sample", database_url=db_url)
        assert first["status"] == second["status"] == "success", (first, second)
        yield SampleRuns(instance, first, second)


def test_every_asset_and_check_describes_its_metadata_keys_in_its_definition():
    for asset in ASSETS:
        (spec,) = asset.specs
        rows = _rows(spec.metadata["metadata_keys"])
        assert rows and all(row["meaning"] for row in rows), spec.key
    for check in ASSET_CHECKS:
        (spec,) = check.check_specs
        assert _rows(spec.metadata["metadata_keys"]), spec.key


def test_every_key_a_run_emits_is_described_and_every_table_is_a_dagster_table(sample_runs):
    for asset in ASSETS:
        (spec,) = asset.specs
        described = {row["key"] for row in _rows(spec.metadata["metadata_keys"])}
        for materialization in _materializations(sample_runs.instance, spec.key.path[-1], "sample"):
            for key, value in materialization.metadata.items():
                assert key in described or key.startswith("dagster/"), (spec.key, key)
                assert not isinstance(value, dg.MarkdownMetadataValue), (spec.key, key)


def test_routes_appear_once_as_a_table_and_settings_are_not_plotted_numbers(sample_runs):
    routed = _materializations(sample_runs.instance, "routed_jobs", "sample")[0].metadata
    routes = {row["route"]: row["jobs"] for row in _rows(routed["routes"])}
    assert routes["approved"] == sample_runs.second["counts"]["approved"]
    assert not [key for key in routed if key.startswith("route_") or key in ("archive_below", "approve_at")]
    assert routed["thresholds"].value == THRESHOLDS
    assert routed["dagster/row_count"].value == sum(routes.values())


def test_an_unchanged_rerun_reports_the_last_ingests_figures_and_says_it_skipped(sample_runs):
    skipped, parsed = _materializations(sample_runs.instance, "raw_jobs", "sample")[:2]
    assert skipped.metadata["skipped_unchanged"].value is True and parsed.metadata["skipped_unchanged"].value is False
    assert skipped.metadata["written_this_run"].value == 0 < parsed.metadata["written_this_run"].value
    for key in ("accepted", "bytes_read", "profile", "dagster/row_count"):
        assert skipped.metadata[key].value == parsed.metadata[key].value, key
    assert parsed.metadata["accepted"].value > 0 and parsed.metadata["profile"].value == "indeed"
    assert _rows(skipped.metadata["coverage"]) == _rows(parsed.metadata["coverage"])
    assert "records_per_s" not in skipped.metadata  # a speed of a parse that did not happen would be false


def test_the_confidence_histogram_bins_on_the_routing_resources_thresholds(sample_runs):
    rows = _rows(_materializations(sample_runs.instance, "routed_jobs", "sample")[0].metadata["confidence_histogram"])
    lows = [float(row["confidence"][1:].split(",")[0]) for row in rows]
    assert 0.42 in lows and 0.78 in lows and 0.4 not in lows and 0.8 not in lows
    routes = [row["route"] for row in rows]
    assert routes == sorted(routes, key=["archived", "manual_review", "approved"].index)  # one route per bin
    approved = sum(row["jobs"] for row in rows if row["route"] == "approved")
    assert approved == sample_runs.second["counts"]["approved"]


def test_the_review_sample_is_the_nearest_to_approval_by_confidence_with_company_and_link(sample_runs):
    rows = _rows(_materializations(sample_runs.instance, "routed_jobs", "sample")[0].metadata["manual_review_sample"])
    assert rows
    confidences = [row["confidence"] for row in rows]
    assert confidences == sorted(confidences, reverse=True)
    assert all(THRESHOLDS["archive_below"] <= c < THRESHOLDS["approve_at"] for c in confidences)
    assert all(row["company"] and row["url"].startswith("https://") and row["title"] for row in rows)


def test_enrichment_badges_are_neutral_and_the_materialization_names_the_model(sample_runs):
    for name in ("industry_enriched", "function_enriched"):
        (asset,) = [a for a in ASSETS if a.key == dg.AssetKey(name)]
        (spec,) = asset.specs
        assert spec.kinds == {"ai", "sql"} and "gemini" not in spec.kinds
        metadata = _materializations(sample_runs.instance, name, "sample")[0].metadata
        assert metadata["model"].value == SEMANTIC_MODEL_NAME  # the offline resource's default method


@pytest.mark.parametrize(("asset", "check"), [
    ("raw_jobs", "feed_did_not_shrink"), ("raw_jobs", "coverage_did_not_drop"),
    ("deduped_jobs", "duplicate_rate_stable"), ("industry_enriched", "industry_answers_valid"),
    ("routed_jobs", "routes_obey_thresholds"), ("routed_jobs", "approved_jobs_have_taxonomy"),
    ("routed_jobs", "ai_failure_rate"), ("xano_mirror", "xano_matches_approved"),
])
def test_check_results_are_recorded_for_the_feed_partition(sample_runs, asset, check):
    evaluations = _check_evaluations(sample_runs.instance, asset, check)
    assert len(evaluations) == 2 and {e.partition for e in evaluations} == {"sample"}


# --- coverage -----------------------------------------------------------------------------------------------


def _feed(jobs: int, *, with_ids: bool) -> bytes:
    items = []
    for n in range(jobs):
        ref = f"<referencenumber>R-{n}</referencenumber>" if with_ids else ""
        items.append(f"<job>{ref}<title>Registered Nurse {n}</title><company>Acme Health</company>"
                     f"<city>Boston</city><state>MA</state><country>US</country><date>2024-05-01</date>"
                     f"<jobtype>fulltime</jobtype><url>https://jobs.example/{n}</url>"
                     f"<description>Care for patients on ward {n}.</description></job>")
    return ("<?xml version='1.0' encoding='utf-8'?><source>" + "".join(items) + "</source>").encode()


def test_a_feed_that_loses_its_ids_warns_on_coverage_and_names_the_field(db_url, tmp_path):
    feed_path = Path(tmp_path / "feed.xml")
    feed_path.write_bytes(_feed(6, with_ids=True))
    feed_store.upsert_feed(engine_for(db_url), "nurses", url=str(feed_path), kind="xml")
    defs = _defs(db_url, str(tmp_path / "xano.sqlite"), RoutingResource())
    with dg.instance_for_test() as instance:
        assert run_feed(defs, instance, "nurses", database_url=db_url)["status"] == "success"
        feed_path.write_bytes(_feed(6, with_ids=False))
        assert run_feed(defs, instance, "nurses", database_url=db_url)["status"] == "success"  # WARN never blocks

        dropped, first = _check_evaluations(instance, "raw_jobs", "coverage_did_not_drop")
    assert first.passed and "no earlier ingest" in first.metadata["note"].value
    assert not dropped.passed and dropped.severity == dg.AssetCheckSeverity.WARN
    assert dropped.description == "id: 100% -> 0% of postings"
    assert _rows(dropped.metadata["drops"]) == [{"field": "id", "previous_share": 1.0, "share": 0.0}]
    shares = {row["field"]: (row["previous_share"], row["share"]) for row in _rows(dropped.metadata["coverage"])}
    assert shares["title"] == (1.0, 1.0) and shares["salary"] == (0.0, 0.0)


# --- comparisons with the last good run ---------------------------------------------------------------------


def _nurse_feed(cities: list[str], *, one_role: bool) -> bytes:
    """One posting per city; `one_role` posts the same role everywhere (pass 1 merges them into one job)."""
    items = []
    for n, city in enumerate(cities):
        suffix = "" if one_role else f" {n}"
        items.append(f"<job><referencenumber>R-{n}</referencenumber><title>Registered Nurse{suffix}</title>"
                     f"<company>Acme Health</company><city>{city}</city><state>MA</state><country>US</country>"
                     f"<date>2024-05-01</date><jobtype>fulltime</jobtype><url>https://jobs.example/{n}</url>"
                     f"<description>Care for patients on the surgical ward{suffix}.</description></job>")
    return ("<?xml version='1.0' encoding='utf-8'?><source>" + "".join(items) + "</source>").encode()


CITIES = ["Boston", "Salem", "Lowell", "Quincy", "Lynn", "Newton"]


def test_a_feed_that_shrinks_by_more_than_half_warns_with_the_ratio(db_url, tmp_path):
    feed_path = Path(tmp_path / "feed.xml")
    feed_path.write_bytes(_nurse_feed(CITIES, one_role=False))
    feed_store.upsert_feed(engine_for(db_url), "shrinking", url=str(feed_path), kind="xml")
    defs = _defs(db_url, str(tmp_path / "xano.sqlite"), RoutingResource())
    with dg.instance_for_test() as instance:
        assert run_feed(defs, instance, "shrinking", database_url=db_url)["status"] == "success"
        feed_path.write_bytes(_nurse_feed(CITIES[:2], one_role=False))
        # The check only warns; the run is partial because the mirror's valve holds back the mass delete.
        assert run_feed(defs, instance, "shrinking", database_url=db_url)["status"] == "partial"
        shrunk, first = _check_evaluations(instance, "raw_jobs", "feed_did_not_shrink")
    assert first.passed and first.metadata["note"].value == "no earlier successful run to compare with"
    assert not shrunk.passed and shrunk.severity == dg.AssetCheckSeverity.WARN
    assert {k: v.value for k, v in shrunk.metadata.items() if k in ("postings", "previous_postings", "ratio")} == {
        "postings": 2, "previous_postings": 6, "ratio": 0.3333}


def test_a_jump_in_the_duplicate_rate_warns_with_both_rates(db_url, tmp_path):
    feed_path = Path(tmp_path / "feed.xml")
    feed_path.write_bytes(_nurse_feed(CITIES, one_role=False))
    feed_store.upsert_feed(engine_for(db_url), "dupes", url=str(feed_path), kind="xml")
    defs = _defs(db_url, str(tmp_path / "xano.sqlite"), RoutingResource())
    with dg.instance_for_test() as instance:
        assert run_feed(defs, instance, "dupes", database_url=db_url)["status"] == "success"
        feed_path.write_bytes(_nurse_feed(CITIES, one_role=True))  # one role posted in six cities
        # Six published jobs become one: the mirror's valve holds back the five deletes, so the run is partial.
        assert run_feed(defs, instance, "dupes", database_url=db_url)["status"] == "partial"
        jumped, first = _check_evaluations(instance, "deduped_jobs", "duplicate_rate_stable")
    assert first.passed and first.metadata["note"].value == (
        "no earlier successful run with a duplicate rate to compare with")
    assert not jumped.passed and jumped.severity == dg.AssetCheckSeverity.WARN
    assert {k: v.value for k, v in jumped.metadata.items() if k in ("duplicate_rate", "previous", "jump")} == {
        "duplicate_rate": 0.8333, "previous": 0.0, "jump": 0.8333}
