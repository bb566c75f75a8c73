"""What every stage asset shares: the partition's feed, timing into the run report, metadata an operator can read.

Metadata rules (docs/operations.md, "Reading the metadata"):
- every key an asset or check emits is described once, in its `MetadataCatalog`; Dagster has no per-key
  description, so the catalog is attached to the definition as a `metadata_keys` table (the asset's
  "Definition" tab) and `emit` refuses a key it does not describe;
- a table is a Dagster table (`MetadataValue.table` with a `TableSchema` whose columns are described), never
  markdown, and its counts are not repeated as separate integers;
- numbers are what happened in this run (Dagster plots them over time); settings go in as text or JSON.
"""

import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as sa

from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource

GROUP = "feed_pipeline"

# Every check is partitioned by `feeds` so its results are recorded against the feed's partition (Dagster 1.13:
# `@asset_check(partitions_def=...)`, a preview feature). The preview warning, once per check at import, tells
# an operator nothing they can act on; only that message is silenced.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec",
                        category=dg.PreviewWarning)
# The enrichment assets' kind badge: which classifier runs is a deployment choice (Gemini or the offline
# one), so the badge stays neutral and the materialization names the model (`classifier`, `model`).
AI_KIND = "ai"


@contextmanager
def stopwatch():
    """Yields a callable returning the seconds elapsed since entry."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


class UndescribedMetadataWarning(UserWarning):
    """A metadata key emitted without a description in its catalog."""


class MetadataCatalog:
    """The metadata keys one asset or check emits, each with what it means."""

    def __init__(self, owner: str, descriptions: Mapping[str, str]):
        missing = [key for key, text in descriptions.items() if not text or not text.strip()]
        if missing:
            raise ValueError(f"{owner}: metadata key(s) {missing} have no description")
        self.owner = owner
        self.descriptions = dict(descriptions)

    def definition_metadata(self) -> dict[str, dg.MetadataValue]:
        """The catalog as a table for the definition's metadata (shown on the asset's or check's page)."""
        return {"metadata_keys": table(
            [("key", "string", "metadata key of each materialization / check result"),
             ("meaning", "string", "what the value says")],
            sorted(self.descriptions.items()))}

    def emit(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values`, after checking each key is described here (an undescribed key is a programming error)."""
        unknown = sorted(key for key in values if key not in self.descriptions and not key.startswith("dagster/"))
        if unknown:  # a programming error: the suite turns this warning into a failure; a production run goes on
            warnings.warn(f"{self.owner} emits metadata key(s) {unknown} that its MetadataCatalog does not describe",
                          UndescribedMetadataWarning, stacklevel=2)
        return dict(values)


Column = tuple[str, str, str]  # (name, Dagster column type: string/int/float/bool, description)


def table(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> dg.MetadataValue:
    """A Dagster table: typed, described columns; cells str, int, float, bool or None."""
    names = [name for name, _, _ in columns]
    records = []
    for row in rows:
        if len(row) != len(names):
            raise ValueError(f"a metadata table row has {len(row)} cells for the columns {names}")
        records.append(dg.TableRecord({name: _cell(value) for name, value in zip(names, row, strict=True)}))
    schema = dg.TableSchema(columns=[dg.TableColumn(name=name, type=kind, description=description)
                                     for name, kind, description in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def _cell(value: Any) -> str | int | float | bool | None:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def counts_table(counts: Mapping[str, int], label: str, what: str = "jobs") -> dg.MetadataValue:
    """A two-column table of counts by `label`, sorted by label."""
    return table([(label, "string", f"the {label}"), (what, "int", f"{what} with this {label}")],
                 sorted(counts.items()))


PROBLEM_SAMPLE = 20


def problems_table(problems: Sequence[tuple[str, str]]) -> dg.MetadataValue:
    """The first PROBLEM_SAMPLE (job_key, problem) pairs a check found."""
    return table([("job_key", "string", "the job"), ("problem", "string", "what is wrong with it")],
                 problems[:PROBLEM_SAMPLE])


def lines_table(column: str, description: str, lines: Sequence[str], limit: int = PROBLEM_SAMPLE) -> dg.MetadataValue:
    """The first `limit` lines as a one-column table."""
    return table([(column, "string", description)], [(line,) for line in lines[:limit]])


def stage_asset(catalog: MetadataCatalog, **kwargs: Any):
    """`@dg.asset` with what every stage shares: the feed partitions, the group and the catalog's descriptions."""
    return dg.asset(partitions_def=feeds_partitions, group_name=GROUP, metadata=catalog.definition_metadata(),
                    **kwargs)


def stage_scope(context: dg.AssetExecutionContext, database: DatabaseResource) -> tuple[sa.Engine, str]:
    """What every stage works on: the database, and the feed that is the run's partition."""
    return database.engine, context.partition_key


def feed_check(asset: Any, catalog: MetadataCatalog, *, blocking: bool, description: str, name: str | None = None):
    """`@dg.asset_check` on one stage asset's feed partition, described by its catalog (named after the function
    unless `name` is given)."""
    return dg.asset_check(asset=asset, name=name, blocking=blocking, partitions_def=feeds_partitions,
                          metadata=catalog.definition_metadata(), description=description)
