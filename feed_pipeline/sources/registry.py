"""Feed kind -> source: the one place that knows which reader handles which `feeds.kind`."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from feed_pipeline.core.jobs import UnchangedPosting
from feed_pipeline.sources.adzuna import AdzunaReader
from feed_pipeline.sources.base import FeedConfigError, FeedReader, FeedSpec
from feed_pipeline.sources.feed_bytes import probe_body
from feed_pipeline.sources.http_fetch import HttpFetcher, Probe
from feed_pipeline.sources.jsearch import JSearchReader
from feed_pipeline.sources.multi import API_SOURCES, MultiSourceReader
from feed_pipeline.sources.remoteok import RemoteOkReader
from feed_pipeline.sources.xml_feed import XmlFeedReader

# kind -> factory(spec, *, force, fetcher) -> FeedReader. A new source registers itself with one line here.
SOURCES: dict[str, Callable[..., FeedReader]] = {
    "xml": XmlFeedReader,
    "remoteok": RemoteOkReader,
    "jsearch": JSearchReader,
    "adzuna": AdzunaReader,
    "multi": MultiSourceReader,
}
# Kinds read from job APIs, which take the APIs' credentials.
API_KINDS = frozenset({*API_SOURCES, "multi"})
# Kinds whose version can be checked cheaply (HEAD / stat) by the feed-update sensor.
PROBEABLE_KINDS = frozenset({"xml"})
# Kinds whose reader digests each record and skips the ones it is given as unchanged (`known`).
RECORD_SKIPPING_KINDS = frozenset({"xml"})


def open_feed(spec: FeedSpec, *, force: bool = False, fetcher: HttpFetcher | None = None,
              env: Mapping[str, str] | None = None, now: datetime | None = None,
              known: Callable[[], Mapping[str, UnchangedPosting]] | None = None) -> FeedReader:
    """A reader for the feed. Nothing is fetched until iteration starts; `force` parses an unchanged feed too.

    A given `fetcher` is shared and left open; without one the reader makes its own and closes it in close().
    `env` holds the job APIs' credentials and hosts by variable name (resources.job_apis.JobApiResource.as_env).
    `now` is the time expiry is judged at; `known` (a loader of source digest -> stored posting for that `now`, called
    only if the document is read) lets a reader of RECORD_SKIPPING_KINDS yield an UnchangedPosting for a record it
    read last time; other readers ignore it.
    Raises FeedConfigError for a kind no source handles or params the source cannot use.
    """
    factory = SOURCES.get(spec.kind)
    if factory is None:
        raise FeedConfigError(f"feed {spec.id!r} has kind {spec.kind!r}, which no source reads; "
                              f"known kinds: {', '.join(sorted(SOURCES))}")
    if spec.kind in API_KINDS:
        return factory(spec, force=force, fetcher=fetcher, env=env)
    if spec.kind in RECORD_SKIPPING_KINDS:
        return factory(spec, force=force, fetcher=fetcher, now=now, known=known)
    return factory(spec, force=force, fetcher=fetcher)


def probe_feed(spec: FeedSpec, *, fetcher: HttpFetcher | None = None) -> Probe | None:
    """Cheap "has this feed changed?" for sensors: a HEAD or conditional GET for URLs, a stat for files.

    None for kinds that cannot tell without a full read (job APIs): treat those as changed.
    `Probe.changed` is None when the server offers no validators. Raises FeedError when unreachable.
    """
    if spec.kind not in PROBEABLE_KINDS:
        return None
    if fetcher is not None:
        return probe_body(spec, fetcher=fetcher)
    with HttpFetcher() as own:
        return probe_body(spec, fetcher=own)
