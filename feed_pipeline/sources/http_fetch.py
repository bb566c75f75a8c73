"""One HTTP client for every source and sensor: timeouts, retries with backoff, conditional GETs, streamed bodies.

Retries (tenacity, with the wait of resources/http_resilience.py: a `Retry-After` header is honoured, capped,
else exponential backoff with full jitter) cover connection errors, timeouts, 408/425/429/5xx, and a body
that stops before its end. Other 4xx are not retried: they will not get better by asking again. The fetcher
also keeps the rate limiters of the APIs it calls (`limiter()`): the pacing belongs to the client that owns
the connection.

A body that drops mid-stream is fetched again from the start and the bytes already delivered are skipped,
after checking that they are byte-for-byte the same (their SHA-256): the consumer sees one uninterrupted
stream, never a record twice and never a silently shorter feed. If the resource changed in between, the
read fails with `BodyChangedError` instead of splicing two versions together.

Feed fetches (`stream`, `probe`) are guarded against SSRF: every hop, redirects included, has its host
resolved and is refused when it lands on a link-local address (cloud metadata at 169.254.169.254,
fe80::/10) and, unless FEED_PIPELINE_ALLOW_PRIVATE_URLS is set, on a loopback or private one. API
requests (`request`, `get_json`) go to service base URLs the operator configured and are trusted as given.
A URL may reference environment variables as `${NAME}` (core/redact.py), substituted only when the request
is sent; every URL in a message or a log line is redacted.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity
from tenacity import retry_if_exception, stop_after_attempt

from feed_pipeline.core.redact import UnsetVariableError, redact_text, redact_url, resolve_env_refs
from feed_pipeline.resources.http_resilience import RateLimiter, WaitServerOrBackoff, parse_retry_after
from feed_pipeline.settings import Settings, process_environment

log = logging.getLogger(__name__)

USER_AGENT = "feed_pipeline/0.1 (+job feed ingest; contact the feed's owner)"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK_BYTES = 64 * 1024
ALLOW_PRIVATE_ENV = "FEED_PIPELINE_ALLOW_PRIVATE_URLS"
_GUARD_EXTENSION = "feed_pipeline.url_guard"  # marks a request (and the redirects it leads to) as a feed fetch
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public either


# --------------------------------------------------------------------------------------------------- errors


class FetchError(Exception):
    """A request failed for good (after retries where they apply). `url` has its secrets redacted.

    For an error status, `headers` are the response's headers and `body` the start of its body (APIs put
    their quota state and error codes there).
    """

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 headers: Mapping[str, str] | None = None, body: str = ""):
        # Redacted here, once: this message travels into ingests.error, Dagster's event log and the CLI.
        super().__init__(redact_text(message))
        self.url = redact_url(url)
        self.status = status
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = redact_text(body)


class HttpStatusError(FetchError):
    """The server answered with a status that is an answer, not a hiccup (most 4xx)."""


class RetryableStatusError(FetchError):
    """429/5xx and friends; `retry_after` is the server's requested delay in seconds, when it gave one."""

    def __init__(self, message: str, *, url: str, status: int, retry_after: float | None,
                 headers: Mapping[str, str] | None = None, body: str = ""):
        super().__init__(message, url=url, status=status, headers=headers, body=body)
        self.retry_after = retry_after


class TruncatedBodyError(FetchError):
    """The body ended before its declared end (a compressed stream that never finished)."""


class BodyChangedError(FetchError):
    """After a dropped connection the resource came back different: the two halves cannot be joined."""


class BodyTooLargeError(FetchError):
    """A fully-read response (JSON) is bigger than the caller allowed."""


class UnsafeUrlError(FetchError):
    """A feed fetch (or one of its redirects) points at an address feeds may not reach (SSRF guard)."""


# --------------------------------------------------------------------------------------------------- SSRF guard

Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (what the connection will use); empty when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []  # the connection fails on its own, with the resolver's message
    return [str(info[4][0]) for info in infos]


def private_urls_allowed(env: Mapping[str, str] | None = None) -> bool:
    return Settings.from_env(env).allow_private_urls


def address_class(address: str) -> str | None:
    """"link-local", "loopback" or "private" for an address feeds should not reach; None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return "link-local"
    if ip.is_loopback or ip.is_unspecified:
        return "loopback"
    if ip.is_private or ip.is_reserved or ip.is_multicast or getattr(ip, "is_site_local", False) or (
            isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_ADDRESS_SPACE):
        return "private"
    return None


@dataclass(frozen=True)
class UrlGuard:
    """Checks one hop of a feed fetch. `allow_private` None reads FEED_PIPELINE_ALLOW_PRIVATE_URLS at each check,
    so a test can opt in or out with the environment; link-local is refused either way."""

    allow_private: bool | None = None
    resolver: Resolver = resolve_host

    def check(self, url: httpx.URL, *, redirect: bool = False) -> None:
        host = url.host
        if not host:
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = self.resolver(host, port)
        allow_private = private_urls_allowed() if self.allow_private is None else self.allow_private
        origin = f"{url.scheme}://{host}:{port}"  # never the path or query: they may hold substituted secrets
        where = ("a redirect to " if redirect else "") + origin
        for address in addresses:
            kind = address_class(address)
            if kind == "link-local":
                raise UnsafeUrlError(
                    f"refused to fetch {where}: it resolves to {address}, a link-local address (cloud metadata "
                    f"services live there); feeds may never reach link-local addresses", url=origin)
            if kind is not None and not allow_private:
                raise UnsafeUrlError(
                    f"refused to fetch {where}: it resolves to {address}, a {kind} address; feeds may reach "
                    f"loopback and private addresses only when {ALLOW_PRIVATE_ENV}=1 is set where runs execute",
                    url=origin)


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableStatusError | TruncatedBodyError):
        return True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError | httpx.ProxyError):
        return False
    return isinstance(exc, httpx.TransportError)


@contextmanager
def _final_failure(where: str, url: str, retrying: tenacity.Retrying) -> Iterator[None]:
    """What is left after the retries, as a FetchError saying how many attempts were made (and, for an error
    status, carrying the last answer's status, headers and body start)."""
    try:
        yield
    except FetchError as exc:
        if not isinstance(exc, RetryableStatusError | TruncatedBodyError):
            raise
        raise FetchError(f"{where} failed after {_attempts(retrying)}: {exc}", url=url,
                         status=exc.status, headers=exc.headers, body=exc.body) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{where} failed after {_attempts(retrying)}: {describe_error(exc)}", url=url) from exc


def _attempts(retrying: tenacity.Retrying) -> str:
    count = retrying.statistics.get("attempt_number", 1)
    return f"{count} attempt" + ("s" if count != 1 else "")


def describe_error(exc: BaseException) -> str:
    """A one-line reason for logs: the exception type and message (httpx messages can be empty)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RetrySettings:
    """How hard to try: attempts in all (first try included), backoff bounds in seconds."""

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0  # a server asking for longer than this gets this


# --------------------------------------------------------------------------------------------------- decoding


class _Decompressor:
    """Streaming gzip/deflate decoding with bounded output per step (a compression bomb cannot balloon memory).

    Handles concatenated gzip members, zlib-wrapped and raw deflate.
    """

    def __init__(self, encoding: str, chunk_bytes: int = CHUNK_BYTES):
        self._encoding = encoding
        self._chunk = chunk_bytes
        self._started = False
        self._d = self._new()

    def _new(self, raw_deflate: bool = False):
        if raw_deflate:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # auto-detect gzip or zlib header

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._d.eof:
                data = self._d.unused_data + data if self._d.unused_data else data
                if not data.strip(b"\x00"):
                    return  # trailing padding after the last member
                self._d = self._new()
            try:
                out = self._d.decompress(data, self._chunk)
            except zlib.error:
                if self._started or self._encoding != "deflate":
                    raise
                self._d = self._new(raw_deflate=True)  # "deflate" sent without the zlib wrapper
                out = self._d.decompress(data, self._chunk)
            self._started = True
            if out:
                yield out
            data = self._d.unconsumed_tail
            while data and not self._d.eof:
                out = self._d.decompress(data, self._chunk)
                if out:
                    yield out
                data = self._d.unconsumed_tail
            if self._d.eof and self._d.unused_data:
                data = self._d.unused_data
                self._d = self._new()
                if not data.strip(b"\x00"):
                    return

    @property
    def finished(self) -> bool:
        return self._d.eof or not self._started


def decompress_stream(chunks: Iterable[bytes], encoding: str = "gzip", *, source: str = "stream") -> Iterator[bytes]:
    """Decode a gzip/deflate byte stream chunk by chunk; a stream cut short raises TruncatedBodyError."""
    decoder = _Decompressor(encoding)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    if not decoder.finished:
        raise TruncatedBodyError(f"{source}: the {encoding} stream ended before its end marker", url=source)


GZIP_MAGIC = b"\x1f\x8b"


# --------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Probe:
    """What a cheap check learned. `changed` is None when the server gives no way to tell without the body."""

    changed: bool | None
    status: int
    etag: str | None
    last_modified: str | None
    content_length: int | None


def same_etag(a: str | None, b: str | None) -> bool:
    """Weak comparison (RFC 9110 8.8.3.2): equal opaque tags, W/ prefixes ignored."""
    if not a or not b:
        return False
    return a.removeprefix("W/").strip() == b.removeprefix("W/").strip()


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


class HttpBody:
    """An open GET: status and validators known, body not read yet. Use as a context manager.

    `iter_bytes()` yields the decoded body (Content-Encoding undone) and survives dropped connections as the
    module docstring says. After a full read, `sha256` is the hex digest of the decoded body.
    """

    def __init__(self, fetcher: HttpFetcher, url: str, request_headers: dict[str, str], response: httpx.Response,
                 *, guarded: bool = False):
        self._fetcher = fetcher
        self._guarded = guarded
        self.url = url
        self._request_headers = {k: v for k, v in request_headers.items()
                                 if k not in ("If-None-Match", "If-Modified-Since")}
        self._response: httpx.Response | None = response
        self.status = response.status_code
        self.headers = response.headers
        self.etag = response.headers.get("etag")
        self.last_modified = response.headers.get("last-modified")
        self.raw_bytes_received = 0
        self.bytes_delivered = 0
        self.restarts = 0
        self._hasher = hashlib.sha256()
        self._done = False

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def sha256(self) -> str | None:
        return self._hasher.hexdigest() if self._done else None

    def _decoded(self, response: httpx.Response) -> Iterator[bytes]:
        encoding = response.headers.get("content-encoding", "").strip().lower()
        raw = self._count_raw(response.iter_raw(self._fetcher.chunk_bytes))
        if encoding in ("", "identity"):
            return raw
        if encoding in ("gzip", "x-gzip", "deflate"):
            return decompress_stream(raw, "deflate" if encoding == "deflate" else "gzip", source=redact_url(self.url))
        raise FetchError(f"GET {redact_url(self.url)}: unsupported Content-Encoding {encoding!r}", url=self.url)

    def _count_raw(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.raw_bytes_received += len(chunk)
            yield chunk

    def _reopen(self) -> httpx.Response:
        """A fresh GET of the same resource after a drop, refused if its validators say it changed."""
        # retried by the caller's attempt loop
        response = self._fetcher._send(self.url, self._request_headers, guarded=self._guarded)
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if (self.etag and etag and not same_etag(self.etag, etag)) or (
            self.last_modified and last_modified and self.last_modified != last_modified
        ):
            response.close()
            raise BodyChangedError(
                f"GET {redact_url(self.url)}: the resource changed (ETag/Last-Modified) while it was being read; "
                f"run the ingest again", url=self.url)
        return response

    def _skip_prefix(self, chunks: Iterator[bytes], length: int, digest: str) -> Iterator[bytes]:
        """Drop the first `length` bytes after checking they hash to `digest`; yield the rest."""
        prefix = hashlib.sha256()
        remaining = length
        for chunk in chunks:
            if remaining > 0:
                head, chunk = chunk[:remaining], chunk[remaining:]
                prefix.update(head)
                remaining -= len(head)
                if remaining == 0 and prefix.hexdigest() != digest:
                    raise BodyChangedError(
                        f"GET {redact_url(self.url)}: after a dropped connection the first {length:,} bytes came back "
                        f"different; the feed changed mid-read, run the ingest again", url=self.url)
                if not chunk:
                    continue
            yield chunk
        if remaining > 0:
            raise BodyChangedError(
                f"GET {redact_url(self.url)}: after a dropped connection the body is now shorter than the "
                f"{length:,} bytes already read; the feed changed mid-read, run the ingest again", url=self.url)

    def iter_bytes(self) -> Iterator[bytes]:
        if self.not_modified:
            return
        for attempt in self._fetcher.retrying(f"GET {redact_url(self.url)} (body)"):
            try:
                if self._response is None:
                    self.restarts += 1
                    self._response = self._reopen()
                    chunks = self._skip_prefix(self._decoded(self._response), self.bytes_delivered,
                                               self._hasher.copy().hexdigest())
                else:
                    chunks = self._decoded(self._response)
                for chunk in chunks:
                    self._hasher.update(chunk)
                    self.bytes_delivered += len(chunk)
                    yield chunk
            except Exception as exc:
                if self._response is not None:
                    self._response.close()
                    self._response = None
                attempt.retry_state.set_exception((type(exc), exc, exc.__traceback__))
            else:
                attempt.retry_state.set_result(None)
        self._done = True
        self.close()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def __enter__(self) -> HttpBody:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------------- fetcher


class HttpFetcher:
    """A context manager owning one httpx.Client, shared by every request of an ingest or a sensor tick.

    `stream()` for feeds (conditional, streamed, resumable), `probe()` for "changed or not?" without the body,
    `get_json()` / `request()` for APIs. All share the same timeouts and retry policy.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetrySettings | None = None,
        user_agent: str = USER_AGENT,
        headers: Mapping[str, str] | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        url_guard: UrlGuard | None = None,
        env: Mapping[str, str] | None = None,
    ):
        """`url_guard` checks every hop of a feed fetch (default: UrlGuard() reading the environment); `env` is
        where `${NAME}` references in URLs are looked up (default: the process environment at request time)."""
        self.retry = retry or RetrySettings()
        self.chunk_bytes = chunk_bytes
        self._sleep = sleep
        self._guard = url_guard or UrlGuard()
        self._env = env
        self._client = httpx.Client(
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate", **(headers or {})},
            follow_redirects=True,
            transport=transport,
            event_hooks={"request": [self._check_hop]},
        )
        self._limiters: dict[tuple[str, ...], RateLimiter] = {}
        self._limiters_lock = threading.Lock()

    def _check_hop(self, request: httpx.Request) -> None:
        """httpx calls this before every request it sends, each redirect included."""
        first_url = request.extensions.get(_GUARD_EXTENSION)
        if first_url is not None:
            self._guard.check(request.url, redirect=str(request.url) != first_url)

    def limiter(self, budget: tuple[str, ...], requests_per_minute: float) -> RateLimiter:
        """The limiter of one API budget (source, host, credential) at one rate, made on first use: the
        readers that share this fetcher and that budget share its pace (a `multi` feed's sources, or two feeds
        on one API key read through one fetcher)."""
        key = (*budget, f"{requests_per_minute:g}/min")
        with self._limiters_lock:
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(requests_per_minute, window_s=60.0)
            return self._limiters[key]

    # -- plumbing

    def retrying(self, what: str, *, give_up: Callable[[BaseException], bool] | None = None) -> tenacity.Retrying:
        """The shared retry policy as a tenacity.Retrying; `what` names the operation in the logs.

        `give_up(exc)` True stops retrying an error the policy would retry (an API's 429 that says a monthly
        quota is spent will not clear by asking again).
        """

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("%s failed (%s); attempt %d of %d, retrying in %.2fs",
                        what, describe_error(exc) if exc else "?", state.attempt_number, self.retry.attempts, wait)

        kwargs: dict[str, Any] = {}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        return tenacity.Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=WaitServerOrBackoff(self.retry.initial_wait, self.retry.max_wait, self.retry.max_retry_after),
            retry=retry_if_exception(_is_retryable if give_up is None
                                     else lambda exc: _is_retryable(exc) and not give_up(exc)),
            before_sleep=log_retry,
            reraise=True,
            **kwargs,
        )

    def _send(self, url: str, headers: Mapping[str, str], method: str = "GET", *, guarded: bool = False,
              **kwargs: Any) -> httpx.Response:
        """One streamed request; raises RetryableStatusError / HttpStatusError for statuses that are not answers.

        `url` may hold `${NAME}` references, substituted here and nowhere else; `guarded` requests (feeds) have
        every hop checked by the URL guard."""
        try:
            resolved = resolve_env_refs(url, process_environment() if self._env is None else self._env)
        except UnsetVariableError as exc:
            raise FetchError(f"{method} {exc}", url=url) from None
        request = self._client.build_request(method, resolved, headers=headers, **kwargs)
        if guarded:
            request.extensions[_GUARD_EXTENSION] = str(request.url)
        response = self._client.send(request, stream=True)
        status = response.status_code
        if status < 400 or status == 304:
            return response
        try:
            snippet = response.read()[:300].decode("utf-8", "replace").strip()
        except httpx.HTTPError:
            snippet = ""
        finally:
            response.close()
        where = f"{method} {redact_url(url)}"
        if status in RETRYABLE_STATUS:
            raise RetryableStatusError(f"{where} answered {status}: {snippet}", url=url, status=status,
                                       retry_after=parse_retry_after(response.headers.get("retry-after")),
                                       headers=response.headers, body=snippet)
        raise HttpStatusError(f"{where} answered {status}: {snippet}", url=url, status=status,
                              headers=response.headers, body=snippet)

    def _send_retried(self, url: str, headers: Mapping[str, str], method: str = "GET", *, guarded: bool = False,
                      **kwargs: Any) -> httpx.Response:
        where = f"{method} {redact_url(url)}"
        retrying = self.retrying(where)
        with _final_failure(where, url, retrying):
            for attempt in retrying:
                with attempt:
                    response = self._send(url, headers, method, guarded=guarded, **kwargs)
        return response

    # -- public API

    def stream(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
               headers: Mapping[str, str] | None = None) -> HttpBody:
        """Open a GET (conditional when validators are given); check `.not_modified` before `iter_bytes()`."""
        request_headers = {**(headers or {}), **_conditional_headers(etag, last_modified)}
        response = self._send_retried(url, request_headers, guarded=True)
        return HttpBody(self, url, request_headers, response, guarded=True)

    def probe(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Probe:
        """Has the resource changed since (etag, last_modified)? A HEAD, or a conditional GET closed unread when
        HEAD is refused. `changed=None` means the server gives nothing to compare: fetch to know."""
        conditional = _conditional_headers(etag, last_modified)
        try:
            response = self._send_retried(url, conditional, method="HEAD", guarded=True)
        except HttpStatusError as exc:
            if exc.status not in (405, 501):
                raise
            response = self._send_retried(url, conditional, guarded=True)
        response.close()
        new_etag = response.headers.get("etag")
        new_last_modified = response.headers.get("last-modified")
        length = response.headers.get("content-length")
        if response.status_code == 304:
            changed: bool | None = False
        elif etag and new_etag:
            changed = not same_etag(etag, new_etag)
        elif last_modified and new_last_modified:
            changed = last_modified != new_last_modified
        elif new_etag or new_last_modified:
            changed = True  # validators now, none stored: never fetched with them
        else:
            changed = None
        return Probe(changed, response.status_code, new_etag, new_last_modified,
                     int(length) if length and length.isdigit() else None)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, json_body: Any = None,
                max_bytes: int = 50 * 1024 * 1024,
                give_up: Callable[[BaseException], bool] | None = None) -> httpx.Response:
        """A request with retries, body read (at most `max_bytes`); 4xx other than 408/425/429 raise HttpStatusError.

        `give_up` as in `retrying()`. A retryable status that ends the attempts raises FetchError carrying the
        last response's status, headers and body start.
        """
        kwargs: dict[str, Any] = {}
        if params is not None:
            kwargs["params"] = params
        if json_body is not None:
            kwargs["json"] = json_body
        where = f"{method} {redact_url(url)}"
        retrying = self.retrying(where, give_up=give_up)
        with _final_failure(where, url, retrying):
            for attempt in retrying:
                with attempt:
                    response = self._send(url, headers or {}, method, **kwargs)
                    try:
                        body = bytearray()
                        for chunk in response.iter_bytes(self.chunk_bytes):
                            body += chunk
                            if len(body) > max_bytes:
                                raise BodyTooLargeError(f"{where}: response is over {max_bytes:,} bytes",
                                                        url=url, status=response.status_code)
                    finally:
                        response.close()
                    response._content = bytes(body)
        return response

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, max_bytes: int = 50 * 1024 * 1024,
                 give_up: Callable[[BaseException], bool] | None = None) -> Any:
        """GET and parse JSON, with the shared retry policy; a body that is not JSON raises FetchError."""
        response = self.request("GET", url, params=params, headers={"Accept": "application/json", **(headers or {})},
                                max_bytes=max_bytes, give_up=give_up)
        try:
            return json.loads(response.content)
        except ValueError as exc:
            snippet = response.content[:200].decode("utf-8", "replace")
            raise FetchError(f"GET {redact_url(url)} returned a body that is not JSON ({exc}): {snippet!r}",
                             url=url, status=response.status_code) from exc

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
