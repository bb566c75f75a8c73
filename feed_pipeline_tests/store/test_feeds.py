"""The feeds registry accepts exactly the kinds a source can read, and refuses ids Dagster cannot use."""
import pytest

from feed_pipeline.sources.registry import SOURCES
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.db import engine_for


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
