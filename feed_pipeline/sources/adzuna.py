"""The `adzuna` source: Adzuna's search API (`GET {ADZUNA_BASE_URL}/v1/api/jobs/{country}/search/{page}`).

Wire format: `?app_id=&app_key=&results_per_page=50&what=&what_or=&where=&max_days_old=&sort_by=date`; answer
`{"count": 1234, "mean": ..., "results": [...]}` with items `id` (a string), `title`, `description` (a
~500-character snippet), `created` (ISO Z), `redirect_url`, `company: {display_name}`, `location:
{display_name, area: [country, region, ..., town]}`, `category: {label, tag}`, `salary_min`, `salary_max`
(a year, in the country's currency; `salary_is_predicted` "1" for Adzuna's estimate), `contract_type`
(permanent|contract), `contract_time` (full_time|part_time). Bad credentials: 401
`{"display": "Authorisation failed", "exception": "AUTH_FAIL"}` (a configuration error).

Paging: pages 1..`pages`, stopping early at a short page or once `count` is reached. Limits: 25 requests a
minute (requests are paced to that, `requests_per_minute`) and 250 a day per app id: at the default
30-minute schedule a feed spends 48 x pages requests a day, so keep `pages` at 5 or below per app id.

Adzuna has no remote filter: a posting counts as remote when its title or location says "remote", and
`remote_only` keeps only those.

Params: `query` (`what`, all words), `what_or` (any word; default: the single-word include keywords of the
role filter when there is no query), `location` (`where`), `country` (default `us`), `pages` (default 2),
`results_per_page` (default and maximum 50), `max_age_days` (`max_days_old`), `remote_only`,
`requests_per_minute` (default 25), and the role filter params.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from feed_pipeline.sources.base import FeedConfigError, FeedError
from feed_pipeline.sources.http_fetch import FetchError
from feed_pipeline.sources.job_api import JobApiReader, dig, text_or_none

SOURCE_NAME = "adzuna"
MAX_RESULTS_PER_PAGE = 50
# Adzuna's countries and the currency its salaries are in.
COUNTRY_CURRENCIES = {
    "at": "EUR", "au": "AUD", "be": "EUR", "br": "BRL", "ca": "CAD", "ch": "CHF", "de": "EUR", "es": "EUR",
    "fr": "EUR", "gb": "GBP", "in": "INR", "it": "EUR", "mx": "MXN", "nl": "EUR", "nz": "NZD", "pl": "PLN",
    "sg": "SGD", "us": "USD", "za": "ZAR",
}
_REMOTE_WORD = re.compile(r"\bremote\b", re.IGNORECASE)


def search_path(country: str, page: int) -> str:
    return f"/v1/api/jobs/{country}/search/{page}"


def adzuna_error(body: str) -> str:
    """`EXCEPTION: display` from Adzuna's error JSON, or the body itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()
    exception, display = dig(data, "exception"), dig(data, "display")
    if exception or display:
        return ": ".join(str(part) for part in (exception, display) if part)
    return body.strip()


class AdzunaReader(JobApiReader):
    """FeedReader for `kind = "adzuna"`."""

    source = SOURCE_NAME
    default_base_url = "https://api.adzuna.com"
    supported_params = frozenset({"query", "what_or", "location", "country", "pages", "results_per_page",
                                  "max_age_days", "remote_only"})
    default_requests_per_minute = 25.0

    def _configure(self) -> None:
        self.app_id = self._required_env("ADZUNA_APP_ID", "the application id from developer.adzuna.com")
        self.app_key = self._required_env("ADZUNA_APP_KEY", "the application key from developer.adzuna.com")
        params = self.params
        self.country = (params.text("country") or "us").lower()
        if self.country not in COUNTRY_CURRENCIES:
            raise FeedConfigError(f"feed {self.spec.id!r} (adzuna): params.country {self.country!r} is not an "
                                  f"Adzuna country; use one of {', '.join(sorted(COUNTRY_CURRENCIES))}")
        self.pages = params.integer("pages", 2, minimum=1, maximum=1000)
        self.results_per_page = params.integer("results_per_page", MAX_RESULTS_PER_PAGE, minimum=1,
                                               maximum=MAX_RESULTS_PER_PAGE)
        self.what = params.text("query")
        self.what_or = params.text("what_or")
        if self.what is None and self.what_or is None and self.role_filter is not None:
            single_words = [k for k in self.role_filter.include if " " not in k.strip()]
            self.what_or = " ".join(single_words) or None
        self.where = params.text("location")

    def _credential_id(self) -> str:
        return self.app_id

    def _request_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"app_id": self.app_id, "app_key": self.app_key,
                                  "results_per_page": self.results_per_page, "sort_by": "date"}
        for name, value in (("what", self.what), ("what_or", self.what_or), ("where", self.where),
                            ("max_days_old", self.max_age_days)):
            if value is not None:
                params[name] = value
        return params

    def _pages(self) -> Iterator[list[Any]]:
        params = self._request_params()
        for page in range(1, self.pages + 1):
            data, _ = self._get_json(search_path(self.country, page), params)
            if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
                raise self._shape_error("no `results` list", data)
            results = data["results"]
            yield results
            count = data.get("count")
            if len(results) < self.results_per_page or (isinstance(count, int) and page * self.results_per_page
                                                        >= count):
                return

    def _explain(self, exc: FetchError) -> FeedError:
        message = adzuna_error(exc.body or "") or str(exc)
        if exc.status in (401, 403):
            return FeedConfigError(f"feed {self.spec.id!r}: Adzuna refused ADZUNA_APP_ID / ADZUNA_APP_KEY "
                                   f"({exc.status} {message}); check them at developer.adzuna.com")
        if exc.status == 400:
            return FeedConfigError(f"feed {self.spec.id!r}: Adzuna rejected the search (400 {message}); check the "
                                   f"feed's params")
        return super()._explain(exc)

    def _fields(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        area = dig(item, "location", "area")
        area = [str(a) for a in area if a] if isinstance(area, list) else []
        location = text_or_none(dig(item, "location", "display_name"))
        title = item.get("title")
        remote = any(isinstance(v, str) and _REMOTE_WORD.search(v) for v in (title, location))
        has_salary = any(isinstance(item.get(k), int | float) and item.get(k) > 0 for k in ("salary_min", "salary_max"))
        fields = {
            "id": text_or_none(item.get("id")),
            "title": title,
            "company": text_or_none(dig(item, "company", "display_name")),
            "description": item.get("description"),
            "url": item.get("redirect_url"),
            "location": location,
            "country": area[0] if area else None,
            "state": area[1] if len(area) > 1 else None,
            "city": area[-1] if len(area) > 2 else None,
            "date": text_or_none(item.get("created")),
            "contract_type": text_or_none(item.get("contract_type")),
            "contract_time": text_or_none(item.get("contract_time")),
            "salary_min": item.get("salary_min"),
            "salary_max": item.get("salary_max"),
            "salary_currency": COUNTRY_CURRENCIES[self.country] if has_salary else None,
            "salary_period": "year" if has_salary else None,
            "remote": "remote" if remote else None,
            "category": text_or_none(dig(item, "category", "label")),
        }
        extra: dict[str, Any] = {}
        if str(item.get("salary_is_predicted", "0")) == "1":
            extra["salary_is_predicted"] = True
        category_tag = text_or_none(dig(item, "category", "tag"))
        if category_tag:
            extra["category_tag"] = category_tag
        return fields, extra
