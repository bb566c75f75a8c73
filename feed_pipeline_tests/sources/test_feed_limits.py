"""A feed cannot make us pay without bound: its body may inflate to `max_feed_bytes` and no further, whether
the inflation is a gzip file, an HTTP Content-Encoding, or both; past it the read stops with an error naming
the feed and the limit."""
from __future__ import annotations

import gzip
import time
import zlib
from types import SimpleNamespace

import pytest

from feed_pipeline.sources.base import FeedConfigError, FeedSpec
from feed_pipeline.sources.feed_bytes import (
    DEFAULT_MAX_FEED_BYTES,
    MAX_FEED_BYTES_VARIABLE,
    FeedTooLargeError,
    max_feed_bytes,
)
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.sources.registry import open_feed

LIMIT = 1024 * 1024
RECORD = b"<job><referencenumber>1</referencenumber><title>Engineer</title><url>https://x.example/1</url></job>\n"


def bomb(inflated_bytes: int) -> bytes:
    """A gzip file of a feed that starts well and then inflates to `inflated_bytes` of whitespace."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    parts = [compressor.compress(b'<?xml version="1.0"?>\n<source>\n' + RECORD)]
    block = b" " * (1024 * 1024)
    for _ in range(inflated_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.compress(b"</source>\n"))
    parts.append(compressor.flush())
    return b"".join(parts)


def read_all(spec: FeedSpec, fetcher: HttpFetcher | None = None):
    reader = open_feed(spec, fetcher=fetcher)
    try:
        return list(reader), reader.outcome
    finally:
        reader.close()


@pytest.fixture
def fetcher():
    with HttpFetcher(retry=RetrySettings(attempts=2, initial_wait=0.01, max_wait=0.02), read_timeout=10) as client:
        yield client


def test_a_gzip_file_bomb_stops_at_the_limit_with_an_error_naming_the_feed_and_the_limit(tmp_path):
    path = tmp_path / "bomb.xml.gz"
    path.write_bytes(bomb(64 * LIMIT))  # 64 MiB inflated from about 64 KB
    started = time.process_time()
    with pytest.raises(FeedTooLargeError) as caught:
        read_all(FeedSpec(id="bomb", kind="xml", url=str(path), params={"max_feed_bytes": LIMIT}))
    assert time.process_time() - started < 2  # stopped at 1 MiB, not after inflating 64
    message = str(caught.value)
    assert "feed 'bomb'" in message and "1,048,576 bytes" in message and "unpacked" in message
    assert "params.max_feed_bytes" in message


def test_the_limit_error_is_a_configuration_error_so_the_run_does_not_retry_it(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(b"<source>" + RECORD * (LIMIT // len(RECORD) + 10) + b"</source>")
    with pytest.raises(FeedConfigError, match="over its size limit"):
        read_all(FeedSpec(id="big", kind="xml", url=str(path), params={"max_feed_bytes": LIMIT}))


def test_a_feed_under_the_limit_reads_normally(tmp_path):
    path = tmp_path / "small.xml.gz"
    path.write_bytes(gzip.compress(b"<source>" + RECORD + b"</source>"))
    jobs, outcome = read_all(FeedSpec(id="small", kind="xml", url=str(path), params={"max_feed_bytes": LIMIT}))
    assert outcome.complete and [j.title for j in jobs] == ["Engineer"]


@pytest.mark.parametrize("spooled", [False, True], ids=["streamed", "spooled"])
def test_a_content_encoding_bomb_stops_at_the_limit(feed_server, fetcher, spooled):
    body = b"<source>" + RECORD + b" " * (16 * LIMIT) + b"</source>"
    url = feed_server.add("/bomb.xml", body, gzip_encoding=True)  # served as Content-Encoding: gzip
    # A stored content hash and no ETag make the body spool (hashed before parsing): the other read path.
    spec = FeedSpec(id="web-bomb", kind="xml", url=url, params={"max_feed_bytes": LIMIT},
                    content_hash="0" * 64 if spooled else None)
    with pytest.raises(FeedTooLargeError, match=r"feed 'web-bomb'.*1,048,576 bytes \(body bytes"):
        read_all(spec, fetcher)


def test_the_limit_comes_from_the_param_then_the_environment_then_the_default():
    spec = FeedSpec(id="f", kind="xml", url="x.xml", params={})
    assert max_feed_bytes(spec, {}) == DEFAULT_MAX_FEED_BYTES == 2 * 1024 ** 3
    assert max_feed_bytes(spec, {MAX_FEED_BYTES_VARIABLE: "5000000"}) == 5_000_000
    with_param = FeedSpec(id="f", kind="xml", url="x.xml", params={"max_feed_bytes": 4096})
    assert max_feed_bytes(with_param, {MAX_FEED_BYTES_VARIABLE: "5000000"}) == 4096


@pytest.mark.parametrize(("params", "env", "named"), [
    ({"max_feed_bytes": "big"}, {}, "params.max_feed_bytes"),
    ({"max_feed_bytes": 10}, {}, "params.max_feed_bytes"),
    ({}, {MAX_FEED_BYTES_VARIABLE: "2GB"}, MAX_FEED_BYTES_VARIABLE),
])
def test_an_unusable_limit_is_a_configuration_error_naming_where_it_came_from(params, env, named):
    with pytest.raises(FeedConfigError, match=rf"feed 'f': {named} must be an integer"):
        max_feed_bytes(FeedSpec(id="f", kind="xml", url="x.xml", params=params), env)


def test_the_environment_limit_applies_to_a_feed_without_the_param(tmp_path, monkeypatch):
    path = tmp_path / "bomb.xml.gz"
    path.write_bytes(bomb(8 * LIMIT))
    monkeypatch.setenv(MAX_FEED_BYTES_VARIABLE, str(LIMIT))
    with pytest.raises(FeedTooLargeError, match=MAX_FEED_BYTES_VARIABLE):
        read_all(FeedSpec(id="env", kind="xml", url=str(path), params={}))


def test_the_feed_update_sensor_stops_hashing_a_content_encoding_bomb_at_the_limit(feed_server, fetcher):
    from feed_pipeline.automation.feed_versions import FeedVersionError, check_feed_version

    # No ETag or Last-Modified: the sensor has to GET and hash the body to know whether it changed.
    url = feed_server.add("/bomb.xml", b"<source>" + b" " * (16 * LIMIT) + b"</source>", gzip_encoding=True)
    feed = SimpleNamespace(id="web-bomb", kind="xml", url=url, params={"max_feed_bytes": LIMIT}, etag=None,
                           last_modified=None, content_hash="0" * 64)  # the feeds row fields the sensor reads
    with pytest.raises(FeedVersionError, match=r"feed 'web-bomb'.*over its size limit of 1,048,576 bytes"):
        check_feed_version(feed, fetcher, {})
