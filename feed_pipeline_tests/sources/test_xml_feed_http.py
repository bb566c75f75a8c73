"""The XML source over HTTP: streaming, conditional fetch, resume after drops, failures, and the sensor's probe."""
from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from feed_pipeline.sources.base import FeedError, FeedSpec, FeedUnavailableError
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.registry import open_feed, probe_feed

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def many_jobs(count: int, marker: str = "") -> bytes:
    jobs = "".join(
        f"<job><referencenumber>{i}</referencenumber><title><![CDATA[ Job {i}{marker} ]]></title>"
        f"<url>https://x.example/{i}</url><description><![CDATA[<p>{'words ' * 40}</p>]]></description></job>\n"
        for i in range(count))
    return f'<?xml version="1.0" encoding="utf-8"?>\n<source>\n{jobs}</source>\n'.encode()


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=3, initial_wait=0.01, max_wait=0.02), chunk_bytes=4096,
                     read_timeout=5, connect_timeout=2) as client:
        yield client


def read(url: str, fetcher: HttpFetcher, *, force: bool = False, **spec_fields):
    reader = open_feed(FeedSpec(id="web", kind="xml", url=url, params={}, **spec_fields), force=force,
                       fetcher=fetcher)
    try:
        return list(reader), reader.outcome
    finally:
        reader.close()


@pytest.mark.parametrize(("gzip_encoding", "chunked"), [(False, False), (True, True)])
def test_feed_streams_from_http(feed_server, fetcher, fixtures, gzip_encoding, chunked):
    url = feed_server.add("/indeed.xml", (fixtures / "indeed.xml").read_bytes(), etag='"a1"',
                          last_modified="Wed, 01 May 2024 10:00:00 GMT", gzip_encoding=gzip_encoding, chunked=chunked)
    jobs, outcome = read(url, fetcher)
    assert outcome.complete and len(jobs) == 6 and jobs[0].title == "Sales Executive"
    assert outcome.etag == '"a1"' and outcome.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    assert outcome.stats["transport"] == "http" and outcome.content_hash
    assert outcome.bytes_read > 0 and outcome.stats["decoded_bytes"] == len((fixtures / "indeed.xml").read_bytes())


def test_gzip_file_served_as_is_is_unpacked(feed_server, fetcher, fixtures):
    import gzip

    url = feed_server.add("/feed.xml.gz", gzip.compress((fixtures / "adzuna.xml").read_bytes()),
                          content_type="application/gzip")
    jobs, outcome = read(url, fetcher)
    assert outcome.stats["gzip"] and outcome.profile == "adzuna" and len(jobs) == 2


def test_not_modified_feed_is_not_parsed(feed_server, fetcher):
    url = feed_server.add("/f.xml", many_jobs(3), etag='"v1"')
    _, first = read(url, fetcher)
    jobs, second = read(url, fetcher, etag=first.etag, content_hash=first.content_hash)
    assert jobs == [] and second.unchanged and second.etag == '"v1"' and second.content_hash == first.content_hash
    jobs, forced = read(url, fetcher, etag=first.etag, content_hash=first.content_hash, force=True)
    assert len(jobs) == 3 and not forced.unchanged
    assert "If-None-Match" not in feed_server.requests[-1].headers


def test_server_ignoring_conditionals_is_caught_by_its_etag(feed_server, fetcher):
    url = feed_server.add("/f.xml", many_jobs(3), etag='"v1"', ignore_conditionals=True)
    jobs, outcome = read(url, fetcher, etag='"v1"')
    assert jobs == [] and outcome.unchanged


def test_server_without_validators_is_compared_by_content_hash(feed_server, fetcher):
    url = feed_server.add("/f.xml", many_jobs(3))
    _, first = read(url, fetcher)
    jobs, second = read(url, fetcher, content_hash=first.content_hash)
    assert jobs == [] and second.unchanged and second.stats["spooled"]
    feed_server.routes["/f.xml"].body = many_jobs(4)
    jobs, third = read(url, fetcher, content_hash=first.content_hash)
    assert len(jobs) == 4 and not third.unchanged and third.stats["spooled"]
    assert third.content_hash != first.content_hash


def test_drop_mid_stream_resumes_without_duplicates(feed_server, fetcher):
    body = many_jobs(300)
    url = feed_server.add("/f.xml", body, etag='"v1"', drop_after=[len(body) // 3, len(body) // 2])
    jobs, outcome = read(url, fetcher)
    assert outcome.complete and outcome.stats["restarts"] == 2
    assert [j.source_id for j in jobs] == [str(i) for i in range(300)]


def test_drop_then_changed_feed_is_incomplete_not_spliced(feed_server, fetcher):
    body = many_jobs(300)
    url = feed_server.add("/f.xml", body, etag='"v1"', drop_after=[len(body) // 3])
    reader = open_feed(FeedSpec(id="web", kind="xml", url=url, params={}), fetcher=fetcher)
    jobs = iter(reader)
    seen = [next(jobs)]
    feed_server.routes["/f.xml"].body = many_jobs(300, marker=" v2")
    feed_server.routes["/f.xml"].etag = '"v2"'
    seen += list(jobs)
    outcome = reader.outcome
    assert not outcome.complete and "changed" in outcome.error and outcome.content_hash is None
    # A prefix of the feed, in order, no record twice: at most the records that arrived whole before the drop (how
    # many of those the framer saw depends on where the client's read chunks ended).
    assert [j.source_id for j in seen] == [str(i) for i in range(len(seen))]
    assert 1 <= len(seen) <= body[: len(body) // 3].count(b"</job>")
    assert all(" v2" not in j.title for j in seen)


def test_connection_that_keeps_dropping_ends_the_ingest_incomplete(feed_server, fetcher):
    body = many_jobs(300)
    url = feed_server.add("/f.xml", body, drop_after=[len(body) // 2] * 5)
    jobs, outcome = read(url, fetcher)
    assert not outcome.complete and "failed after record" in outcome.error
    # Every resume is cut at the same byte: a prefix of the feed, in order, within the bytes that ever arrived.
    assert [j.source_id for j in jobs] == [str(i) for i in range(len(jobs))]
    assert 1 <= len(jobs) <= body[: len(body) // 2].count(b"</job>")


def test_transient_errors_before_the_body_are_retried(feed_server, fetcher):
    url = feed_server.add("/f.xml", many_jobs(2), failures=[503, 429])
    jobs, outcome = read(url, fetcher)
    assert outcome.complete and len(jobs) == 2 and len(feed_server.requests) == 3


def test_missing_feed_and_dead_host_fail_clearly(feed_server, fetcher):
    with pytest.raises(FeedUnavailableError, match=r"feed 'web'.*answered 404"):
        read(feed_server.url("/missing.xml"), fetcher)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FeedUnavailableError, match="ConnectError"):
        read(f"http://127.0.0.1:{port}/f.xml", fetcher)


def test_html_error_page_with_200_is_not_taken_for_an_empty_feed(feed_server, fetcher):
    url = feed_server.add("/f.xml", b"<html><head><title>Maintenance</title></head><body/></html>",
                          content_type="text/html")
    with pytest.raises(FeedError, match="HTML page"):
        read(url, fetcher)


def test_probe_feed_for_http_and_files(feed_server, fetcher, tmp_path):
    url = feed_server.add("/f.xml", many_jobs(1), etag='"v1"')
    assert probe_feed(FeedSpec(id="w", kind="xml", url=url, params={}, etag='"v1"'), fetcher=fetcher).changed is False
    assert probe_feed(FeedSpec(id="w", kind="xml", url=url, params={}, etag='"v0"'), fetcher=fetcher).changed is True
    path = tmp_path / "f.xml"
    path.write_bytes(many_jobs(1))
    _, outcome = read(str(path), fetcher)
    spec = FeedSpec(id="w", kind="xml", url=str(path), params={}, etag=outcome.etag)
    assert probe_feed(spec, fetcher=fetcher).changed is False
    path.write_bytes(many_jobs(2))
    assert probe_feed(spec, fetcher=fetcher).changed is True
    assert probe_feed(FeedSpec(id="a", kind="remoteok", url=None, params={})) is None
    with pytest.raises(FeedUnavailableError):
        probe_feed(FeedSpec(id="w", kind="xml", url=feed_server.url("/gone.xml"), params={}), fetcher=fetcher)
