"""The feeds registry accepts exactly the kinds a source can read, refuses ids Dagster cannot use, and keeps each
feed's own taxonomy (validated, stored as content) that `feed_taxonomy` resolves before the deployment's."""
import json

import pytest
import sqlalchemy as sa
from alembic import command

from feed_pipeline.core.taxonomy import (
    TAXONOMY_ENV,
    TaxonomyError,
    load_taxonomy,
    taxonomy_from_dict,
    taxonomy_to_dict,
)
from feed_pipeline.sources.registry import SOURCES
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.db import alembic_config, engine_for, head_revision, make_engine, migrate
from feed_pipeline.store.schema import feeds

BOARD = {"industries": [{"name": "Property Management", "description": "Apartment communities.",
                         "functions": [{"name": "Leasing"}, {"name": "Maintenance", "keywords": ["hvac"]}]}]}


def test_every_feed_kind_has_a_source_and_every_source_a_kind():
    assert set(feed_store.FEED_KINDS) == set(SOURCES)


@pytest.mark.parametrize("bad", ["", "a,b", "a|b", "a b", "x...y", "a/b", "tab\tid"])
def test_feed_ids_that_cannot_be_partition_keys_are_refused(bad):
    with pytest.raises(ValueError):
        feed_store.validate_feed_id(bad)


def test_upsert_feed_round_trips_and_updates_in_place(db_url):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "f1", url="/tmp/feed.xml", params={"profile": "indeed"})
    feed = feed_store.upsert_feed(engine, "f1", url="/tmp/other.xml", name="Renamed")
    assert (feed.url, feed.name, feed.params, feed.active) == ("/tmp/other.xml", "Renamed", {}, True)
    assert [f.id for f in feed_store.list_feeds(engine)] == ["f1"]
    assert feed_store.set_feed_active(engine, "f1", False).active is False
    assert feed_store.list_feeds(engine, active_only=True) == []
    with pytest.raises(feed_store.FeedNotFoundError, match="feeds add ghost"):
        feed_store.get_feed(engine, "ghost")
    with pytest.raises(ValueError, match="needs --url"):
        feed_store.upsert_feed(engine, "f2", url=None, kind="xml")


def test_a_feed_taxonomy_is_stored_as_content_kept_on_update_and_cleared_on_request(db_url):
    engine = engine_for(db_url)
    feed = feed_store.upsert_feed(engine, "board", url="/tmp/feed.xml", taxonomy={**BOARD, "about": "dropped"})
    assert feed.taxonomy == taxonomy_to_dict(taxonomy_from_dict(BOARD)) and "about" not in feed.taxonomy
    assert feed.as_dict()["taxonomy_version"] == taxonomy_from_dict(BOARD).version
    assert "taxonomy" not in feed.as_dict(), "the echo names the taxonomy by its hash, not its whole content"

    assert feed_store.upsert_feed(engine, "board", url="/tmp/moved.xml").taxonomy == feed.taxonomy, \
        "kept when not given"
    assert feed_store.upsert_feed(engine, "board", url="/tmp/moved.xml", taxonomy=None).taxonomy is None
    assert feed_store.set_feed_taxonomy(engine, "board", BOARD).taxonomy_version == taxonomy_from_dict(BOARD).version
    with pytest.raises(feed_store.FeedNotFoundError):
        feed_store.set_feed_taxonomy(engine, "ghost", BOARD)


def test_an_invalid_feed_taxonomy_is_refused_with_the_entry_named_and_nothing_stored(db_url):
    engine = engine_for(db_url)
    broken = {"industries": [{"name": "Property Management", "functions": [{"name": "Leasing"}, {"name": ""}]}]}
    with pytest.raises(TaxonomyError, match=r"feed 'board'\'s taxonomy: industries\[0\] \(Property Management\)"
                                            r"\.functions\[1\]: 'name' must be a non-empty string"):
        feed_store.upsert_feed(engine, "board", url="/tmp/feed.xml", taxonomy=broken)
    assert feed_store.list_feeds(engine) == []
    feed_store.upsert_feed(engine, "board", url="/tmp/feed.xml")
    with pytest.raises(TaxonomyError, match="non-empty list 'industries'"):
        feed_store.set_feed_taxonomy(engine, "board", {"industries": []})
    assert feed_store.get_feed(engine, "board").taxonomy is None


def test_feed_taxonomy_resolves_the_feeds_own_then_the_deployments_then_the_bundled_one(db_url, tmp_path,
                                                                                        monkeypatch):
    engine = engine_for(db_url)
    feed_store.upsert_feed(engine, "own", url="/tmp/a.xml", taxonomy=BOARD)
    feed_store.upsert_feed(engine, "plain", url="/tmp/b.xml")
    deployment = tmp_path / "deployment.json"
    deployment.write_text(json.dumps({"industries": [{"name": "Retail", "functions": [{"name": "Cashier"}]}]}))

    monkeypatch.delenv(TAXONOMY_ENV, raising=False)
    assert feed_store.feed_taxonomy(engine, "plain") is load_taxonomy()
    monkeypatch.setenv(TAXONOMY_ENV, str(deployment))
    assert feed_store.feed_taxonomy(engine, "plain").industry_names == ("Retail",)
    assert feed_store.feed_taxonomy(engine, "own").industry_names == ("Property Management",)
    assert feed_store.feed_taxonomy(engine, "unregistered").industry_names == ("Retail",)
    deployment.unlink()
    assert feed_store.feed_taxonomy(engine, "own").industry_names == ("Property Management",), \
        "a feed's own taxonomy does not depend on any file"
    with pytest.raises(TaxonomyError, match=TAXONOMY_ENV):
        feed_store.feed_taxonomy(engine, "plain")


@pytest.mark.parametrize(("params", "wanted"), [
    ({}, False), ({"category_hint": True}, True), ({"category_hint": "true"}, True), ({"category_hint": "no"}, False),
    ({"category_hint": False}, False), ({"category_hint": 1}, True),
])
def test_the_category_hint_is_off_unless_the_feed_params_ask(sqlite_url, params, wanted):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "f", url="/tmp/a.xml", params=params)
    assert feed_store.wants_category_hint(engine, "f") is wanted


def test_the_taxonomy_migration_keeps_registered_feeds(db_url):
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO feeds (id, name, kind, url, params, active, run_count, "
                             "consecutive_failure_count, created_at, updated_at) VALUES ('old', 'old', 'xml', "
                             "'/tmp/a.xml', '{}', true, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(feeds.c.id, feeds.c.taxonomy)).all() == [("old", None)]
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    engine.dispose()


def test_a_stored_taxonomy_that_no_longer_validates_is_listed_as_invalid_not_a_crash(sqlite_url):
    engine = engine_for(sqlite_url)
    feed_store.upsert_feed(engine, "old", url="/tmp/a.xml", taxonomy=BOARD)
    with engine.begin() as conn:  # as if stored under older rules
        conn.execute(feeds.update().values(taxonomy={"industries": [{"name": "A", "functions": []}]}))
    version = feed_store.get_feed(engine, "old").as_dict()["taxonomy_version"]
    assert version.startswith("invalid: feed 'old'\'s taxonomy: industries[0] (A): 'functions' must be")
    with pytest.raises(TaxonomyError, match="'functions' must be a non-empty list"):
        feed_store.feed_taxonomy(engine, "old")
