"""The contract between sources and the `raw_jobs` asset: what a feed is, how it is read, what the read reports."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from feed_pipeline.core.jobs import JobRecord, UnchangedPosting


@dataclass(frozen=True)
class FeedSpec:
    """One row of the `feeds` table: what to read and the version seen last time (for conditional fetch)."""

    id: str
    kind: str
    url: str | None
    params: dict
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass
class IngestOutcome:
    """How a read went. Final once iteration ends (normally or not); the asset stores it in `ingests`.

    `complete` is False when the document ended early, a parse error stopped it, or a source failed after
    some records: the records already yielded are all whole and valid to keep, but the feed must not be
    treated as the full list (no job may be marked removed because it was missing).
    """

    complete: bool = True
    unchanged: bool = False
    error: str | None = None
    bytes_read: int = 0
    records_seen: int = 0
    profile: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    source_errors: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def mark_incomplete(self, error: str) -> None:
        """Record why the read stopped early; the first reason wins (later ones are consequences)."""
        self.complete = False
        if self.error is None:
            self.error = error


class FeedReader(Protocol):
    """An iterable of normalized JobRecords (identity assigned, rejection_reason set when rejected), and, from a
    reader opened with `known` (sources.registry.open_feed), an UnchangedPosting for each record read last time.

    Iteration streams: memory stays bounded however big the feed. Errors that stop the feed before it
    could be read at all (unreachable host, 404, missing file, bad feed configuration) raise `FeedError`
    from the first `next()`; problems after that end iteration with `outcome.complete = False`.
    """

    outcome: IngestOutcome

    def __iter__(self) -> Iterator[JobRecord | UnchangedPosting]: ...

    def close(self) -> None: ...


class OneShotReader:
    """The readers' shared lifecycle: iterated once; the HttpFetcher is closed on exit unless it was lent.

    Subclasses set `spec`, `_fetcher`, `_own_fetcher` and `_started` in `__init__` and implement `_records()`.
    """

    spec: FeedSpec
    _fetcher: Any
    _own_fetcher: bool
    _started: bool

    def __iter__(self) -> Iterator[JobRecord | UnchangedPosting]:
        if self._started:
            raise RuntimeError(f"feed {self.spec.id!r}: a FeedReader can be iterated only once; open the feed again")
        self._started = True
        return self._records()

    def _records(self) -> Iterator[JobRecord | UnchangedPosting]:
        raise NotImplementedError

    def _close_resources(self) -> None:
        """Anything besides the fetcher that a reader holds open (e.g. a response body)."""

    def close(self) -> None:
        self._close_resources()
        if self._own_fetcher and self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class FeedError(Exception):
    """A feed could not be read at all; the message says which feed, what failed and what to do."""


class FeedConfigError(FeedError):
    """The feed's row (kind, url, params) is not something a source can read."""


class FeedUnavailableError(FeedError):
    """The feed's source could not be fetched (after retries, where retrying makes sense)."""
