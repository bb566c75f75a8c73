"""The `remoteok` source: RemoteOK's public job API (`GET {REMOTEOK_BASE_URL}/api[?tag=...]`, no key).

Wire format: a JSON array whose element 0 is a legal notice (`{"last_updated": ..., "legal": "..."}`), then
the jobs: `id` (a string), `slug`, `epoch`, `date` (ISO), `company`, `position` (the title), `tags[]`,
`description` (HTML), `location` ("" or null when the job is worldwide), `salary_min` / `salary_max` (USD
a year; 0 means unknown), `apply_url`, `url`, `logo`. There is no paging: one request returns the latest
jobs. An array holding only the legal notice is a valid, empty answer (no job matches the tag).

Every RemoteOK job is remote. RemoteOK's terms require attribution: the record's `url` is the job's page on
RemoteOK (which links to the employer's `apply_url`, kept in `extra`), and `extra.source_attribution` names
Remote OK so the mirror can show it.

Params: `tags` (list or comma string; one request per tag, ids seen twice kept once; none = all jobs),
`max_age_days`, `remote_only` (always true here), `requests_per_minute` (default 60), and the role filter
params (`role_filter`, `include`, `exclude`; default preset `backend_devops`).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from feed_pipeline.sources.job_api import JobApiReader, present_texts, text_list, text_or_none

SOURCE_NAME = "remoteok"
API_PATH = "/api"
ATTRIBUTION = "Remote OK (remoteok.com)"


def is_legal_notice(item: Any) -> bool:
    """RemoteOK's leading element: it carries `legal` and no job fields."""
    return isinstance(item, Mapping) and "legal" in item and "position" not in item and "id" not in item


class RemoteOkReader(JobApiReader):
    """FeedReader for `kind = "remoteok"`."""

    source = SOURCE_NAME
    default_base_url = "https://remoteok.com"
    supported_params = frozenset({"tags", "max_age_days", "remote_only"})
    default_requests_per_minute = 60.0

    def _configure(self) -> None:
        self.tags = self.params.words("tags")

    def _pages(self) -> Iterator[list[Any]]:
        for tag in self.tags or [None]:
            data, _ = self._get_json(API_PATH, {"tag": tag} if tag else None)
            if not isinstance(data, list):
                raise self._shape_error("an object where a JSON array of jobs belongs", data)
            yield [item for item in data if not is_legal_notice(item)]

    def _fields(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        salary_min, salary_max = item.get("salary_min"), item.get("salary_max")
        has_salary = any(isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                         for v in (salary_min, salary_max))
        fields = {
            "id": text_or_none(item.get("id")),
            "title": item.get("position"),
            "company": item.get("company"),
            "description": item.get("description"),
            "url": item.get("url") or item.get("apply_url"),
            "location": text_or_none(item.get("location")),
            "date": text_or_none(item.get("date")) or text_or_none(item.get("epoch")),
            "salary_min": salary_min,
            "salary_max": salary_max,
            "salary_currency": "USD" if has_salary else None,
            "salary_period": "year" if has_salary else None,
            "remote": "remote",
            "tags": text_list(item.get("tags")),
        }
        kept = present_texts(item, {"apply_url": "apply_url", "slug": "slug", "logo": "logo"})
        return fields, {"source_attribution": ATTRIBUTION, **kept}
