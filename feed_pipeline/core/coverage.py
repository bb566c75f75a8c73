"""Field coverage of an ingest: the share of postings that carry each field a job board needs.

A feed whose profile or generator breaks rarely fails outright: it keeps delivering postings that lost their
id, their place or their type (a wrong profile drops them silently). Coverage counted per ingest and compared
with the feed's previous ingest turns that into a warning.

Counted over every posting read except closure notices (`closed`: often an id and a status only, by design);
invalid postings count, since a missing title is exactly what coverage should show.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feed_pipeline.core.jobs import JobRecord, RejectionReason, UnchangedPosting

# field -> what "has it" means, in the order shown to operators.
COVERAGE_FIELDS: Mapping[str, str] = {
    "id": "the source's own id (referencenumber, id...): identity survives a changed URL",
    "title": "a title",
    "company": "a company name",
    "location": "a location, city, state or country",
    "date": "a parsed posting date",
    "employment_type": "an employment type",
    "salary": "a salary minimum or maximum",
}
# A field whose share fell by at least this much (0-1, absolute) since the previous ingest is a marked drop.
DEFAULT_DROP_WARN = 0.2


def _has(job: JobRecord, name: str) -> bool:
    if name == "id":
        return bool(job.source_id)
    if name == "location":
        return bool(job.locations or job.city or job.state or job.country)
    if name == "date":
        return job.posted_at is not None
    if name == "salary":
        return job.salary_min is not None or job.salary_max is not None
    return bool(getattr(job, name))


def coverage_mask(job: JobRecord) -> int | None:
    """The COVERAGE_FIELDS the posting has, one bit each in their order; None for a closure notice, which is not
    counted. Stored with the raw posting, so a record read unchanged counts without being normalized again."""
    if job.rejection_reason == RejectionReason.CLOSED.value:
        return None
    return sum(1 << bit for bit, name in enumerate(COVERAGE_FIELDS) if _has(job, name))


@dataclass
class FieldCoverage:
    """Counts postings and, per COVERAGE_FIELDS entry, the postings that have it. O(1) memory per ingest."""

    postings: int = 0
    filled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COVERAGE_FIELDS, 0))

    def add(self, job: JobRecord | UnchangedPosting) -> None:
        mask = job.coverage_mask if isinstance(job, UnchangedPosting) else coverage_mask(job)
        if mask is None:
            return
        self.postings += 1
        for bit, name in enumerate(COVERAGE_FIELDS):
            if mask >> bit & 1:
                self.filled[name] += 1

    def shares(self) -> dict[str, float | None]:
        """field -> share of postings with it (0-1, 4 decimals); None for every field when nothing was counted."""
        return {name: round(self.filled[name] / self.postings, 4) if self.postings else None
                for name in COVERAGE_FIELDS}

    def as_dict(self) -> dict[str, Any]:
        """JSON for storage with the ingest (`from_dict` reads it back)."""
        return {"postings": self.postings, "filled": dict(self.filled)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FieldCoverage | None:
        """The stored coverage, or None when the ingest recorded none (an older ingest, a failed one)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("postings"), int):
            return None
        filled = data.get("filled") if isinstance(data.get("filled"), Mapping) else {}
        return cls(postings=data["postings"],
                   filled={name: int(filled.get(name, 0) or 0) for name in COVERAGE_FIELDS})


@dataclass(frozen=True)
class CoverageDrop:
    field: str
    previous: float
    current: float

    def describe(self) -> str:
        return f"{self.field}: {self.previous:.0%} -> {self.current:.0%} of postings"


def coverage_drops(current: FieldCoverage, previous: FieldCoverage,
                   min_drop: float = DEFAULT_DROP_WARN) -> list[CoverageDrop]:
    """The fields whose share fell by at least `min_drop` since the previous ingest (none when either is empty)."""
    if not 0.0 < min_drop <= 1.0:
        raise ValueError(f"min_drop must be in (0, 1], got {min_drop!r}")
    now, before = current.shares(), previous.shares()
    drops = []
    for name in COVERAGE_FIELDS:
        if now[name] is None or before[name] is None:
            continue
        if before[name] - now[name] >= min_drop - 1e-9:
            drops.append(CoverageDrop(field=name, previous=before[name], current=now[name]))
    return drops
