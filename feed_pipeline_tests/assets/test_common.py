"""The metadata helpers every asset uses: a key is described or refused, tables are typed Dagster tables."""
from __future__ import annotations

import dagster as dg
import pytest

from feed_pipeline.assets.common import MetadataCatalog, counts_table, table


def test_a_catalog_emits_described_keys_and_dagster_keys_and_refuses_others():
    catalog = MetadataCatalog("raw_jobs", {"accepted": "postings kept"})
    assert catalog.emit({"accepted": 3, "dagster/row_count": 4}) == {"accepted": 3, "dagster/row_count": 4}
    with pytest.raises(KeyError, match=r"raw_jobs emits metadata key\(s\) \['acceptd'\]"):
        catalog.emit({"acceptd": 3})


def test_a_key_without_a_description_is_refused_when_the_catalog_is_built():
    with pytest.raises(ValueError, match=r"\['bytes'\] have no description"):
        MetadataCatalog("raw_jobs", {"accepted": "postings kept", "bytes": " "})


def test_the_catalog_becomes_a_described_table_for_the_definition():
    value = MetadataCatalog("x", {"b": "second", "a": "first"}).definition_metadata()["metadata_keys"]
    assert isinstance(value, dg.TableMetadataValue)
    assert [r.data for r in value.records] == [{"key": "a", "meaning": "first"}, {"key": "b", "meaning": "second"}]
    assert all(column.description for column in value.schema.columns)


def test_tables_are_typed_and_refuse_a_ragged_row():
    value = counts_table({"closed": 2, "accepted": 5}, "rejection reason", "postings")
    assert [(c.name, c.type) for c in value.schema.columns] == [("rejection reason", "string"), ("postings", "int")]
    assert [r.data for r in value.records] == [{"rejection reason": "accepted", "postings": 5},
                                              {"rejection reason": "closed", "postings": 2}]
    with pytest.raises(ValueError, match="has 1 cells"):
        table([("a", "string", "A"), ("b", "int", "B")], [("only a",)])
