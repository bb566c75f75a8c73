"""What the Xano mirror publishes and which writes make Xano an exact copy of a feed's approved jobs.

Pure functions: no HTTP, no Dagster. `resources/xano.py` lists the records, calls `plan_mirror`,
applies the plan and calls `verify_mirror`.

Identity and scope. A Xano record belongs to feed F only when it carries `feed_id == F` and a non-empty
string `job_key`. Records of other feeds and records without our `job_key` (typed in by hand, written by
another integration) are never planned for any write.

Change detection. Every record carries two hashes:
- `content_hash`: the jobs row's own hash of what the AI sees (`core.identity.make_content_hash`);
- `record_hash`: a hash of every published field, so a change that leaves the content alone (a new
  industry from a new prompt, a corrected location) still reaches Xano.
A record whose two hashes both match is unchanged, whatever Xano did to the stored values (Xano may
turn `null` into `""` or `0`), so a rerun with nothing changed plans no writes. The Xano table therefore
needs a column for every name in `XANO_FIELDS` (Xano drops inputs it has no column for).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from feed_pipeline.core.jobs import TERMS_FIELDS

# The fields we publish, in a stable order. `job_key`, `feed_id` and the two hashes are the mirror's
# bookkeeping; the rest is the job as a consumer of the dataset sees it.
XANO_FIELDS: tuple[str, ...] = (
    "job_key",
    "feed_id",
    "content_hash",
    "record_hash",
    "title",
    "company",
    "description",
    "url",
    "locations",
    "city",
    "state",
    "country",
    "is_multi_location",
    *TERMS_FIELDS,
    "industry",
    "job_function",
    "ai_title",
    "ai_description",
    "skills",
    "tech_stack",
    "seniority",
    "remote_policy",
    "dedupe_key",
)

_TIMESTAMP_FIELDS = frozenset({"posted_at", "expires_at"})
_LIST_FIELDS = frozenset({"locations", "skills", "tech_stack"})
_REQUIRED_TEXT = ("job_key", "feed_id", "content_hash")
# Xano fills these itself; they never take part in a comparison.
XANO_OWN_FIELDS = frozenset({"id", "created_at"})

DEFAULT_MAX_DELETE_SHARE = 0.5
# A delete of at most this many records is never a "mass delete" by count alone: a small copy being corrected.
DEFAULT_MIN_MASS_DELETE = 10


def epoch_ms(value: Any, *, field_name: str, job_key: str) -> int | None:
    """A timestamp as Xano stores it: integer epoch milliseconds. Naive datetimes are UTC (SQLite)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"job {job_key}: {field_name}={value!r} is not a timestamp")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"job {job_key}: {field_name}={value!r} is not a finite timestamp")
        return int(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(
                f"job {job_key}: {field_name}={value!r} is not an ISO timestamp; store datetimes in the jobs table"
            ) from exc
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    raise TypeError(f"job {job_key}: {field_name} has type {type(value).__name__}, expected a datetime")


def _as_list(value: Any, *, field_name: str, job_key: str) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        # A JSON column read back as text by a driver that does not decode it.
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            return decoded
    raise TypeError(f"job {job_key}: {field_name} must be a list, got {type(value).__name__}")


def _as_number(value: Any, *, field_name: str, job_key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"job {job_key}: {field_name}={value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"job {job_key}: {field_name}={value!r} is not finite; Xano cannot store it")
    return float(value)


def record_hash(record: Mapping[str, Any]) -> str:
    """Hash of every published field except `record_hash` itself, in canonical JSON."""
    body = {name: record.get(name) for name in XANO_FIELDS if name != "record_hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def to_xano_record(job: Mapping[str, Any]) -> dict[str, Any]:
    """The Xano record for one row of the `jobs` table (a dict), with JSON-native values only."""
    job_key = job.get("job_key") or "?"
    for name in _REQUIRED_TEXT:
        value = job.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"jobs row (feed {job.get('feed_id')!r}, job_key {job_key!r}) has no {name}; "
                "only rows written by the pipeline can be mirrored"
            )
    record: dict[str, Any] = {}
    for name in XANO_FIELDS:
        if name == "record_hash":
            continue
        value = job.get(name)
        if name in _TIMESTAMP_FIELDS:
            value = epoch_ms(value, field_name=name, job_key=job_key)
        elif name in _LIST_FIELDS:
            value = [str(item) for item in _as_list(value, field_name=name, job_key=job_key)]
        elif name in ("salary_min", "salary_max"):
            value = _as_number(value, field_name=name, job_key=job_key)
        elif name in ("is_remote",):
            value = None if value is None else bool(value)
        elif name == "is_multi_location":
            value = bool(value)
        elif value is not None and not isinstance(value, str):
            value = str(value)
        record[name] = value
    if record["title"] is None:
        record["title"] = ""
    record["record_hash"] = record_hash(record)
    return record


def _owned_key(record: Mapping[str, Any], feed_id: str) -> str | None:
    """The record's job_key when it is one of this feed's mirror records, else None."""
    if record.get("feed_id") != feed_id:
        return None
    key = record.get("job_key")
    return key if isinstance(key, str) and key else None


def version(record: Mapping[str, Any]) -> str:
    """A record's two hashes as one string: what the diff compares, kept per job in little memory."""
    return f"{record.get('content_hash')}:{record.get('record_hash')}"


def changed_fields(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body: the published fields whose stored value differs, plus job_key and both hashes.

    job_key goes along so a PATCH names its job (errors, and re-adding a record deleted meanwhile).
    """
    patch = {name: desired[name] for name in XANO_FIELDS if existing.get(name) != desired[name]}
    patch["job_key"] = desired["job_key"]
    patch["content_hash"] = desired["content_hash"]
    patch["record_hash"] = desired["record_hash"]
    return patch


def _record_id(record: Mapping[str, Any]) -> int:
    rid = record.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int):
        raise TypeError(f"Xano record for job_key {record.get('job_key')!r} has no integer id: {rid!r}")
    return rid


class DesiredRecords:
    """A feed's desired records (outputs of `to_xano_record`), read in two passes so any feed fits in flat memory.

    The diff needs only each job's key and version (`versions`, one streamed pass); the whole records are
    needed only for the jobs that are written, and `by_keys` builds them a batch at a time. `load(None)`
    yields every record, `load(keys)` those of the given keys (a key no longer desired is left out).
    `versions`, when given, yields each record's job_key, feed_id and two hashes without building it.
    """

    def __init__(self, load: Callable[[Sequence[str] | None], Iterable[Mapping[str, Any]]],
                 versions: Callable[[], Iterable[Mapping[str, Any]]] | None = None) -> None:
        self._load = load
        self._versions = versions

    @classmethod
    def of(cls, records: DesiredRecords | Iterable[Mapping[str, Any]]) -> DesiredRecords:
        """Records already in memory (tests, small callers), or a DesiredRecords as it is."""
        if isinstance(records, DesiredRecords):
            return records
        records = list(records)
        by_key: dict[Any, Mapping[str, Any]] = {}

        def load(keys: Sequence[str] | None) -> Iterable[Mapping[str, Any]]:
            if keys is None:
                return records
            if not by_key:
                by_key.update((r.get("job_key"), r) for r in records)
            return [by_key[key] for key in keys if key in by_key]

        return cls(load)

    def versions(self) -> Iterable[Mapping[str, Any]]:
        """What the diff reads of every desired record: its identity and hashes (a whole record serves too)."""
        return self._versions() if self._versions is not None else self._load(None)

    def by_keys(self, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The whole records of `keys` that are still desired, by job_key."""
        return {record["job_key"]: record for record in self._load(list(keys))} if keys else {}


@dataclass
class MirrorPlan:
    """The writes that turn the feed's Xano records into the desired set.

    `deletes`: records whose job is no longer approved (stale), every copy. `duplicates`: extra copies of
    a job that stays (always safe to remove). `adds`: job_keys to POST. `updates`: (Xano id, the stored
    record) of copies to PATCH; `changed_fields` makes the body from the desired record when it is written.
    `unchanged`: jobs already exact. `existing_count`: the feed's own records in Xano, copies included (the
    base of the delete share).
    """

    deletes: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    updates: list[tuple[int, dict]] = field(default_factory=list)
    unchanged: int = 0
    existing_count: int = 0
    desired_count: int = 0
    foreign_count: int = 0  # records of other feeds or without a job_key, left alone

    @property
    def write_count(self) -> int:
        return len(self.deletes) + len(self.duplicates) + len(self.adds) + len(self.updates)

    @property
    def delete_share(self) -> float:
        """Share of the feed's Xano records the stale deletes would remove."""
        return len(self.deletes) / self.existing_count if self.existing_count else 0.0


def index_desired(desired: Iterable[Mapping[str, Any]], feed_id: str) -> dict[str, str]:
    """Each desired record's `version` by job_key; a record of another feed or a repeated key is a caller bug.

    Only the versions are kept, so `desired` can stream a feed of any size.
    """
    by_key: dict[str, str] = {}
    for record in desired:
        key = record.get("job_key")
        if record.get("feed_id") != feed_id:
            raise ValueError(
                f"desired record {key!r} belongs to feed {record.get('feed_id')!r}, not {feed_id!r}; "
                "pass only this feed's approved jobs"
            )
        if not isinstance(key, str) or not key:
            raise ValueError(f"desired record of feed {feed_id!r} has no job_key: build it with to_xano_record")
        if "record_hash" not in record or "content_hash" not in record:
            raise ValueError(
                f"desired record {key!r} of feed {feed_id!r} lacks its hashes: build it with to_xano_record"
            )
        if key in by_key:
            raise ValueError(f"job_key {key!r} appears twice among feed {feed_id!r}'s desired records")
        by_key[key] = version(record)
    return by_key


# What identifies a desired record and its version: all the diff reads of it.
VERSION_FIELDS = ("job_key", "feed_id", "content_hash", "record_hash")
_COMPACT_FIELDS = ("id", *VERSION_FIELDS)


def group_owned(
    existing: Iterable[Mapping[str, Any]],
    feed_id: str,
    keep_whole: Callable[[Mapping[str, Any]], bool] | None = None,
) -> tuple[dict[str, list[dict]], int]:
    """This feed's Xano records grouped by job_key (copies in id order), and how many were someone else's.

    Only the identity and hash fields of a record are kept unless `keep_whole(record)` says otherwise,
    so `existing` can stream a whole table (every feed's records) page by page in flat memory.
    """
    owned: dict[str, list[dict]] = {}
    foreign = 0
    for record in existing:
        key = _owned_key(record, feed_id)
        if key is None:
            foreign += 1
            continue
        if keep_whole is not None and keep_whole(record):
            kept = dict(record)
        else:
            kept = {name: record.get(name) for name in _COMPACT_FIELDS}
        owned.setdefault(key, []).append(kept)
    for copies in owned.values():
        copies.sort(key=_record_id)
    return owned, foreign


def plan_mirror(
    existing: Iterable[Mapping[str, Any]], desired: Iterable[Mapping[str, Any]], feed_id: str
) -> MirrorPlan:
    """Diff Xano's records (all feeds) against this feed's desired records by job_key and hashes.

    Both are read once and may be generators (list pages; rows of the jobs table): only the desired
    versions, the compact identity of the feed's Xano records and the records to patch are held.

    Of several copies of one job the plan keeps an exact one when there is one, else the oldest, and
    deletes the rest; the kept copy is patched if it is out of date.
    """
    wanted = index_desired(desired, feed_id)

    def needs_patch(record: Mapping[str, Any]) -> bool:
        target = wanted.get(record["job_key"])
        return target is not None and version(record) != target

    owned, foreign = group_owned(existing, feed_id, keep_whole=needs_patch)
    plan = MirrorPlan(
        existing_count=sum(len(c) for c in owned.values()),
        desired_count=len(wanted),
        foreign_count=foreign,
    )
    for key, copies in owned.items():
        target = wanted.get(key)
        if target is None:
            plan.deletes.extend(copies)
            continue
        keep = next((c for c in copies if version(c) == target), copies[0])
        plan.duplicates.extend(c for c in copies if c is not keep)
        if version(keep) == target:
            plan.unchanged += 1
        else:
            plan.updates.append((_record_id(keep), keep))
    plan.adds.extend(key for key in wanted if key not in owned)
    return plan


def check_delete_safety(
    plan: MirrorPlan,
    existing_count: int | None = None,
    *,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
    min_mass_delete: int = DEFAULT_MIN_MASS_DELETE,
    ingest_complete: bool = True,
    allow_mass_delete: bool = False,
) -> str | None:
    """Why the plan's stale deletes must not run, or None when they may.

    The valve judges what would be lost. Blocked when:
    - the ingest was incomplete (a missing job may only be missing from a broken download);
    - a mass delete: more than `max_delete_share` of the feed's records in Xano AND more than
      `min_mass_delete` records (8 stale records of a copy of 12, replaced by 8 new jobs, are a correction);
    - the copy would shrink by more than `max_delete_share` once the adds land (a feed that collapsed to a
      few jobs), whatever the count. A first sync over a few stale records while the feed adds hundreds
      shrinks nothing and passes.
    `allow_mass_delete` lifts all three. Duplicate copies are never blocked: removing one loses no job.
    """
    if not 0.0 <= max_delete_share <= 1.0:
        raise ValueError(f"max_delete_share must be between 0 and 1, got {max_delete_share}")
    if isinstance(min_mass_delete, bool) or not isinstance(min_mass_delete, int) or min_mass_delete < 0:
        raise ValueError(f"min_mass_delete must be a record count >= 0, got {min_mass_delete!r}")
    if not plan.deletes or allow_mass_delete:
        return None
    base = plan.existing_count if existing_count is None else existing_count
    if not ingest_complete:
        return (
            f"the last ingest was incomplete, so {len(plan.deletes)} missing job(s) may only be missing from a "
            "broken download; deletes skipped. Rerun after a complete ingest, or allow mass delete to force it"
        )
    deletes = len(plan.deletes)
    share = deletes / base if base else 1.0
    advice = ("deletes skipped. Check the feed; if the drop is real, rerun with allow_mass_delete or a higher "
              "max_delete_share")
    if share > max_delete_share and deletes > min_mass_delete:
        return (
            f"deleting {deletes} of {base} record(s) ({share:.0%}) exceeds the allowed share "
            f"{max_delete_share:.0%} and the {min_mass_delete}-record floor; {advice}"
        )
    before = max(base - len(plan.duplicates), 0)  # distinct jobs in the copy; removing a copy loses nothing
    after = max(before - deletes, 0) + len(plan.adds)
    shrink = (before - after) / before if before else 0.0
    if shrink > max_delete_share:
        return (
            f"deleting {deletes} of {base} record(s) ({share:.0%}) would shrink the feed's copy from {before} to "
            f"{after} record(s) (-{shrink:.0%}), more than the allowed share {max_delete_share:.0%}; {advice}"
        )
    return None


def verify_mirror(
    existing: Iterable[Mapping[str, Any]], desired: Iterable[Mapping[str, Any]], feed_id: str
) -> list[str]:
    """Human-readable differences between Xano's records of the feed and the desired set; [] = exact copy.

    Compares keys, copies and both hashes. One line per difference, so the list can be long; callers
    show the first few and the count.
    """
    wanted = index_desired(desired, feed_id)
    owned, _ = group_owned(existing, feed_id)
    problems: list[str] = []
    for key, target in wanted.items():
        copies = owned.get(key)
        if not copies:
            problems.append(f"missing in Xano: job_key {key}")
            continue
        if len(copies) > 1:
            ids = ", ".join(str(c.get("id")) for c in copies)
            problems.append(f"job_key {key} has {len(copies)} copies in Xano (ids {ids})")
        content_hash, record_hash = target.split(":", 1)
        for copy in copies:
            if copy.get("content_hash") != content_hash:
                problems.append(
                    f"job_key {key} (id {copy.get('id')}): content_hash {copy.get('content_hash')!r} "
                    f"!= {content_hash!r}"
                )
            elif copy.get("record_hash") != record_hash:
                problems.append(
                    f"job_key {key} (id {copy.get('id')}): record_hash {copy.get('record_hash')!r} "
                    f"!= {record_hash!r}"
                )
    for key, copies in owned.items():
        if key not in wanted:
            ids = ", ".join(str(c.get("id")) for c in copies)
            problems.append(f"stale in Xano (not approved): job_key {key} (ids {ids})")
    return problems
