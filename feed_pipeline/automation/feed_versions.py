"""Which version of an XML feed is published now, and is it the one its last complete ingest stored?

The feed-update sensor calls `check_feed_version` for each feed. The answer names the published version
(an ETag, a Last-Modified date, or `sha256:<content hash>`), so the run requested for it can carry a run key
tied to that version and Dagster never launches the same version twice.

Built on the sources' own conditional check (`sources.feed_bytes.probe_body`), so the sensor and the ingest
agree on what "unchanged" means:
- HTTP(S): a HEAD (or a conditional GET closed unread) against the stored ETag / Last-Modified. A server
  that sends neither gets a full GET, streamed and hashed; the hash (of the body after Content-Encoding, as
  the ingest computes it) is compared with the stored `content_hash`. The sensor's interval is the price of
  such a feed.
- Local files (a path or file://): size and mtime, which the ingest stores as the file's ETag. When they
  differ the file is hashed (raw bytes, as the ingest does) and compared with the stored `content_hash`, so
  a file that was touched but not changed does not run; the hash is remembered with the stat (`FileStamp`,
  kept in the sensor cursor) so such a file is not hashed again on every tick.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from feed_pipeline.sources.base import FeedError, FeedSpec
from feed_pipeline.sources.feed_bytes import cap_bytes, file_sha256, file_validators, locate, max_feed_bytes, probe_body
from feed_pipeline.sources.http_fetch import FetchError, HttpFetcher, redact_url
from feed_pipeline.store.feeds import Feed


class FeedVersionError(Exception):
    """The feed's current version could not be determined (unreachable, missing file); the message says which."""


@dataclass(frozen=True)
class FileStamp:
    """A local feed file as seen on an earlier tick: its stat fields and the hash of the bytes they had."""

    mtime_ns: int
    size: int
    sha256: str

    def matches(self, stat: os.stat_result) -> bool:
        return self.mtime_ns == stat.st_mtime_ns and self.size == stat.st_size


@dataclass(frozen=True)
class FeedVersion:
    """The published version of one feed and whether it differs from the last ingested one.

    `version` is None only when nothing changed and the server did not name the version (a bare 304).
    `file_stamp` is set when a local file was hashed, so the caller can skip hashing it next time.
    """

    feed_id: str
    changed: bool
    version: str | None
    how: str
    file_stamp: FileStamp | None = None


def check_feed_version(feed: Feed, fetcher: HttpFetcher, file_stamps: Mapping[str, FileStamp]) -> FeedVersion:
    """The current version of an XML feed and whether it changed since its last complete ingest.

    Raises FeedVersionError (with the feed id and the reason) when the feed cannot be reached or read.
    """
    spec = FeedSpec(id=feed.id, kind=feed.kind, url=feed.url, params=feed.params, etag=feed.etag,
                    last_modified=feed.last_modified, content_hash=feed.content_hash)
    try:
        location = locate(spec)
        if location.transport == "file":
            assert location.path is not None
            return _check_file(feed, location.path, file_stamps.get(feed.id))
        return _check_http(feed, spec, location.url, fetcher)
    except FeedError as exc:
        raise FeedVersionError(str(exc)) from exc
    except FetchError as exc:
        raise FeedVersionError(f"feed {feed.id!r}: {exc}") from exc
    except OSError as exc:
        raise FeedVersionError(f"feed {feed.id!r}: cannot read {redact_url(feed.url or '')} "
                               f"({type(exc).__name__}: {exc}); "
                               f"fix the file or the feed's url") from exc


def _check_http(feed: Feed, spec: FeedSpec, url: str, fetcher: HttpFetcher) -> FeedVersion:
    probe = probe_body(spec, fetcher=fetcher)
    if probe.changed is not None:
        version = _validator_version(probe.etag, probe.last_modified)
        return FeedVersion(feed.id, probe.changed and version is not None, version,
                           f"HEAD/conditional GET answered {probe.status}")
    with fetcher.stream(url) as body:
        for _chunk in cap_bytes(body.iter_bytes(), feed_id=feed.id, location=redact_url(url),
                                limit=max_feed_bytes(spec), layer="body"):  # a Content-Encoding bomb stops here too
            pass
        digest = body.sha256
    if digest is None:
        raise FeedVersionError(f"feed {feed.id!r}: the body of {redact_url(feed.url or '')} ended before it was "
                               f"complete")
    return FeedVersion(feed.id, digest != feed.content_hash, f"sha256:{digest}", "no ETag/Last-Modified: body hashed")


def _validator_version(etag: str | None, last_modified: str | None) -> str | None:
    if etag:
        return f"etag:{etag.removeprefix('W/').strip()}"
    if last_modified:
        return f"last-modified:{last_modified}"
    return None


def _check_file(feed: Feed, path: Path, previous: FileStamp | None) -> FeedVersion:
    if not path.is_file():
        raise FeedVersionError(f"feed {feed.id!r}: {path} does not exist or is not a file; fix the feed's url")
    etag, _last_modified = file_validators(path)
    if feed.etag and feed.etag == etag:
        return FeedVersion(feed.id, False, f"sha256:{feed.content_hash}" if feed.content_hash else None,
                           "size and mtime as ingested")
    stat = path.stat()
    if previous is not None and previous.matches(stat):
        stamp, how = previous, "size and mtime as on the last tick"
    else:
        stamp, how = FileStamp(stat.st_mtime_ns, stat.st_size, file_sha256(path)), "size or mtime changed: hashed"
    return FeedVersion(feed.id, stamp.sha256 != feed.content_hash, f"sha256:{stamp.sha256}", how, stamp)
