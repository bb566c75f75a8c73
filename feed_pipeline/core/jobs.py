"""The job record every source yields and every stage reads: one shape from feed to Xano."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Route(StrEnum):
    APPROVED = "approved"
    MANUAL_REVIEW = "manual_review"
    ARCHIVED = "archived"
    REJECTED = "rejected"
    FAILED = "failed"


class RejectionReason(StrEnum):
    CLOSED = "closed"
    EXPIRED = "expired"
    INVALID = "invalid"
    REMOVED = "removed"


class EmploymentType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    CONTRACT = "contract"
    TEMPORARY = "temporary"
    INTERNSHIP = "internship"
    VOLUNTEER = "volunteer"
    OTHER = "other"


@dataclass(slots=True)
class JobRecord:
    """A normalized posting. A raw posting has one location; a merged one has all of its members'.

    `job_key` and `content_hash` are filled by `core.identity`; `block_key` by `core.dedupe`.
    Dates are timezone-aware UTC. Text fields are trimmed, unescaped plain text.
    """

    feed_id: str
    source: str  # "xml", "remoteok", "jsearch", "adzuna"
    source_id: str | None
    title: str
    company: str = ""
    description: str = ""
    description_html: str | None = None
    url: str | None = None
    locations: list[str] = field(default_factory=list)
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    employment_type: str | None = None  # an EmploymentType value
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None  # "year", "month", "week", "day", "hour"
    is_remote: bool | None = None
    posted_at: datetime | None = None
    expires_at: datetime | None = None
    requisition_id: str | None = None
    category: str | None = None
    status: str | None = None  # the feed's own status text, as given
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    job_key: str = ""
    content_hash: str = ""
    block_key: str = ""
    rejection_reason: str | None = None  # a RejectionReason value
    rejection_detail: str | None = None
    # Filled by dedupe: the raw job keys and source ids merged into this job.
    member_keys: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)
    is_multi_location: bool = False
    dedupe_key: str = ""  # cross-feed identity (normalized title + company)
    # Set by a source that can tell: the digest of the record exactly as read (raw_jobs keeps it), so the next read
    # of the same bytes skips normalizing it (UnchangedPosting).
    source_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class UnchangedPosting:
    """A record a source read byte for byte as it did last time (its `source_digest` is stored with the posting):
    the stored raw row stands, so only what the ingest counts travels."""

    job_key: str
    rejection_reason: str | None
    coverage_mask: int | None  # core.coverage.coverage_mask of the stored posting


# The job's terms (employment type, pay, remote or not, dates), in JobRecord's order: both the fields that make
# one posting more complete than another (core.dedupe) and part of what the mirror publishes (core.mirror).
TERMS_FIELDS: tuple[str, ...] = ("employment_type", "salary_min", "salary_max", "salary_currency", "salary_period",
                                 "is_remote", "posted_at", "expires_at")
