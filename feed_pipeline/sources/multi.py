"""The `multi` source: several job APIs read into one feed (one partition), so the dedupe stage merges the same
role posted on two of them.

Params: `sources` (default `["remoteok", "jsearch", "adzuna"]`); any param of the sources at the top level
(it goes to every listed source that understands it: `query` reaches JSearch and Adzuna, `tags` RemoteOK);
and a block per source for its own settings, which win over the top level (`requests_per_minute` belongs to
one API, so it is accepted in a block only):
`{"sources": ["jsearch", "adzuna"], "query": "platform engineer", "adzuna": {"country": "gb", "pages": 3}}`.
With no params at all, the feed reads RemoteOK, JSearch and Adzuna with the `backend_devops` role filter.

Partial failure: sources are read one after another. When one fails (bad credentials, quota spent, host
down, a broken answer), its error goes to `outcome.source_errors[source]`, the outcome is marked incomplete,
and the other sources' postings still land. A source that fails after some pages keeps the postings it
delivered. An incomplete outcome means the pipeline treats no job of this feed as removed on this run
(removal detection is per feed, so the healthy sources' vanished jobs also wait for the next complete run).
Only when every source fails does the read raise FeedError (there is nothing to keep).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.sources.adzuna import AdzunaReader
from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedSpec, IngestOutcome, OneShotReader
from feed_pipeline.sources.http_fetch import HttpFetcher
from feed_pipeline.sources.job_api import ROLE_PARAMS, JobApiReader
from feed_pipeline.sources.jsearch import JSearchReader
from feed_pipeline.sources.remoteok import RemoteOkReader

log = logging.getLogger(__name__)

SOURCE_NAME = "multi"
# Source name -> reader class: the job APIs a multi feed can combine.
API_SOURCES: dict[str, type[JobApiReader]] = {
    "remoteok": RemoteOkReader,
    "jsearch": JSearchReader,
    "adzuna": AdzunaReader,
}
DEFAULT_SOURCES = ("remoteok", "jsearch", "adzuna")
# Params every source understands and that may sit at the top level. `requests_per_minute` is per API: it goes
# in a source's block only, so a rate meant for one API never raises another's.
SHARED_PARAMS = ROLE_PARAMS
# Per-source figures that are states, not counts: kept under `<source>_<name>` only.
NOT_SUMMED = frozenset({"quota_limit", "quota_remaining", "quota_reset_s"})


def source_params(feed_id: str, params: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The params one source of a multi feed gets: top-level params it understands, then its own block."""
    understood = API_SOURCES[source].supported_params | SHARED_PARAMS
    merged = {k: v for k, v in params.items() if k in understood}
    block = params.get(source)
    if block is not None:
        if not isinstance(block, Mapping):
            raise FeedConfigError(f"feed {feed_id!r}: params.{source} must be an object of {source} params; "
                                  f"got {block!r}")
        merged.update(block)
    return merged


def plan_sources(feed_id: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(source, its params) for each source of the feed; FeedConfigError for unknown sources or params."""
    if not isinstance(params, Mapping):
        raise FeedConfigError(f"feed {feed_id!r}: params must be an object; got {type(params).__name__}")
    sources = params.get("sources", list(DEFAULT_SOURCES))
    if isinstance(sources, str):
        sources = [s.strip() for s in sources.split(",") if s.strip()]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise FeedConfigError(f"feed {feed_id!r}: params.sources must be a non-empty list of "
                              f"{', '.join(API_SOURCES)}; got {sources!r}")
    unknown = [s for s in sources if s not in API_SOURCES]
    if unknown or len(set(sources)) != len(sources):
        raise FeedConfigError(f"feed {feed_id!r}: params.sources {sources!r} must name each of "
                              f"{', '.join(API_SOURCES)} at most once")
    known = {"sources", *API_SOURCES, *SHARED_PARAMS}.union(*(API_SOURCES[s].supported_params for s in sources))
    stray = sorted(set(params) - known)
    if stray:
        raise FeedConfigError(f"feed {feed_id!r}: no source of this multi feed ({', '.join(sources)}) uses params "
                              f"{', '.join(stray)}")
    return [(source, source_params(feed_id, params, source)) for source in sources]


class MultiSourceReader(OneShotReader):
    """FeedReader for `kind = "multi"`: the sources' postings in turn, each source's failure contained."""

    def __init__(self, spec: FeedSpec, *, force: bool = False, fetcher: HttpFetcher | None = None,
                 env: Mapping[str, str] | None = None, now: datetime | None = None):
        self.spec = spec
        self.force = force
        self.env = env
        self.now = now or datetime.now(UTC)
        self.plan = plan_sources(spec.id, spec.params or {})
        self.outcome = IngestOutcome(profile=f"{SOURCE_NAME}:{'+'.join(s for s, _ in self.plan)}")
        self._own_fetcher = fetcher is None
        self._fetcher = fetcher
        self._started = False

    def _records(self) -> Iterator[JobRecord]:
        started = time.perf_counter()
        failures: dict[str, FeedError] = {}
        try:
            if self._fetcher is None:
                self._fetcher = HttpFetcher()
            for source, params in self.plan:
                error = yield from self._read_source(source, params)
                if error is not None:
                    failures[source] = error
        finally:
            self.outcome.stats["duration_s"] = round(time.perf_counter() - started, 3)
            self.outcome.stats["sources_failed"] = len(self.outcome.source_errors)
        if failures and len(failures) == len(self.plan):
            summary = "; ".join(f"{source}: {error}" for source, error in failures.items())
            kind = FeedConfigError if all(isinstance(e, FeedConfigError) for e in failures.values()) else FeedError
            raise kind(f"feed {self.spec.id!r}: every source failed: {summary}")

    def _read_source(self, source: str, params: dict[str, Any]) -> Iterator[JobRecord]:
        """Yield one source's postings; return the FeedError that stopped it before any page, if one did."""
        spec = FeedSpec(id=self.spec.id, kind=source, url=None, params=params)
        reader: JobApiReader | None = None
        try:
            reader = API_SOURCES[source](spec, force=self.force, fetcher=self._fetcher, env=self.env, now=self.now)
            yield from reader
        except FeedError as exc:
            self._fail(source, str(exc))
            return exc
        finally:
            if reader is not None:
                reader.close()
                self._merge(source, reader.outcome)
        if not reader.outcome.complete:
            self._fail(source, reader.outcome.error or "stopped early")
        return None

    def _fail(self, source: str, message: str) -> None:
        log.warning("feed %s: source %s failed: %s", self.spec.id, source, message)
        self.outcome.source_errors[source] = message
        self.outcome.mark_incomplete(f"{source}: {message}")

    def _merge(self, source: str, part: IngestOutcome) -> None:
        """Add one source's counts to the feed's outcome: totals, and each figure under `<source>_<name>`."""
        outcome = self.outcome
        outcome.records_seen += part.records_seen
        outcome.bytes_read += part.bytes_read
        for key, value in part.stats.items():
            if key == "source":
                continue
            outcome.stats[f"{source}_{key}"] = value
            if isinstance(value, int) and not isinstance(value, bool) and key not in NOT_SUMMED:
                outcome.stats[key] = outcome.stats.get(key, 0) + value
