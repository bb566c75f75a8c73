"""HttpFetcher against a real loopback server: retries, Retry-After, resume after drops, encodings, probes, JSON."""
from __future__ import annotations

import gzip
import json
import logging
import socket
import zlib

import httpx
import pytest

from feed_pipeline.sources.http_fetch import (
    BodyChangedError,
    BodyTooLargeError,
    FetchError,
    HttpFetcher,
    HttpStatusError,
    RetrySettings,
    TruncatedBodyError,
    UnsafeUrlError,
    UrlGuard,
    address_class,
    decompress_stream,
    redact_url,
)

BODY = b"".join(b"<line>%06d</line>\n" % i for i in range(20_000))  # ~360 KB


class Sleeps(list):
    """Records the backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fetcher(sleeps):
    # Small chunks, so a test sees bytes before a drop that happens early in the body.
    with HttpFetcher(retry=RetrySettings(attempts=4, initial_wait=0.01, max_wait=0.05, max_retry_after=30),
                     sleep=sleeps, read_timeout=5, connect_timeout=2, chunk_bytes=4096) as client:
        yield client


def read_all(fetcher: HttpFetcher, url: str, **kwargs) -> tuple[bytes, object]:
    with fetcher.stream(url, **kwargs) as body:
        data = b"".join(body.iter_bytes())
    return data, body


def test_plain_body_streams_with_validators_and_hash(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', last_modified="Wed, 01 May 2024 10:00:00 GMT")
    data, body = read_all(fetcher, url)
    assert data == BODY and body.status == 200 and body.etag == '"v1"'
    assert body.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    assert body.sha256 == __import__("hashlib").sha256(BODY).hexdigest() and body.restarts == 0
    assert feed_server.requests[0].headers["User-Agent"].startswith("feed_pipeline/")


@pytest.mark.parametrize(("gzip_encoding", "chunked"), [(True, False), (False, True), (True, True)])
def test_gzip_content_encoding_and_chunked_transfer(feed_server, fetcher, gzip_encoding, chunked):
    url = feed_server.add("/feed.xml", BODY, gzip_encoding=gzip_encoding, chunked=chunked, chunk_size=1000)
    data, body = read_all(fetcher, url)
    assert data == BODY
    if gzip_encoding:
        assert body.raw_bytes_received < len(BODY) // 3


def test_conditional_get_gives_304_and_no_body(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', last_modified="Wed, 01 May 2024 10:00:00 GMT")
    data, body = read_all(fetcher, url, etag='"v1"')
    assert body.not_modified and data == b"" and body.etag == '"v1"'
    assert feed_server.requests[-1].headers["If-None-Match"] == '"v1"'
    _, body = read_all(fetcher, url, last_modified="Wed, 01 May 2024 10:00:00 GMT")
    assert body.not_modified


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_transient_statuses_are_retried_with_backoff(feed_server, fetcher, sleeps, status):
    url = feed_server.add("/feed.xml", BODY, failures=[status, status])
    data, _ = read_all(fetcher, url)
    assert data == BODY and len(feed_server.requests) == 3 and len(sleeps) == 2
    assert all(0 <= s <= 0.05 for s in sleeps)


def test_retry_after_is_honoured(feed_server, fetcher, sleeps):
    url = feed_server.add("/feed.xml", BODY, failures=[429], retry_after="7")
    data, _ = read_all(fetcher, url)
    assert data == BODY and sleeps == [7.0]


def test_retry_after_is_capped(feed_server, fetcher, sleeps):
    url = feed_server.add("/feed.xml", BODY, failures=[503], retry_after="86400")
    read_all(fetcher, url)
    assert sleeps == [30.0]


def test_retries_give_up_with_a_clear_error(feed_server, fetcher, caplog):
    url = feed_server.add("/feed.xml", BODY, failures=[503] * 10)
    with caplog.at_level(logging.WARNING), pytest.raises(FetchError, match="failed after 4 attempts") as caught:
        fetcher.stream(url)
    assert caught.value.status == 503 and len(feed_server.requests) == 4
    assert "attempt 1 of 4" in caplog.text


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retried(feed_server, fetcher, status):
    url = feed_server.add("/feed.xml", BODY, failures=[status])
    with pytest.raises(HttpStatusError, match=f"answered {status}") as caught:
        fetcher.stream(url)
    assert caught.value.status == status and len(feed_server.requests) == 1


def test_connection_refused_is_retried_then_reported(fetcher, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="failed after 4 attempts: ConnectError"):
        fetcher.stream(f"http://127.0.0.1:{port}/feed.xml")
    assert len(sleeps) == 3


@pytest.mark.parametrize(("chunked", "gzip_encoding"), [(False, False), (True, False), (False, True)])
def test_dropped_connection_is_resumed_without_repeating_bytes(feed_server, fetcher, chunked, gzip_encoding):
    drop = 50_000 if not gzip_encoding else 20_000
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', drop_after=[drop, drop * 2], chunked=chunked,
                          gzip_encoding=gzip_encoding)
    data, body = read_all(fetcher, url)
    assert data == BODY and body.restarts == 2
    assert len(feed_server.requests_for("/feed.xml")) == 3


def test_resume_refuses_a_resource_that_changed(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', drop_after=[50_000])
    with fetcher.stream(url) as body:
        chunks = body.iter_bytes()
        received = next(chunks)
        feed_server.routes["/feed.xml"].etag = '"v2"'
        with pytest.raises(BodyChangedError, match="changed"):
            for chunk in chunks:
                received += chunk
    assert BODY.startswith(received)


def test_resume_checks_the_bytes_when_there_are_no_validators(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, drop_after=[50_000])
    with fetcher.stream(url) as body:
        chunks = body.iter_bytes()
        next(chunks)
        feed_server.routes["/feed.xml"].body = b"X" + BODY[1:]
        with pytest.raises(BodyChangedError, match="bytes came back different"):
            list(chunks)


def test_drops_past_the_attempt_budget_fail(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, drop_after=[10_000] * 10)
    with fetcher.stream(url) as body, pytest.raises(httpx.RemoteProtocolError, match=(
            r"^peer closed connection without sending complete message body "
            rf"\(received 10000 bytes, expected {len(BODY)}\)$")):
        list(body.iter_bytes())
    assert len(feed_server.requests_for("/feed.xml")) == 4, "the attempt budget: the first GET and three resumes"


def test_probe_uses_head_and_reports_changes(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', last_modified="Wed, 01 May 2024 10:00:00 GMT")
    assert fetcher.probe(url, etag='"v1"').changed is False
    assert fetcher.probe(url, etag='"v0"').changed is True
    assert fetcher.probe(url, last_modified="Wed, 01 May 2024 10:00:00 GMT").changed is False
    probe = fetcher.probe(url)
    assert probe.changed is True and probe.etag == '"v1"' and probe.content_length == len(BODY)
    assert {r.method for r in feed_server.requests} == {"HEAD"}


def test_probe_falls_back_to_a_conditional_get_when_head_is_refused(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY, etag='"v1"', head_allowed=False)
    assert fetcher.probe(url, etag='"v1"').changed is False
    assert [r.method for r in feed_server.requests] == ["HEAD", "GET"]


def test_probe_without_validators_cannot_tell(feed_server, fetcher):
    url = feed_server.add("/feed.xml", BODY)
    assert fetcher.probe(url, etag='"v1"').changed is None


def test_get_json_with_params_and_errors(feed_server, fetcher):
    url = feed_server.add("/api", json.dumps([{"id": 1}]).encode(), content_type="application/json",
                          gzip_encoding=True, failures=[503])
    assert fetcher.get_json(url, params={"tag": "dev"}) == [{"id": 1}]
    assert feed_server.requests[-1].headers["Accept"] == "application/json"
    feed_server.add("/html", b"<html>oops</html>", content_type="text/html")
    with pytest.raises(FetchError, match="not JSON"):
        fetcher.get_json(feed_server.url("/html"))
    with pytest.raises(BodyTooLargeError):
        fetcher.get_json(url, max_bytes=5)


def test_errors_never_show_secrets(feed_server, fetcher):
    url = feed_server.add("/api", b"{}", failures=[401])
    with pytest.raises(HttpStatusError) as caught:
        fetcher.get_json(url + "?app_id=abc&app_key=s3cr3t&what=dev")
    assert "s3cr3t" not in str(caught.value) and "abc" not in str(caught.value)
    assert "what=dev" in str(caught.value)
    assert redact_url("https://x/y?api_key=k&q=1") == "https://x/y?api_key=***&q=1"


def test_decompress_stream_handles_members_and_truncation():
    data = b"hello " * 100_000
    two_members = gzip.compress(data[:300_000]) + gzip.compress(data[300_000:])
    assert b"".join(decompress_stream([two_members[i:i + 777] for i in range(0, len(two_members), 777)])) == data
    raw_deflate = zlib.compressobj(wbits=-15)
    deflated = raw_deflate.compress(data) + raw_deflate.flush()
    assert b"".join(decompress_stream([deflated], "deflate")) == data
    with pytest.raises(TruncatedBodyError):
        list(decompress_stream([gzip.compress(BODY)[:1000]]))


def test_decompression_output_is_bounded_per_step():
    bomb = gzip.compress(b"\x00" * 10_000_000, compresslevel=1)
    assert max(len(piece) for piece in decompress_stream([bomb])) <= 64 * 1024


# --------------------------------------------------------------------------------------------------- credentials


def test_redact_url_hides_userinfo_and_secret_parameters_only():
    assert redact_url("https://bob:hunter2@feeds.example.com/x.xml?token=t0k&page=2") == \
        "https://***@feeds.example.com/x.xml?token=***&page=2"
    assert redact_url("https://x/y?api_key=k&q=1") == "https://x/y?api_key=***&q=1"
    assert redact_url("https://x/y?app_key=${ADZUNA_KEY}") == "https://x/y?app_key=${ADZUNA_KEY}"
    assert redact_url("https://x/plain/path") == "https://x/plain/path"


def test_a_failed_fetch_never_shows_the_userinfo_password(fetcher):
    url = "http://alice:pa55word@127.0.0.1:1/feed.xml?signature=s1gn"
    with pytest.raises(FetchError) as caught:
        fetcher.stream(url)
    assert "pa55word" not in str(caught.value) and "s1gn" not in str(caught.value)
    assert "pa55word" not in caught.value.url and "127.0.0.1:1/feed.xml" in str(caught.value)


def test_env_references_are_resolved_at_fetch_time_and_never_shown(feed_server, sleeps):
    url = feed_server.add("/feed.xml", BODY)
    with HttpFetcher(retry=RetrySettings(attempts=1), sleep=sleeps, env={"FEED_TOKEN": "s3cr&t"}) as client:
        data, body = read_all(client, url + "?token=${FEED_TOKEN}&page=1")
    assert data == BODY
    assert [r.target for r in feed_server.requests] == ["/feed.xml?token=s3cr%26t&page=1"], \
        "the value, percent-encoded, went on the wire"
    assert body.url.endswith("?token=${FEED_TOKEN}&page=1"), "the fetcher keeps the reference, not the value"


def test_an_unset_env_reference_is_a_clear_error_naming_the_variable(feed_server, sleeps):
    url = feed_server.add("/feed.xml", BODY)
    with HttpFetcher(retry=RetrySettings(attempts=1), sleep=sleeps, env={}) as client:
        with pytest.raises(FetchError, match=r"NO_SUCH_VAR is not set"):
            client.stream(url + "?key=${NO_SUCH_VAR}")
    assert feed_server.requests == []


def test_httpx_request_logs_are_redacted_once_the_filter_is_installed(feed_server, fetcher, caplog):
    from feed_pipeline.redacted_logging import install_log_redaction

    install_log_redaction()
    url = feed_server.add("/api", b"{}")
    with caplog.at_level(logging.DEBUG):
        fetcher.get_json(url + "?app_id=my-app-id&app_key=my-app-key&what=dev")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: GET" in logged, "httpx logged the request"
    assert "my-app-key" not in logged and "my-app-id" not in logged and "what=dev" in logged


# --------------------------------------------------------------------------------------------------- SSRF guard


@pytest.fixture
def no_private_urls(monkeypatch):
    monkeypatch.delenv("FEED_PIPELINE_ALLOW_PRIVATE_URLS", raising=False)


def test_a_redirect_to_a_link_local_address_is_refused_even_with_private_urls_allowed(feed_server, sleeps):
    url = feed_server.add("/feed.xml", b"", redirect_to="http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    with HttpFetcher(retry=RetrySettings(attempts=3), sleep=sleeps) as client:
        with pytest.raises(UnsafeUrlError, match=r"redirect to http://169\.254\.169\.254:80.*link-local"):
            client.stream(url)
        with pytest.raises(UnsafeUrlError, match=r"link-local"):
            client.probe(url)  # the feed-update sensor's HEAD
    assert [(r.method, r.target) for r in feed_server.requests] == [("GET", "/feed.xml"), ("HEAD", "/feed.xml")]
    assert sleeps == [], "refused at once, never retried"


def test_a_public_looking_redirect_chain_ending_link_local_is_refused():
    """Name resolution simulated: feeds.example.com is public, cdn.example.net resolves to the metadata address."""
    addresses = {"feeds.example.com": ["93.184.216.34"], "cdn.example.net": ["93.184.216.35"],
                 "metadata.example.org": ["169.254.169.254"]}
    chain = {"feeds.example.com": "https://cdn.example.net/feed.xml",
             "cdn.example.net": "http://metadata.example.org/latest/meta-data/"}
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.host)
        return httpx.Response(302, headers={"Location": chain[request.url.host]})

    guard = UrlGuard(allow_private=True, resolver=lambda host, port: addresses[host])
    with HttpFetcher(transport=httpx.MockTransport(handler), url_guard=guard) as client:
        with pytest.raises(UnsafeUrlError, match=r"metadata\.example\.org.*169\.254\.169\.254, a link-local"):
            client.stream("https://feeds.example.com/jobs.xml")
    assert sent == ["feeds.example.com", "cdn.example.net"], "the link-local hop was never requested"


def test_a_loopback_feed_is_refused_without_the_opt_in(feed_server, fetcher, no_private_urls):
    url = feed_server.add("/feed.xml", BODY)
    with pytest.raises(UnsafeUrlError, match=r"loopback address.*FEED_PIPELINE_ALLOW_PRIVATE_URLS"):
        fetcher.stream(url)
    with pytest.raises(UnsafeUrlError):
        fetcher.probe(url)
    assert feed_server.requests == []


def test_a_redirect_to_a_private_address_is_refused_without_the_opt_in(no_private_urls):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://10.0.0.5/internal/feed.xml"})

    guard = UrlGuard(resolver=lambda host, port: ["93.184.216.34"])
    with HttpFetcher(transport=httpx.MockTransport(handler), url_guard=guard) as client:
        with pytest.raises(UnsafeUrlError, match=r"redirect to http://10\.0\.0\.5:80.*a private address"):
            client.stream("https://feeds.example.com/jobs.xml")


def test_api_requests_to_configured_service_urls_are_not_guarded(feed_server, fetcher, no_private_urls):
    url = feed_server.add("/api", b'{"ok": true}')
    assert fetcher.get_json(url) == {"ok": True}


@pytest.mark.parametrize(("address", "kind"), [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("::ffff:169.254.169.254", "link-local"),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("0.0.0.0", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.1", "private"), ("172.16.5.4", "private"), ("100.64.0.1", "private"), ("fd00:ec2::254", "private"),
    ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_address_classes(address, kind):
    assert address_class(address) == kind
