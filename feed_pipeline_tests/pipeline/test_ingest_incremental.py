"""An ingest skips normalizing the records it read byte for byte last time, and its table then equals a
from-scratch ingest's: rows, reasons and coverage alike, with expiry judged at this read's time and a repeated
posting id still resolved to its last occurrence."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from feed_pipeline.pipeline.ingest import IngestResult, ingest_feed
from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.xml_feed import XmlFeedReader
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.schema import raw_jobs

FEED = "f"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(ref: str, title: str = "Line Cook", text: str = "Prepare the dishes of the menu.", *,
           expires: str = "", status: str = "OPEN", ident: bool = True) -> str:
    return (f"<job><title>{title}</title>{f'<referencenumber>{ref}</referencenumber>' if ident else ''}"
            f"<company>Acme</company><city>Austin</city><state>TX</state><description>{text} ({ref})</description>"
            f"{f'<expiration_date>{expires}</expiration_date>' if expires else ''}<status>{status}</status></job>")


def write(path: Path, *records: str) -> str:
    path.write_text("<source>" + "".join(records) + "</source>", encoding="utf-8")
    return str(path)


def ingest(engine, url: str, run_id: str, *, now: datetime = NOW, params: dict | None = None) -> IngestResult:
    feed = feed_store.upsert_feed(engine, FEED, url=url, params=params or {})
    return ingest_feed(engine, feed, run_id, force=True, started_at=now, now=now)


def table(engine) -> list[tuple]:
    columns = [c for c in raw_jobs.c if c.name != "ingested_at"]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*columns).where(raw_jobs.c.feed_id == FEED)
                                              .order_by(raw_jobs.c.job_key))]


def scratch(engine, url: str, **kwargs) -> tuple[list[tuple], IngestResult]:
    """The same document ingested into an empty table."""
    with engine.begin() as conn:
        conn.execute(raw_jobs.delete().where(raw_jobs.c.feed_id == FEED))
    result = ingest(engine, url, "scratch", **kwargs)
    assert result.kept_unread == 0
    return table(engine), result


def test_a_reread_normalizes_only_the_changed_records_and_equals_a_scratch_ingest(db_url, tmp_path):
    engine = engine_for(db_url)
    first = [record(f"R{n}") for n in range(8)] + [record("C1", status="CLOSED"), record("X", ident=False)]
    ingest(engine, write(tmp_path / "v1.xml", *first), "r1")

    edited = [*first[:2], record("R2", text="Prepare the dishes, now with a new menu."), *first[3:7],
              record("R9"), first[8], first[9]]  # R2 edited, R7 gone, R9 new; the closure and the keyless stay
    url = write(tmp_path / "v2.xml", *edited)
    result = ingest(engine, url, "r2")
    # The first record chooses the profile and is always parsed; the keyless one is invalid, keyed by its place.
    assert result.kept_unread == 6  # R1, R3-R6 and the closure
    assert result.written == 2  # R2 and R9
    assert result.read.stats["unchanged_records"] == 6
    incremental, stats = table(engine), result.stats
    expected, from_scratch = scratch(engine, url)
    assert incremental == expected
    assert stats["coverage"] == from_scratch.stats["coverage"]
    assert result.by_reason == from_scratch.by_reason == {"accepted": 8, "closed": 1, "invalid": 1}


def test_an_expiry_passed_since_the_last_read_is_judged_again(db_url, tmp_path):
    engine = engine_for(db_url)
    url = write(tmp_path / "feed.xml", record("R0"), record("R1", expires="2026-01-10"), record("R2"),
                record("R3", expires="2027-01-01"))
    assert ingest(engine, url, "r1").by_reason == {"accepted": 4}
    later = datetime(2026, 2, 1, tzinfo=UTC)
    result = ingest(engine, url, "r2", now=later)
    assert result.by_reason == {"accepted": 3, "expired": 1}
    assert result.kept_unread == 2  # R2 and R3 (R0 is parsed first; R1 is judged again)
    incremental = table(engine)
    assert incremental == scratch(engine, url, now=later)[0]
    assert ingest(engine, url, "r3", now=later).kept_unread == 3, "an expired posting stays expired: kept"


def test_a_repeated_id_whose_last_copy_is_unchanged_reads_the_feed_again(db_url, tmp_path):
    engine = engine_for(db_url)
    ingest(engine, write(tmp_path / "v1.xml", record("R0"), record("D", text="Old copy."), record("D", text="Kept.")),
           "r1")
    url = write(tmp_path / "v2.xml", record("R0"), record("D", text="Edited copy."), record("D", text="Kept."))
    result = ingest(engine, url, "r2")
    assert result.kept_unread == 0, "read again without skipping"
    with engine.connect() as conn:
        texts = conn.execute(sa.select(raw_jobs.c.description).where(raw_jobs.c.feed_id == FEED)).scalars().all()
    assert "Kept. (D)" in texts and not any("Edited" in t for t in texts), "the last occurrence is the stored one"
    assert table(engine) == scratch(engine, url)[0]


def test_other_feed_params_normalize_every_record_again(db_url, tmp_path):
    engine = engine_for(db_url)
    url = write(tmp_path / "feed.xml", *(record(f"R{n}") for n in range(4)))
    ingest(engine, url, "r1")
    assert ingest(engine, url, "r2").kept_unread == 3
    assert ingest(engine, url, "r3", params={"max_field_chars": 5000}).kept_unread == 0
    assert ingest(engine, url, "r4", params={"max_field_chars": 5000}).kept_unread == 3


def test_the_known_postings_are_loaded_only_when_the_document_is_read(tmp_path):
    url = write(tmp_path / "feed.xml", record("R0"), record("R1"))
    first = XmlFeedReader(FeedSpec(id=FEED, kind="xml", url=url, params={}), force=True, now=NOW)
    assert len(list(first)) == 2

    def must_not_load():
        raise AssertionError("an unchanged document needs no known postings")

    unchanged = XmlFeedReader(FeedSpec(id=FEED, kind="xml", url=url, params={},
                                       content_hash=first.outcome.content_hash), now=NOW, known=must_not_load)
    assert list(unchanged) == [] and unchanged.outcome.unchanged
    loads = []
    changed = XmlFeedReader(FeedSpec(id=FEED, kind="xml", url=url, params={}), force=True, now=NOW,
                            known=lambda: loads.append(1) or {})
    assert len(list(changed)) == 2 and loads == [1]
