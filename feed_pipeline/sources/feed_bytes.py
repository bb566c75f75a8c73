"""A feed's body as a byte stream, from `http(s)://`, `file://` or a local path, fetched only when it changed.

Conditional fetch: the stored ETag/Last-Modified go out as If-None-Match/If-Modified-Since; a 304, or the
same ETag from a server that ignores conditionals, means unchanged. When the server gives no ETag but a
content hash is stored, the body is spooled (to memory up to 8 MB, then a temp file) while hashing and
only handed on if its hash differs: that costs streaming straight into the parser for such servers, which
is the price of "never parse an unchanged feed". Local files get validators from size and mtime; a file
whose mtime changed but whose bytes did not is recognised by its hash.

`content_hash` is the SHA-256 of the body as delivered (after HTTP Content-Encoding, before a gzip file
is unpacked), final once the stream has been read to its end.

Size limit: a feed may inflate to at most `max_feed_bytes(spec)` bytes (params `max_feed_bytes`, else
FEED_PIPELINE_MAX_FEED_BYTES, else 2 GiB), counted after HTTP Content-Encoding and again after a gzip file is
unpacked (`cap_bytes`). A 3 MB gzip that inflates to 3 GB stops at the limit with FeedTooLargeError instead of
costing a minute of CPU on every run.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from feed_pipeline.settings import Settings
from feed_pipeline.sources.base import FeedConfigError, FeedSpec, FeedUnavailableError
from feed_pipeline.sources.http_fetch import FetchError, HttpFetcher, Probe, redact_url, same_etag

FILE_CHUNK_BYTES = 256 * 1024
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
MAX_FEED_BYTES_VARIABLE = "FEED_PIPELINE_MAX_FEED_BYTES"
# The largest real feeds we read are about 2 GB of XML (1M Indeed-style jobs); a feed past this is refused.
DEFAULT_MAX_FEED_BYTES = 2 * 1024 ** 3
_MIN_FEED_BYTES = 1024


class FeedTooLargeError(FeedConfigError):
    """The feed's body inflates past its byte limit. Retrying cannot help (it is a FeedConfigError): raise the
    limit for this feed (params.max_feed_bytes) or fix the feed."""


def max_feed_bytes(spec: FeedSpec, env: Mapping[str, str] | None = None) -> int:
    """The most bytes the feed may deliver once decompressed: params.max_feed_bytes, else the environment's
    FEED_PIPELINE_MAX_FEED_BYTES, else DEFAULT_MAX_FEED_BYTES. FeedConfigError for a value that is not an
    integer of at least 1,024."""
    value: object = spec.params.get("max_feed_bytes") if isinstance(spec.params, dict) else None
    where = "params.max_feed_bytes"
    if value is None:
        text = Settings.from_env(env).max_feed_bytes.strip()
        if not text:
            return DEFAULT_MAX_FEED_BYTES
        where = MAX_FEED_BYTES_VARIABLE
        value = int(text) if text.isdigit() else text
    if isinstance(value, bool) or not isinstance(value, int) or value < _MIN_FEED_BYTES:
        raise FeedConfigError(f"feed {spec.id!r}: {where} must be an integer number of bytes >= {_MIN_FEED_BYTES:,}; "
                              f"got {value!r}")
    return value


def cap_bytes(chunks: Iterable[bytes], *, feed_id: str, location: str, limit: int, layer: str) -> Iterator[bytes]:
    """The chunks, raising FeedTooLargeError once more than `limit` bytes have gone by (`layer` says which
    stage counted: "body" after Content-Encoding, "unpacked" after a gzip file)."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise FeedTooLargeError(
                f"feed {feed_id!r}: {location} is over its size limit of {limit:,} bytes ({layer} bytes, after "
                f"decompression); a compression bomb or a feed bigger than expected. Raise params.max_feed_bytes "
                f"(or {MAX_FEED_BYTES_VARIABLE}) if the feed is really this big")
        yield chunk


class FeedBody:
    """An opened feed: `unchanged`, validators, and `chunks()` (single use) when there is something to read."""

    def __init__(self, *, location: str, transport: str, unchanged: bool = False, etag: str | None = None,
                 last_modified: str | None = None, content_hash: str | None = None):
        self.location = location  # for messages; secrets redacted
        self.transport = transport  # "http" | "file"
        self.unchanged = unchanged
        self.etag = etag
        self.last_modified = last_modified
        self._content_hash = content_hash
        self.bytes_read = 0
        self.restarts = 0
        self.spooled = False

    @property
    def content_hash(self) -> str | None:
        return self._content_hash

    def chunks(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


class _FileBody(FeedBody):
    def __init__(self, path: Path, **kwargs):
        super().__init__(**kwargs)
        self._path = path
        self._hasher = hashlib.sha256()

    def chunks(self) -> Iterator[bytes]:
        with self._path.open("rb") as handle:
            while chunk := handle.read(FILE_CHUNK_BYTES):
                self._hasher.update(chunk)
                self.bytes_read += len(chunk)
                yield chunk
        self._content_hash = self._hasher.hexdigest()


class _HttpBody(FeedBody):
    def __init__(self, body, **kwargs):
        super().__init__(**kwargs)
        self._body = body

    def chunks(self) -> Iterator[bytes]:
        for chunk in self._body.iter_bytes():
            self.bytes_read = self._body.raw_bytes_received
            self.restarts = self._body.restarts
            yield chunk
        self.bytes_read = self._body.raw_bytes_received
        self.restarts = self._body.restarts
        self._content_hash = self._body.sha256

    def close(self) -> None:
        self._body.close()


class _SpooledBody(FeedBody):
    def __init__(self, spool, **kwargs):
        super().__init__(**kwargs)
        self._spool = spool
        self.spooled = True

    def chunks(self) -> Iterator[bytes]:
        self._spool.seek(0)
        while chunk := self._spool.read(FILE_CHUNK_BYTES):
            yield chunk

    def close(self) -> None:
        self._spool.close()


@dataclass(frozen=True)
class FeedLocation:
    transport: str  # "http" | "file"
    url: str
    path: Path | None = None


def locate(spec: FeedSpec) -> FeedLocation:
    """Where the feed lives; FeedConfigError for a missing URL or a scheme no source reads."""
    if not spec.url or not spec.url.strip():
        raise FeedConfigError(f"feed {spec.id!r} of kind {spec.kind!r} has no url; set one "
                              f"(http(s)://, file:// or a local path)")
    url = spec.url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FeedConfigError(f"feed {spec.id!r}: {redact_url(url)!r} is not a valid URL ({exc}); "
                              f"fix the feed's url") from exc
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise FeedConfigError(f"feed {spec.id!r}: {redact_url(url)!r} has no host; fix the feed's url")
        return FeedLocation("http", url)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FeedConfigError(f"feed {spec.id!r}: file URL {redact_url(url)!r} names a remote host; only local "
                                  f"files are read")
        return FeedLocation("file", url, Path(url2pathname(unquote(parts.path))))
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return FeedLocation("file", url, Path(url).expanduser())
    raise FeedConfigError(f"feed {spec.id!r}: unsupported URL scheme {scheme!r} in {redact_url(url)!r}; "
                          f"use http(s)://, file:// or a local path")


def file_validators(path: Path) -> tuple[str, str]:
    """(etag, last_modified) for a local file: size and mtime stand in for what an HTTP server would send."""
    stat = path.stat()
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"', formatdate(stat.st_mtime, usegmt=True)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes as stored (a .gz file is not unpacked), read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _open_file(spec: FeedSpec, location: FeedLocation, force: bool) -> FeedBody:
    path = location.path
    assert path is not None
    if not path.is_file():
        raise FeedUnavailableError(f"feed {spec.id!r}: {path} does not exist or is not a file; fix the feed's url")
    etag, last_modified = file_validators(path)
    common = {"location": str(path), "transport": "file", "etag": etag, "last_modified": last_modified}
    if not force and spec.etag and spec.etag == etag:
        return FeedBody(unchanged=True, content_hash=spec.content_hash, **common)
    if not force and spec.content_hash:
        digest = file_sha256(path)
        if digest == spec.content_hash:
            return FeedBody(unchanged=True, content_hash=digest, **common)
    return _FileBody(path, **common)


def _open_http(spec: FeedSpec, location: FeedLocation, force: bool, fetcher: HttpFetcher) -> FeedBody:
    where = redact_url(location.url)
    try:
        body = fetcher.stream(location.url, etag=None if force else spec.etag,
                              last_modified=None if force else spec.last_modified)
    except FetchError as exc:
        raise FeedUnavailableError(f"feed {spec.id!r}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise FeedConfigError(f"feed {spec.id!r}: {where!r} is not a valid URL ({exc}); fix the feed's url") from exc
    common = {"location": where, "transport": "http", "etag": body.etag or (spec.etag if body.not_modified else None),
              "last_modified": body.last_modified or (spec.last_modified if body.not_modified else None)}
    if body.not_modified or (not force and same_etag(spec.etag, body.etag)):
        body.close()
        return FeedBody(unchanged=True, content_hash=spec.content_hash, **common)
    if force or not spec.content_hash or body.etag:
        return _HttpBody(body, **common)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    try:
        for chunk in cap_bytes(body.iter_bytes(), feed_id=spec.id, location=where, limit=max_feed_bytes(spec),
                               layer="body"):
            spool.write(chunk)
    except FeedTooLargeError:
        spool.close()
        raise
    except Exception as exc:
        spool.close()
        raise FeedUnavailableError(f"feed {spec.id!r}: reading {where} failed: {exc}") from exc
    finally:
        body.close()
    if body.sha256 == spec.content_hash:
        spool.close()
        opened: FeedBody = FeedBody(unchanged=True, content_hash=body.sha256, **common)
        opened.spooled = True
    else:
        opened = _SpooledBody(spool, content_hash=body.sha256, **common)
    opened.bytes_read = body.raw_bytes_received
    opened.restarts = body.restarts
    return opened


def open_body(spec: FeedSpec, *, force: bool, fetcher: HttpFetcher | None) -> FeedBody:
    """Open the feed's body, or learn it is unchanged. Raises FeedConfigError / FeedUnavailableError.
    `fetcher` is needed for http(s) URLs only."""
    location = locate(spec)
    if location.transport == "file":
        return _open_file(spec, location, force)
    if fetcher is None:
        raise ValueError(f"feed {spec.id!r}: an HttpFetcher is needed to read {redact_url(location.url)}")
    return _open_http(spec, location, force, fetcher)


def probe_body(spec: FeedSpec, *, fetcher: HttpFetcher) -> Probe:
    """Has the feed changed since its stored version? Cheap: a HEAD/conditional GET, or a stat for a file."""
    location = locate(spec)
    if location.transport == "file":
        path = location.path
        assert path is not None
        if not path.is_file():
            raise FeedUnavailableError(f"feed {spec.id!r}: {path} does not exist or is not a file")
        etag, last_modified = file_validators(path)
        changed = None if not spec.etag else spec.etag != etag
        return Probe(True if changed is None else changed, 200, etag, last_modified, path.stat().st_size)
    try:
        return fetcher.probe(location.url, etag=spec.etag, last_modified=spec.last_modified)
    except FetchError as exc:
        raise FeedUnavailableError(f"feed {spec.id!r}: {exc}") from exc
