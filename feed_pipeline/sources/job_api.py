"""What every job API source shares, so a source module is only its wire format: params, credentials, hosts,
pacing, paging errors, the role/age/remote filters, identity and the outcome's stats.

A source subclasses `JobApiReader` and supplies `_pages()` (the requests, yielding each page's raw items) and
`_fields()` (one raw item -> core.normalize FIELD_NAMES). The base class turns items into JobRecords
through `core.normalize.job_from_fields`, drops the postings the feed does not want (counted in
`outcome.stats`, never yielded), skips an id seen twice in one read (API pages overlap as new postings push
old ones down), and gives every posting a key that names its source: `job_key = hash(feed id,
"<source>:<source id>")`, so two sources' ids never collide inside one `multi` feed, and a feed that changes
from one source kind to `multi` keeps its keys.

Errors: a request that fails before any page arrived raises FeedError from the first `next()`
(FeedConfigError for bad credentials or params: retrying cannot fix those); a failure after that ends
iteration with `outcome.complete = False` and the reason, keeping the postings already yielded.

Pacing: requests to one API with one credential are spaced at least `60 / requests_per_minute` seconds apart
by the fetcher's limiter for that budget (`HttpFetcher.limiter`), so every reader sharing the fetcher shares
the budget (a feed that sets its own `requests_per_minute` gets its own limiter). Readers with separate
fetchers, and separate run processes, do not see each other's pacing: limit runs with a Dagster tag
concurrency limit on the tags the schedule sets (see automation/schedules.py).
"""
from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from feed_pipeline.core.identity import make_content_hash, make_job_key
from feed_pipeline.core.jobs import JobRecord, RejectionReason
from feed_pipeline.core.normalize import job_from_fields
from feed_pipeline.core.role_filter import DEFAULT_API_PRESET, RoleFilter, RoleFilterError, role_filter_from_params
from feed_pipeline.core.text import clean_text
from feed_pipeline.sources.base import (
    FeedConfigError,
    FeedError,
    FeedSpec,
    FeedUnavailableError,
    IngestOutcome,
    OneShotReader,
)
from feed_pipeline.sources.http_fetch import FetchError, HttpFetcher, describe_error, redact_url

log = logging.getLogger(__name__)

# Params every API source understands (each source lists which of them it can honour, plus its own).
ROLE_PARAMS = frozenset({"role_filter", "include", "exclude"})
MAX_ERROR_EXAMPLE_CHARS = 300


class ApiResponseError(FeedError):
    """The API answered 2xx with something that is not its documented shape (an HTML page, a changed format)."""


# --------------------------------------------------------------------------------------------------- params


class ApiParams:
    """Typed, validated access to a feed's params; every error names the feed, the param and what is allowed."""

    def __init__(self, feed_id: str, source: str, params: Mapping[str, Any], supported: frozenset[str]):
        if not isinstance(params, Mapping):
            raise FeedConfigError(f"feed {feed_id!r}: params must be an object; got {type(params).__name__}")
        unknown = sorted(set(params) - supported)
        if unknown:
            raise FeedConfigError(
                f"feed {feed_id!r}: the {source} source does not use params {', '.join(unknown)}; "
                f"it understands {', '.join(sorted(supported))} (see docs/adding-a-source.md)")
        self.feed_id = feed_id
        self.source = source
        self.raw = dict(params)

    def _fail(self, name: str, expected: str) -> FeedConfigError:
        return FeedConfigError(f"feed {self.feed_id!r} ({self.source}): params.{name} must be {expected}; "
                               f"got {self.raw.get(name)!r}")

    def integer(self, name: str, default: int | None, *, minimum: int = 1, maximum: int | None = None) -> int | None:
        value = self.raw.get(name, default)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
                maximum is not None and value > maximum):
            bounds = f"from {minimum:,} to {maximum:,}" if maximum is not None else f">= {minimum:,}"
            raise self._fail(name, f"an integer {bounds}")
        return value

    def number(self, name: str, default: float, *, minimum: float) -> float:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self._fail(name, f"a number >= {minimum}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.strip().lower() in ("true", "yes", "1")
        if not isinstance(value, bool):
            raise self._fail(name, "true or false")
        return value

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self._fail(name, "a string")
        return str(value).strip() or None

    def words(self, name: str) -> list[str]:
        """A list param given as a JSON list of strings or one comma-separated string."""
        value = self.raw.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = value
        else:
            raise self._fail(name, "a list of strings or a comma-separated string")
        return list(dict.fromkeys(v.strip() for v in items if v.strip()))

    def role_filter(self) -> RoleFilter | None:
        try:
            return role_filter_from_params(self.raw, default_preset=DEFAULT_API_PRESET)
        except RoleFilterError as exc:
            raise FeedConfigError(f"feed {self.feed_id!r} ({self.source}): {exc}") from exc


def api_base_url(env: Mapping[str, str], variable: str, default: str) -> str:
    """Scheme and host of an API from `variable` (tests and proxies point it elsewhere); paths stay the real ones."""
    value = (env.get(variable) or "").strip() or default
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment:
        raise FeedConfigError(f"{variable}={value!r} must be only a scheme and host, like {default} "
                              f"(the source adds the API's own paths)")
    return f"{parts.scheme}://{parts.netloc}"


# --------------------------------------------------------------------------------------------------- items


def dig(item: Any, *path: str) -> Any:
    """item[path[0]][path[1]]..., or None where a level is missing or not an object (APIs nest loosely)."""
    for key in path:
        if not isinstance(item, Mapping):
            return None
        item = item.get(key)
    return item


def text_or_none(value: Any) -> str | None:
    """A scalar as text; None for None, empty text, lists and objects."""
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    text = str(value).strip()
    return text or None


def text_list(value: Any) -> list[str] | None:
    """The strings of a JSON list (tags, skills); None when it is not a list."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def present_texts(item: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """The item's values under `names`' keys that are non-empty text, each under its new name (for `extra`)."""
    texts = {name: text_or_none(item.get(key)) for key, name in names.items()}
    return {name: text for name, text in texts.items() if text}


def api_job_key(job: JobRecord) -> str:
    """Hash of (feed, "<source>:<source id>"), or of the canonical URL when the item has no id."""
    source_id = f"{job.source}:{job.source_id.strip()}" if job.source_id and job.source_id.strip() else None
    return make_job_key(job.feed_id, source_id, job.url)


# --------------------------------------------------------------------------------------------------- reader


class JobApiReader(OneShotReader, ABC):
    """FeedReader base for job APIs. Iterate once; `outcome` is final when iteration ends.

    Subclasses set `source`, `default_base_url`, `supported_params`, `default_requests_per_minute`, and
    implement `_configure`, `_pages` and `_fields`. The base URL can be overridden by `<SOURCE>_BASE_URL`.
    """

    source: ClassVar[str]
    default_base_url: ClassVar[str]
    supported_params: ClassVar[frozenset[str]]
    default_requests_per_minute: ClassVar[float]

    def __init__(self, spec: FeedSpec, *, force: bool = False, fetcher: HttpFetcher | None = None,
                 env: Mapping[str, str] | None = None, now: datetime | None = None):
        self.spec = spec
        self.env = {} if env is None else env  # JobApiResource.as_env(): the sources never read the environment
        self.now = now or datetime.now(UTC)
        self.params = ApiParams(spec.id, self.source, spec.params or {},
                                self.supported_params | ROLE_PARAMS | {"requests_per_minute"})
        self.role_filter = self.params.role_filter()
        self.max_age_days = self.params.integer("max_age_days", None, minimum=1) \
            if "max_age_days" in self.supported_params else None
        self.remote_only = self.params.boolean("remote_only", False) \
            if "remote_only" in self.supported_params else False
        self.requests_per_minute = self.params.number("requests_per_minute", self.default_requests_per_minute,
                                                      minimum=0.01)
        self.base_url = api_base_url(self.env, f"{self.source.upper()}_BASE_URL", self.default_base_url)
        self._configure()
        self.outcome = IngestOutcome(profile=self.source)
        self._own_fetcher = fetcher is None
        self._fetcher = fetcher
        self._paced_wait_s = 0.0
        self._started = False
        self._requests = 0
        self._pages_read = 0
        self._items = 0
        self._seen: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._first_malformed: str | None = None

    # -- what a source provides

    @abstractmethod
    def _configure(self) -> None:
        """Read credentials and source params (raise FeedConfigError for anything unusable)."""

    def _required_env(self, variable: str, what: str) -> str:
        """The credential `variable` (`what` it is, for the error), which the source cannot work without."""
        value = (self.env.get(variable) or "").strip()
        if not value:
            raise FeedConfigError(f"feed {self.spec.id!r}: the {self.source} source needs {variable} in the "
                                  f"environment ({what})")
        return value

    def _credential_id(self) -> str:
        """Names the rate-limit budget (an app id, never a secret)."""
        return ""

    @abstractmethod
    def _pages(self) -> Iterator[list[Any]]:
        """Make the requests (through `_get_json`); yield each page's raw items, in order."""

    @abstractmethod
    def _fields(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(fields under core.normalize FIELD_NAMES, extra values to keep) for one raw item."""

    def _explain(self, exc: FetchError) -> FeedError:
        """The FeedError for a failed request: bad credentials are configuration, the rest unavailability."""
        if exc.status in (401, 403):
            return FeedConfigError(f"feed {self.spec.id!r}: {self.source} refused the credentials "
                                   f"({exc.status}: {exc.body or exc}); check them and the subscription")
        return FeedUnavailableError(f"feed {self.spec.id!r}: {self.source} request failed: {exc}")

    # -- helpers for sources

    def _get_json(self, path: str, params: Mapping[str, Any] | None = None, *,
                  headers: Mapping[str, str] | None = None,
                  give_up: Callable[[BaseException], bool] | None = None) -> tuple[Any, httpx.Headers]:
        """One paced GET of `path` on the API host; (parsed JSON, response headers)."""
        assert self._fetcher is not None
        budget = (self.source, self.base_url, self._credential_id())
        self._paced_wait_s += self._fetcher.limiter(budget, self.requests_per_minute).acquire().waited_s
        url = self.base_url + path
        response = self._fetcher.request("GET", url, params=params,
                                         headers={"Accept": "application/json", **(headers or {})}, give_up=give_up)
        self._requests += 1
        self.outcome.bytes_read += len(response.content)
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            snippet = response.content[:200].decode("utf-8", "replace")
            raise ApiResponseError(f"feed {self.spec.id!r}: {self.source} answered GET {redact_url(str(response.url))} "
                                   f"with a body that is not JSON ({exc}): {snippet!r}") from exc
        return data, response.headers

    def _shape_error(self, what: str, data: Any) -> ApiResponseError:
        sample = json.dumps(data, default=str)[:200] if not isinstance(data, bytes) else repr(data[:200])
        return ApiResponseError(f"feed {self.spec.id!r}: {self.source} answered with {what}: {sample}; the API's "
                                f"format may have changed, see sources/{self.source}.py")

    # -- FeedReader

    def _records(self) -> Iterator[JobRecord]:
        started = time.perf_counter()
        try:
            if self._fetcher is None:
                self._fetcher = HttpFetcher()
            for items in self._pages():
                self._pages_read += 1
                for item in items:
                    job = self._job(item)
                    if job is not None:
                        yield job
        except FetchError as exc:
            self._stop(self._explain(exc), exc)
        except FeedError as exc:
            self._stop(exc, None)
        except (httpx.HTTPError, OSError) as exc:
            self._stop(FeedUnavailableError(f"feed {self.spec.id!r}: {self.source} request failed: "
                                            f"{describe_error(exc)}"), exc)
        finally:
            self._finish_stats(time.perf_counter() - started, self._paced_wait_s)

    def _stop(self, error: FeedError, cause: BaseException | None) -> None:
        """Before any page: nothing to keep, raise. After: keep what arrived, mark the read incomplete."""
        if self._pages_read == 0:
            if cause is None:
                raise error
            raise error from cause
        self.outcome.mark_incomplete(f"{error} (after {self._pages_read} page(s); the postings read are kept)")

    def _job(self, item: Any) -> JobRecord | None:
        self._items += 1
        if not isinstance(item, Mapping):
            self._malformed(f"an item is a {type(item).__name__}, not an object: {str(item)[:100]!r}")
            return None
        try:
            fields, extra = self._fields(item)
            if not self._wanted_role(fields):  # before normalizing: most of a broad search is dropped here
                self._counts["filtered_role"] += 1
                return None
            job = job_from_fields(self.spec.id, self.source, fields, now=self.now, extra=extra)
        except (TypeError, ValueError, AttributeError) as exc:
            self._malformed(f"item {text_or_none(item.get('id') or item.get('job_id'))!r}: {describe_error(exc)}")
            return None
        reason = self._filter_reason(job)
        if reason is not None:
            self._counts[f"filtered_{reason}"] += 1
            return None
        try:
            job.job_key = api_job_key(job)
        except ValueError:
            self._malformed(f"an item has neither an id nor a url: {json.dumps(item, default=str)[:100]}")
            return None
        if job.job_key in self._seen:
            self._counts["duplicates_skipped"] += 1
            return None
        self._seen.add(job.job_key)
        job.content_hash = make_content_hash(job)
        self.outcome.records_seen += 1
        self._counts[f"rejected_{job.rejection_reason}" if job.rejection_reason else "accepted"] += 1
        return job

    def _wanted_role(self, fields: Mapping[str, Any]) -> bool:
        """The role filter on the item's title and tags (as job_from_fields will clean them). A posting without
        a title is kept: it is rejected as invalid downstream, where the data problem stays visible."""
        title = clean_text(fields.get("title"))
        if self.role_filter is None or not title:
            return True
        tags = fields.get("tags")
        tag_texts = tags if isinstance(tags, list | tuple) else str(tags or "").split(",")
        return self.role_filter.keeps(title, [t for t in (clean_text(v) for v in tag_texts) if t])

    def _filter_reason(self, job: JobRecord) -> str | None:
        """Why the feed does not want this normalized posting ("too_old", "not_remote"), or None to keep it."""
        if self.max_age_days is not None and job.posted_at is not None and \
                job.posted_at < self.now - timedelta(days=self.max_age_days):
            return "too_old"
        if self.remote_only and job.is_remote is not True:
            return "not_remote"
        return None

    def _malformed(self, message: str) -> None:
        self._counts["malformed_items"] += 1
        if self._first_malformed is None:
            self._first_malformed = message[:MAX_ERROR_EXAMPLE_CHARS]
            log.warning("feed %s (%s): skipped a malformed item: %s", self.spec.id, self.source, message)

    def _finish_stats(self, duration: float, waited: float) -> None:
        stats = self.outcome.stats
        stats["source"] = self.source
        stats["requests"] = self._requests
        stats["pages"] = self._pages_read
        stats["items_received"] = self._items
        for key in ("accepted", "filtered_role", "filtered_too_old", "filtered_not_remote", "duplicates_skipped",
                    "malformed_items"):
            stats[key] = self._counts[key]
        for reason in (RejectionReason.CLOSED, RejectionReason.EXPIRED, RejectionReason.INVALID):
            stats[f"rejected_{reason.value}"] = self._counts[f"rejected_{reason.value}"]
        if self._first_malformed:
            stats["first_malformed_item"] = self._first_malformed
        stats["role_filter"] = self.role_filter.describe() if self.role_filter else "none"
        stats["paced_wait_s"] = round(waited, 3)
        stats["duration_s"] = round(duration, 3)
