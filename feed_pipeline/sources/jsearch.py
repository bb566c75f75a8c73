"""The `jsearch` source: JSearch on RapidAPI (`GET {JSEARCH_BASE_URL}/search`, headers X-RapidAPI-Key/-Host).

Wire format: `?query=&page=&num_pages=&date_posted=all|today|3days|week|month&employment_types=FULLTIME,...
&remote_jobs_only=true[&country=us]`; answer `{"status": "OK", "request_id", "parameters", "data": [...]}`
with items `job_id, employer_name, employer_logo, job_publisher, job_employment_type (FULLTIME|PARTTIME|
CONTRACTOR|INTERN|TEMPORARY), job_title, job_apply_link, job_description, job_is_remote,
job_posted_at_datetime_utc, job_offer_expiration_datetime_utc, job_city, job_state, job_country,
job_min_salary, job_max_salary, job_salary_currency, job_salary_period, job_required_skills`.
A page is 10 postings. One request may ask for several pages (`num_pages`; RapidAPI bills 2-10 pages as two
requests), so `pages_per_request` trades requests for quota.

Quotas (RapidAPI): every answer carries `x-ratelimit-requests-limit/-remaining/-reset` (reset in seconds)
for the plan's monthly quota. A 429 whose message names the per-second rate limit is retried with backoff
(HttpFetcher); a 429 that says the MONTHLY quota is spent (or comes with 0 requests remaining) is not
retried: it will not clear before the reset, so the read stops and says when the quota resets. When an
answer says 0 requests remain, no further page is asked for. 403 "You are not subscribed to this API." and
401 (bad key) are configuration errors.

Params: `query` (default: backend/devops/SRE roles), `location` (appended as "in <location>"), `country`,
`pages` (default 1), `pages_per_request` (default: all pages in one request, at most 10), `remote_only`,
`max_age_days` (sent as the smallest `date_posted` window that covers it, then applied exactly),
`employment_types` (FULLTIME, PARTTIME, CONTRACTOR, INTERN, TEMPORARY), `requests_per_minute` (default 60),
and the role filter params.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedUnavailableError
from feed_pipeline.sources.http_fetch import FetchError
from feed_pipeline.sources.job_api import JobApiReader, dig, present_texts, text_list, text_or_none

SOURCE_NAME = "jsearch"
API_PATH = "/search"
RAPIDAPI_HOST = "jsearch.p.rapidapi.com"
PAGE_SIZE = 10
MAX_PAGES_PER_REQUEST = 10
DEFAULT_QUERY = "backend OR devops OR site reliability OR platform engineer"
EMPLOYMENT_TYPES = ("FULLTIME", "PARTTIME", "CONTRACTOR", "INTERN", "TEMPORARY")
# date_posted windows, smallest first: (days covered, wire value).
DATE_POSTED_WINDOWS = ((1, "today"), (3, "3days"), (7, "week"), (30, "month"))
REMAINING_HEADER = "x-ratelimit-requests-remaining"
RESET_HEADER = "x-ratelimit-requests-reset"
LIMIT_HEADER = "x-ratelimit-requests-limit"
_MONTHLY = re.compile(r"monthly|quota", re.IGNORECASE)


def date_posted_for(max_age_days: int | None) -> str:
    """The narrowest JSearch `date_posted` window that still holds every posting up to `max_age_days` old."""
    if max_age_days is None:
        return "all"
    for days, value in DATE_POSTED_WINDOWS:
        if max_age_days <= days:
            return value
    return "all"


def rapidapi_message(body: str) -> str:
    """RapidAPI's `{"message": "..."}` text, or the body itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()
    message = dig(data, "message") or dig(data, "error", "message")
    return str(message) if message else body.strip()


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = (headers.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def is_quota_exhausted(exc: BaseException) -> bool:
    """A 429 that will not clear by retrying: the monthly quota (message or a zero remaining count)."""
    if not isinstance(exc, FetchError) or exc.status != 429:
        return False
    return _header_int(exc.headers, REMAINING_HEADER) == 0 or bool(_MONTHLY.search(exc.body or ""))


def _reset_text(headers: Mapping[str, str]) -> str:
    reset = _header_int(headers, RESET_HEADER)
    if reset is None:
        return "see the RapidAPI dashboard for when it resets"
    hours = reset / 3600
    return f"it resets in {reset:,} s (~{hours:.1f} h)"


class JSearchQuotaExhausted(FeedUnavailableError):
    """The RapidAPI plan's quota for JSearch is spent until its reset."""


class JSearchReader(JobApiReader):
    """FeedReader for `kind = "jsearch"`."""

    source = SOURCE_NAME
    default_base_url = "https://jsearch.p.rapidapi.com"
    supported_params = frozenset({"query", "location", "country", "pages", "pages_per_request", "remote_only",
                                  "max_age_days", "employment_types"})
    default_requests_per_minute = 60.0

    def _configure(self) -> None:
        self.api_key = self._required_env("RAPIDAPI_KEY", "a RapidAPI key subscribed to JSearch")
        params = self.params
        query = params.text("query") or DEFAULT_QUERY
        location = params.text("location")
        self.query = f"{query} in {location}" if location else query
        self.country = params.text("country")
        if self.country is not None:
            self.country = self.country.lower()
            if not re.fullmatch(r"[a-z]{2}", self.country):
                raise FeedConfigError(f"feed {self.spec.id!r} (jsearch): params.country must be a two-letter "
                                      f"ISO code like 'us'; got {self.country!r}")
        self.pages = params.integer("pages", 1, minimum=1, maximum=1000)
        self.pages_per_request = params.integer("pages_per_request", min(self.pages, MAX_PAGES_PER_REQUEST),
                                                minimum=1, maximum=MAX_PAGES_PER_REQUEST)
        types = [t.upper() for t in params.words("employment_types")]
        unknown = [t for t in types if t not in EMPLOYMENT_TYPES]
        if unknown:
            raise FeedConfigError(f"feed {self.spec.id!r} (jsearch): params.employment_types {unknown} are not "
                                  f"JSearch types; use {', '.join(EMPLOYMENT_TYPES)}")
        self.employment_types = types
        self.quota: dict[str, int | None] = {}

    def _credential_id(self) -> str:
        return "rapidapi"  # the key is a secret; one key per deployment

    def _request_params(self, page: int, num_pages: int) -> dict[str, Any]:
        params: dict[str, Any] = {"query": self.query, "page": page, "num_pages": num_pages,
                                  "date_posted": date_posted_for(self.max_age_days)}
        if self.employment_types:
            params["employment_types"] = ",".join(self.employment_types)
        if self.remote_only:
            params["remote_jobs_only"] = "true"
        if self.country:
            params["country"] = self.country
        return params

    def _pages(self) -> Iterator[list[Any]]:
        headers = {"X-RapidAPI-Key": self.api_key, "X-RapidAPI-Host": RAPIDAPI_HOST}
        page = 1
        while page <= self.pages:
            num_pages = min(self.pages_per_request, self.pages - page + 1)
            data, response_headers = self._get_json(API_PATH, self._request_params(page, num_pages),
                                                    headers=headers, give_up=is_quota_exhausted)
            self._note_quota(response_headers)
            if isinstance(data, Mapping) and str(data.get("status", "OK")).upper() != "OK":
                raise FeedUnavailableError(f"feed {self.spec.id!r}: jsearch answered status "
                                           f"{data.get('status')!r}: {rapidapi_message(json.dumps(data))[:300]}")
            if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
                raise self._shape_error("no `data` list in its envelope", data)
            items = data["data"]
            yield items
            page += num_pages
            if len(items) < PAGE_SIZE * num_pages:
                return  # the last page: fewer postings than asked for
            if page <= self.pages and self.quota.get("remaining") == 0:
                raise JSearchQuotaExhausted(
                    f"feed {self.spec.id!r}: the RapidAPI quota for JSearch is used up (0 of "
                    f"{self.quota.get('limit') or '?'} requests remain); pages from {page} on were not "
                    f"fetched; {_reset_text(response_headers)}")

    def _note_quota(self, headers: Mapping[str, str]) -> None:
        for key, header in (("limit", LIMIT_HEADER), ("remaining", REMAINING_HEADER), ("reset_s", RESET_HEADER)):
            value = _header_int(headers, header)
            if value is not None:
                self.quota[key] = value
                self.outcome.stats[f"quota_{key}"] = value

    def _explain(self, exc: FetchError) -> FeedError:
        message = rapidapi_message(exc.body or "") or str(exc)
        if exc.status == 403:
            return FeedConfigError(f"feed {self.spec.id!r}: RapidAPI refused JSearch (403: {message}); subscribe "
                                   f"the key in RAPIDAPI_KEY to JSearch on rapidapi.com, or use another key")
        if exc.status == 401:
            return FeedConfigError(f"feed {self.spec.id!r}: RapidAPI rejected the key in RAPIDAPI_KEY "
                                   f"(401: {message}); set a valid key")
        if is_quota_exhausted(exc):
            self._note_quota(exc.headers)
            return JSearchQuotaExhausted(f"feed {self.spec.id!r}: the RapidAPI quota for JSearch is used up "
                                         f"(429: {message}); {_reset_text(exc.headers)}")
        if exc.status == 429:
            return FeedUnavailableError(f"feed {self.spec.id!r}: JSearch kept answering 429 (per-second rate "
                                        f"limit: {message}) after retries; lower params.requests_per_minute")
        return super()._explain(exc)

    def _fields(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        employment = item.get("job_employment_type")
        if not employment and isinstance(item.get("job_employment_types"), list):
            employment = ",".join(str(t) for t in item["job_employment_types"])
        remote = item.get("job_is_remote")
        fields = {
            "id": text_or_none(item.get("job_id")),
            "title": item.get("job_title"),
            "company": item.get("employer_name"),
            "description": item.get("job_description"),
            "url": item.get("job_apply_link"),
            "city": text_or_none(item.get("job_city")),
            "state": text_or_none(item.get("job_state")),
            "country": text_or_none(item.get("job_country")),
            "date": text_or_none(item.get("job_posted_at_datetime_utc")),
            "expires": text_or_none(item.get("job_offer_expiration_datetime_utc")),
            "employment_type": text_or_none(employment),
            "salary_min": item.get("job_min_salary"),
            "salary_max": item.get("job_max_salary"),
            "salary_currency": text_or_none(item.get("job_salary_currency")),
            "salary_period": text_or_none(item.get("job_salary_period")),
            "remote": ("remote" if remote else "not remote") if isinstance(remote, bool) else None,
            "tags": text_list(item.get("job_required_skills")),
        }
        return fields, present_texts(item, {"job_publisher": "publisher", "employer_logo": "employer_logo"})
