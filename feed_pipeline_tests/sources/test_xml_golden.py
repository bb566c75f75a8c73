"""The XML reader's output pinned record by record: the JobRecords (and the outcome) of the sample feed, every
fixture feed and a generated Indeed-style feed must stay exactly what the reader produced before its hot path
was rewritten for speed. Regenerate only for an intended behaviour change:

    PYTHONPATH=$PWD .venv/bin/python -m feed_pipeline_tests.sources.test_xml_golden
"""
from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.xml_feed import XmlFeedReader

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "golden_records.json.gz"  # gzip: about 1.4 MB of JSON
NOW = datetime(2024, 6, 1, tzinfo=UTC)
GENERATED_JOBS = 150


def _feeds(tmp_dir: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from feedgen import feed_chunks
    finally:
        sys.path.remove(str(ROOT / "bench"))
    generated = tmp_dir / "generated.xml"
    generated.write_text("".join(feed_chunks(GENERATED_JOBS, now=NOW)), encoding="utf-8")
    feeds = {"sample_feed.xml": ROOT / "feed_pipeline" / "data" / "sample_feed.xml", "generated.xml": generated}
    feeds.update({path.name: path for path in sorted(FIXTURES.glob("*.xml"))})
    return feeds


def _read(path: Path) -> dict:
    reader = XmlFeedReader(FeedSpec(id="golden", kind="xml", url=str(path), params={}), force=True, now=NOW)
    try:
        # source_digest is the read's bookkeeping (what lets the next read skip the record), not the record.
        jobs = [{k: v for k, v in job.to_dict().items() if k != "source_digest"} for job in reader]
    finally:
        reader.close()
    outcome = reader.outcome
    stats = {k: v for k, v in outcome.stats.items() if k not in ("duration_s", "records_per_s")}
    return {"jobs": json.loads(json.dumps(jobs, default=str)), "complete": outcome.complete, "error": outcome.error,
            "records_seen": outcome.records_seen, "profile": outcome.profile, "stats": json.loads(json.dumps(stats))}


def _snapshot(tmp_dir: Path) -> dict:
    return {name: _read(path) for name, path in _feeds(tmp_dir).items()}


def test_reader_yields_exactly_the_pinned_records_for_every_fixture_feed(tmp_path):
    expected = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    actual = _snapshot(tmp_path)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        want, got = expected[name], actual[name]
        assert {k: v for k, v in got.items() if k != "jobs"} == {k: v for k, v in want.items() if k != "jobs"}, name
        assert len(got["jobs"]) == len(want["jobs"]), name
        for index, (got_job, want_job) in enumerate(zip(got["jobs"], want["jobs"], strict=True)):
            assert got_job == want_job, f"{name} record {index + 1}"


if __name__ == "__main__":  # regenerate the golden file
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        text = json.dumps(_snapshot(Path(tmp)), sort_keys=True, ensure_ascii=False)
        GOLDEN.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    print(f"wrote {GOLDEN}", file=sys.stderr)
