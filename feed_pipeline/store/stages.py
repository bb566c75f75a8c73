"""Reads and writes of the per-stage tables. Each partition write replaces that feed's rows in one transaction."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.coverage import coverage_mask
from feed_pipeline.core.dedupe import DedupeStats, block_fingerprint
from feed_pipeline.core.identity import digest
from feed_pipeline.core.jobs import JobRecord, RejectionReason, UnchangedPosting
from feed_pipeline.core.redact import redact_text
from feed_pipeline.core.stage1_sources import EnrichmentSource
from feed_pipeline.store.rows import batched, job_to_row, row_to_job, stream_groups, upsert_rows, utcnow
from feed_pipeline.store.schema import dedupe_blocks, deduped_jobs, enrichments, ingests, raw_jobs

WRITE_BATCH = 1000


# --- raw_jobs -------------------------------------------------------------------------------------------------


def _hashed_columns(table: sa.Table, *volatile: str) -> tuple[str, ...]:
    """Every stored value of a stage row but the digest (`row_hash`) and `volatile` ones: what the digest covers."""
    return tuple(c.name for c in table.columns if c.name not in ("row_hash", *volatile))


# The read's own bookkeeping is not the posting: a record re-sent with other bytes but the same values keeps its
# digest, so pass 1 does not cluster its block again.
_RAW_HASHED = _hashed_columns(raw_jobs, "ingested_at", "source_digest", "coverage_mask")
_DEDUPED_HASHED = _hashed_columns(deduped_jobs, "run_id")


def _with_row_hash(row: dict[str, Any], columns: tuple[str, ...], into: str = "row_hash") -> dict[str, Any]:
    row[into] = digest(*(repr(row[name]) for name in columns))
    return row


def raw_row(job: JobRecord, ingested_at: datetime) -> dict[str, Any]:
    """The raw_jobs row of `job`, with the digest of its values (`row_hash`)."""
    row = job_to_row(job)
    row.update(rejection_reason=job.rejection_reason, rejection_detail=job.rejection_detail, ingested_at=ingested_at,
               source_digest=job.source_digest, coverage_mask=coverage_mask(job))
    return _with_row_hash(row, _RAW_HASHED)


def deduped_row(job: JobRecord, run_id: str) -> dict[str, Any]:
    """The deduped_jobs row of `job`, with the digest of its values (`row_hash`)."""
    return _with_row_hash(dict(job_to_row(job), run_id=run_id), _DEDUPED_HASHED)


class RereadNeeded(Exception):
    """A record skipped as unchanged has a posting id an earlier record of the same read rewrote: the stored row
    is gone, so the feed must be read again without skipping (`replace_raw_jobs` rolled back)."""


def known_raw_postings(engine: sa.Engine, feed_id: str, now: datetime) -> dict[str, UnchangedPosting]:
    """source digest -> the stored posting, for the records a reader may skip as unchanged: every stored posting
    with a digest, except one that would be judged differently now (an expiry passed since it was stored)."""
    c = raw_jobs.c
    decided = sa.or_(c.expires_at.is_(None), c.expires_at >= now,
                     c.rejection_reason.in_([RejectionReason.CLOSED.value, RejectionReason.EXPIRED.value]))
    stmt = (sa.select(c.source_digest, c.job_key, c.rejection_reason, c.coverage_mask)
            .where(c.feed_id == feed_id, c.source_digest.is_not(None), decided))
    with engine.connect() as conn:
        return {d: UnchangedPosting(key, reason, mask) for d, key, reason, mask in conn.execute(stmt)}


def replace_raw_jobs(
    engine: sa.Engine,
    feed_id: str,
    jobs: Iterable[JobRecord | UnchangedPosting],
) -> RawWrite:
    """Make the feed's raw postings `jobs`, streamed in batches, in one transaction.

    A posting whose stored values are the same (its `row_hash`) is not rewritten, and keeps when it was first stored
    with those values; an UnchangedPosting keeps its row as it is; a posting no longer in the feed is deleted. A
    posting id seen twice in one document keeps its last occurrence (feeds do repeat records). Raises RereadNeeded
    (nothing written) when an UnchangedPosting follows a rewrite of its own id.
    """
    now = utcnow()
    result = RawWrite()
    with engine.begin() as conn:
        held = {key: (row_hash, source) for key, row_hash, source in conn.execute(  # what the table holds
            sa.select(raw_jobs.c.job_key, raw_jobs.c.row_hash, raw_jobs.c.source_digest)
            .where(raw_jobs.c.feed_id == feed_id))}
        unseen = set(held)
        rewritten: set[str] = set()
        for batch in batched(jobs, WRITE_BATCH):
            rows = {}
            for job in batch:
                unseen.discard(job.job_key)
                if isinstance(job, UnchangedPosting):
                    if job.job_key in rewritten or job.job_key in rows:
                        raise RereadNeeded(f"feed {feed_id!r}: posting {job.job_key} repeats in the document")
                    result.kept_unread += 1
                    continue
                row = raw_row(job, now)
                if held.get(job.job_key) != (row["row_hash"], row["source_digest"]):
                    rows[job.job_key] = row
                    if job.job_key in held:  # a repeat later in the document compares with this occurrence
                        held[job.job_key] = (row["row_hash"], row["source_digest"])
            if rows:
                upsert_rows(conn, raw_jobs, list(rows.values()), ("feed_id", "job_key"),
                            [c for c in next(iter(rows.values())) if c not in ("feed_id", "job_key")])
                result.written += len(rows)
                rewritten.update(rows)
        for keys in batched(sorted(unseen), WRITE_BATCH):
            conn.execute(raw_jobs.delete().where(raw_jobs.c.feed_id == feed_id, raw_jobs.c.job_key.in_(keys)))
    return result


@dataclass
class RawWrite:
    """What `replace_raw_jobs` did: postings written, and postings kept without being read again."""

    written: int = 0
    kept_unread: int = 0


def raw_counts(engine: sa.Engine, feed_id: str) -> dict[str, int]:
    """Postings of the last ingest by rejection reason ("accepted" for the ones kept)."""
    reason = sa.func.coalesce(raw_jobs.c.rejection_reason, "accepted")
    stmt = sa.select(reason, sa.func.count()).where(raw_jobs.c.feed_id == feed_id).group_by(reason)
    with engine.connect() as conn:
        return {r: n for r, n in conn.execute(stmt)}


@dataclass(frozen=True)
class RawBlock:
    """One block of accepted raw postings: its key, how many postings, and the fingerprint of what pass 1 reads
    from them. Its rows are read only when the block is clustered again (`raw_block_jobs`)."""

    key: str
    fingerprint: str
    size: int


def iter_raw_blocks(engine: sa.Engine, feed_id: str, salt: str = "") -> Iterator[RawBlock]:
    """The feed's blocks of accepted raw postings, one at a time, fingerprinted from their postings' digests with
    `salt` (the pass 1 settings). Reads only keys and digests."""
    stmt = (
        sa.select(raw_jobs.c.block_key, raw_jobs.c.job_key, raw_jobs.c.row_hash)
        .where(raw_jobs.c.feed_id == feed_id, raw_jobs.c.rejection_reason.is_(None))
        .order_by(raw_jobs.c.block_key, raw_jobs.c.job_key)
    )
    for rows in stream_groups(engine, stmt, "block_key"):
        fingerprint = block_fingerprint(((r["job_key"], r["row_hash"]) for r in rows), salt)
        yield RawBlock(rows[0]["block_key"], fingerprint, len(rows))


def raw_block_jobs(conn: sa.Connection, feed_id: str, block_keys: Iterable[str]) -> dict[str, list[JobRecord]]:
    """The accepted raw postings of these blocks (one query), by block key, each block in job key order."""
    stmt = (
        sa.select(raw_jobs)
        .where(raw_jobs.c.feed_id == feed_id, raw_jobs.c.rejection_reason.is_(None),
               raw_jobs.c.block_key.in_(list(block_keys)))
        .order_by(raw_jobs.c.block_key, raw_jobs.c.job_key)
    )
    by_block: dict[str, list[JobRecord]] = {}
    for row in conn.execute(stmt).mappings():
        by_block.setdefault(row["block_key"], []).append(row_to_job(row))
    return by_block


def iter_rejected_raw(engine: sa.Engine, feed_id: str) -> Iterator[JobRecord]:
    stmt = (
        sa.select(raw_jobs)
        .where(raw_jobs.c.feed_id == feed_id, raw_jobs.c.rejection_reason.is_not(None))
        .order_by(raw_jobs.c.job_key)
    )
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=WRITE_BATCH).execute(stmt).mappings():
            yield row_to_job(row)


# --- ingests --------------------------------------------------------------------------------------------------


def record_ingest(
    engine: sa.Engine, feed_id: str, run_id: str, *, started_at, complete: bool, unchanged: bool,
    error: str | None, stats: Mapping[str, Any],
) -> None:
    row = {"feed_id": feed_id, "run_id": run_id, "started_at": started_at, "finished_at": utcnow(),
           "complete": complete, "unchanged": unchanged, "error": redact_text(error) if error else error,
           "stats": dict(stats)}
    with engine.begin() as conn:
        upsert_rows(conn, ingests, [row], ("feed_id", "run_id"),
                    ["finished_at", "complete", "unchanged", "error", "stats"])


def latest_ingest(engine: sa.Engine, feed_id: str) -> dict[str, Any] | None:
    """The newest ingest of the feed that actually read data (an unchanged fetch keeps the previous one's status)."""
    stmt = (
        sa.select(ingests)
        .where(ingests.c.feed_id == feed_id, ingests.c.unchanged.is_(False))
        .order_by(ingests.c.started_at.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def ingest_of_run(engine: sa.Engine, feed_id: str, run_id: str) -> dict[str, Any] | None:
    """The ingest row this run recorded for the feed, if any."""
    stmt = sa.select(ingests).where(ingests.c.feed_id == feed_id, ingests.c.run_id == run_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def previous_ingest_with(engine: sa.Engine, feed_id: str, run_id: str, stat: str,
                         lookback: int = 10) -> dict[str, Any] | None:
    """The newest ingest of the feed before this run's that read data and recorded `stat` in its stats.

    The comparison base for this run's figures (an unchanged fetch or a failed read records none of them).
    A run without an ingest row compares with the newest one.
    """
    mine = sa.select(ingests.c.started_at).where(ingests.c.feed_id == feed_id,
                                                 ingests.c.run_id == run_id).scalar_subquery()
    stmt = (
        sa.select(ingests)
        .where(ingests.c.feed_id == feed_id, ingests.c.unchanged.is_(False), ingests.c.run_id != run_id,
               sa.or_(mine.is_(None), ingests.c.started_at < mine))
        .order_by(ingests.c.started_at.desc())
        .limit(lookback)
    )
    with engine.connect() as conn:
        for row in conn.execute(stmt).mappings():
            if stat in (row["stats"] or {}):
                return dict(row)
    return None


def last_ingest_complete(engine: sa.Engine, feed_id: str) -> bool:
    """Whether the data downstream stages see came from a complete document; no ingest yet counts as incomplete."""
    row = latest_ingest(engine, feed_id)
    return bool(row and row["complete"])


# --- deduped_jobs ---------------------------------------------------------------------------------------------


def held_deduped(conn: sa.Connection, feed_id: str, block_keys: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The last pass 1 output of these blocks, read once: (merged key -> row digest, member raw key -> merged key;
    the second keeps merged keys stable)."""
    keys = list(block_keys)
    if not keys:
        return {}, {}
    stmt = sa.select(deduped_jobs.c.job_key, deduped_jobs.c.row_hash, deduped_jobs.c.member_keys).where(
        deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.block_key.in_(keys)
    )
    hashes: dict[str, str] = {}
    previous: dict[str, str] = {}
    for merged_key, row_hash, members in conn.execute(stmt):
        hashes[merged_key] = row_hash
        for member in members or []:
            previous[member] = merged_key
    return hashes, previous


def replace_deduped_blocks(
    engine: sa.Engine, feed_id: str, run_id: str, blocks: Iterable[RawBlock],
    merge: Callable[[list[JobRecord], Mapping[str, str]], tuple[list[JobRecord], DedupeStats]],
    chunk_jobs: int = 2000,
) -> Iterator[DedupeStats]:
    """Bring the feed's pass 1 output up to date with `blocks`, chunk by chunk, in one transaction.

    A block whose fingerprint is the one its output was made from keeps that output (its rows move to this run);
    every other block goes through `merge` (its jobs, the previous merged keys -> merged jobs and the block's
    figures) and its rows are rewritten. Yields each block's figures. Rows and fingerprints of blocks that
    vanished are deleted at the end.
    """
    with engine.begin() as conn:
        known = {key: (fingerprint, figures) for key, fingerprint, figures in conn.execute(
            sa.select(dedupe_blocks.c.block_key, dedupe_blocks.c.fingerprint, dedupe_blocks.c.figures)
            .where(dedupe_blocks.c.feed_id == feed_id))}

        def unchanged(block: RawBlock) -> bool:
            return block.key in known and known[block.key][0] == block.fingerprint

        pending: list[RawBlock] = []
        pending_jobs = 0

        def flush() -> Iterator[DedupeStats]:
            kept: list[RawBlock] = []
            changed: list[RawBlock] = []
            for block in pending:
                (kept if unchanged(block) else changed).append(block)
            if kept:
                conn.execute(deduped_jobs.update().where(
                    deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.block_key.in_([b.key for b in kept])
                ).values(run_id=run_id))
                yield from (DedupeStats.reused(known[b.key][1]) for b in kept)
            if not changed:
                return
            block_keys = {b.key for b in changed}
            held, previous = held_deduped(conn, feed_id, block_keys)
            postings = raw_block_jobs(conn, feed_id, block_keys)
            merged: list[JobRecord] = []
            figures: list[dict[str, Any]] = []
            for block in changed:
                jobs, stats = merge(postings[block.key], previous)
                merged.extend(jobs)
                figures.append({"feed_id": feed_id, "block_key": block.key, "fingerprint": block.fingerprint,
                                "figures": stats.figures()})
                yield stats
            # Only the rows that differ are rewritten: a block clustered again mostly gives back the jobs it had.
            rows = [deduped_row(j, run_id) for j in merged]
            fresh = [r for r in rows if held.get(r["job_key"]) != r["row_hash"]]
            same = {r["job_key"] for r in rows} - {r["job_key"] for r in fresh}
            # Cleared: the blocks' rows that are not kept, and each fresh row's key wherever it is (a merged key moves
            # between blocks when a posting's title or company changes). By key, on its index: an OR with the block
            # would scan every row of the feed.
            stale = [k for k in held if k not in same] + [r["job_key"] for r in fresh if r["job_key"] not in held]
            for keys in batched(stale, WRITE_BATCH):
                conn.execute(deduped_jobs.delete().where(deduped_jobs.c.feed_id == feed_id,
                                                         deduped_jobs.c.job_key.in_(keys)))
            for batch in batched(fresh, WRITE_BATCH):
                conn.execute(deduped_jobs.insert(), batch)
            for keys in batched(sorted(same), WRITE_BATCH):
                conn.execute(deduped_jobs.update().where(deduped_jobs.c.feed_id == feed_id,
                                                         deduped_jobs.c.job_key.in_(keys)).values(run_id=run_id))
            upsert_rows(conn, dedupe_blocks, figures, ("feed_id", "block_key"), ["fingerprint", "figures"])

        for block in blocks:
            pending.append(block)
            pending_jobs += block.size
            if pending_jobs >= chunk_jobs:
                yield from flush()
                pending, pending_jobs = [], 0
        if pending:
            yield from flush()
        conn.execute(deduped_jobs.delete().where(deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.run_id != run_id))
        current = sa.select(deduped_jobs.c.block_key).where(deduped_jobs.c.feed_id == feed_id).distinct()
        conn.execute(dedupe_blocks.delete().where(dedupe_blocks.c.feed_id == feed_id,
                                                  dedupe_blocks.c.block_key.not_in(current)))


def iter_deduped(engine: sa.Engine, feed_id: str, chunk: int = WRITE_BATCH,
                 job_keys: Iterable[str] | None = None) -> Iterator[list[tuple[JobRecord, str | None]]]:
    """The feed's deduped jobs (or those of `job_keys`), each with its row digest, `chunk` at a time in key order."""
    if job_keys is not None:
        for keys in batched(sorted(job_keys), chunk):
            with engine.connect() as conn:
                rows = conn.execute(sa.select(deduped_jobs).where(
                    deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.job_key.in_(keys))
                    .order_by(deduped_jobs.c.job_key)).mappings().all()
            yield [(row_to_job(r), r["row_hash"]) for r in rows]
        return
    stmt = sa.select(deduped_jobs).where(deduped_jobs.c.feed_id == feed_id).order_by(deduped_jobs.c.job_key)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).mappings()
        for rows in result.partitions(chunk):
            yield [(row_to_job(r), r["row_hash"]) for r in rows]


def deduped_row_hashes(engine: sa.Engine, feed_id: str) -> dict[str, str | None]:
    """Deduped job key -> row digest, for the whole feed (two short columns, no job rebuilt)."""
    stmt = sa.select(deduped_jobs.c.job_key, deduped_jobs.c.row_hash).where(deduped_jobs.c.feed_id == feed_id)
    with engine.connect() as conn:
        return dict(conn.execute(stmt).all())


def iter_deduped_keys(engine: sa.Engine, feed_id: str, chunk: int = WRITE_BATCH) -> Iterator[list[str]]:
    """The feed's deduped job keys, in key order, a chunk at a time (cheap: no job is rebuilt)."""
    stmt = sa.select(deduped_jobs.c.job_key).where(deduped_jobs.c.feed_id == feed_id).order_by(deduped_jobs.c.job_key)
    with engine.connect() as conn:
        for rows in conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).partitions(chunk):
            yield [key for (key,) in rows]


def deduped_titles_and_texts(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(title, description) of these deduped jobs: what stage 2 reads of a posting, without rebuilding the job."""
    stmt = sa.select(deduped_jobs.c.job_key, deduped_jobs.c.title, deduped_jobs.c.description).where(
        deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.job_key.in_(list(job_keys)))
    return {key: (title or "", description or "") for key, title, description in conn.execute(stmt)}


def get_deduped(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> dict[str, JobRecord]:
    stmt = sa.select(deduped_jobs).where(deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.job_key.in_(list(job_keys)))
    return {r["job_key"]: row_to_job(r) for r in conn.execute(stmt).mappings()}


# --- enrichments ----------------------------------------------------------------------------------------------

ENRICHMENT_DEFAULTS = {"skills": [], "tech_stack": [], "merged_keys": [], "locations": []}
# What stage 1 and pass 2 write of a row (stage 2 fills the function columns later): what `answer_hash` covers.
_ANSWER_HASHED = _hashed_columns(enrichments, "answer_hash", "updated_at")


def reset_enrichments(conn: sa.Connection, feed_id: str) -> None:
    conn.execute(enrichments.delete().where(enrichments.c.feed_id == feed_id))


def write_enrichments(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert enrichment rows (all columns given); used as each AI batch arrives."""
    if not rows:
        return
    now = utcnow()
    full = [dict(ENRICHMENT_DEFAULTS, **row) for row in rows]
    columns = [c.name for c in enrichments.columns if c.name not in ("feed_id", "job_key")]
    for row in full:
        for c in columns:
            row.setdefault(c, None)
        _with_row_hash(row, _ANSWER_HASHED, into="answer_hash")
        row["updated_at"] = now
    upsert_rows(conn, enrichments, full, ("feed_id", "job_key"), columns)


def update_enrichments(conn: sa.Connection, feed_id: str, updates: list[dict[str, Any]]) -> None:
    """Set some columns on existing rows, each dict naming its `job_key`.

    Updates that set the same columns go as one statement executed for all of them (executemany), not one
    round trip per job.
    """
    now = utcnow()
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for update in updates:
        columns = tuple(sorted(k for k in update if k != "job_key"))
        by_columns.setdefault(columns, []).append(update)
    for columns, group in by_columns.items():
        stmt = (
            enrichments.update()
            .where(enrichments.c.feed_id == sa.bindparam("_feed_id"),
                   enrichments.c.job_key == sa.bindparam("_job_key"))
            .values({**{c: sa.bindparam(f"_set_{c}") for c in columns}, "updated_at": now})
        )
        conn.execute(stmt, [
            {"_feed_id": feed_id, "_job_key": u["job_key"], **{f"_set_{c}": u[c] for c in columns}} for u in group
        ])


def delete_enrichments(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> None:
    for keys in batched(job_keys, WRITE_BATCH):
        conn.execute(enrichments.delete().where(enrichments.c.feed_id == feed_id, enrichments.c.job_key.in_(keys)))


# Stage 2's answer in a row (stage 2 updates them after `answer_hash` was taken).
STAGE2_COLUMNS = ("function_status", "job_function", "function_confidence", "function_error")


def iter_enrichment_answers(engine: sa.Engine, feed_id: str, chunk: int = WRITE_BATCH) -> Iterator[list[sa.RowMapping]]:
    """The feed's enrichment rows in key order, `chunk` at a time, with only what says whether a job's route can
    have changed: key, merged keys, `answer_hash` and stage 2's answer."""
    stmt = (sa.select(enrichments.c.job_key, enrichments.c.merged_keys, enrichments.c.answer_hash,
                      *(enrichments.c[c] for c in STAGE2_COLUMNS))
            .where(enrichments.c.feed_id == feed_id).order_by(enrichments.c.job_key))
    with engine.connect() as conn:
        yield from conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).mappings().partitions(
            chunk)


def get_enrichments(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> dict[str, sa.RowMapping]:
    stmt = sa.select(enrichments).where(enrichments.c.feed_id == feed_id, enrichments.c.job_key.in_(list(job_keys)))
    return {r["job_key"]: r for r in conn.execute(stmt).mappings()}


def iter_enrichment_sources(engine: sa.Engine, feed_id: str) -> Iterator[EnrichmentSource]:
    """What each enrichment row of the feed was made from (`core.stage1_sources`)."""
    stmt = sa.select(enrichments.c.job_key, enrichments.c.merged_keys, enrichments.c.ai_block_key,
                     enrichments.c.status, enrichments.c.source_hash).where(enrichments.c.feed_id == feed_id)
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=WRITE_BATCH).execute(stmt):
            yield EnrichmentSource(*row)


def take_enrichment_blocks(conn: sa.Connection, feed_id: str, blocks: Iterable[str],
                           keep: set[str]) -> tuple[int, set[str]]:
    """Delete the merged rows of these pass 2 groups but those in `keep`; returns (rows deleted, the deduped jobs
    they stood for). A row pass 2 left alone is already its job's own stage 1 answer: it stays, and pass 2 merges
    the group again from it."""
    members: set[str] = set()
    deleted = 0
    for chunk in batched(sorted(blocks), WRITE_BATCH):
        stmt = sa.select(enrichments.c.job_key, enrichments.c.merged_keys).where(
            enrichments.c.feed_id == feed_id, enrichments.c.ai_block_key.in_(chunk))
        taken = [(key, merged) for key, merged in conn.execute(stmt) if len(merged or ()) > 1 and key not in keep]
        delete_enrichments(conn, feed_id, [key for key, _ in taken])
        deleted += len(taken)
        for key, merged in taken:
            members.update(merged or [key])
    return deleted, members


def pass2_totals(engine: sa.Engine, feed_id: str) -> tuple[dict[str, int], int, int]:
    """(stage 1 status counts over the deduped jobs, a merged job counted once per job it merged; jobs pass 2
    merged away; jobs pass 2 made from two or more), read from the table, so a run that redid only part of the
    feed reports the whole feed."""
    stmt = sa.select(enrichments.c.status, enrichments.c.merged_keys).where(enrichments.c.feed_id == feed_id)
    before: dict[str, int] = {}
    merged_away = groups = 0
    with engine.connect() as conn:
        for status, merged in conn.execution_options(stream_results=True, yield_per=WRITE_BATCH).execute(stmt):
            size = max(1, len(merged or ()))
            key = f"{status}/{'skipped' if status == 'archived' else '-'}"
            before[key] = before.get(key, 0) + size
            if size > 1:
                merged_away += size - 1
                groups += 1
    return before, merged_away, groups


def iter_enrichment_groups(
    engine: sa.Engine, feed_id: str, key: str, where=None, max_group: int | None = None
) -> Iterator[list[sa.RowMapping]]:
    """Enrichment rows grouped by `key` (e.g. ai_block_key, industry), one group at a time."""
    column = enrichments.c[key]
    stmt = sa.select(enrichments).where(enrichments.c.feed_id == feed_id)
    if where is not None:
        stmt = stmt.where(where)
    stmt = stmt.order_by(column, enrichments.c.job_key)
    yield from stream_groups(engine, stmt, key, max_group=max_group)


def enrichment_industries(engine: sa.Engine, feed_id: str) -> dict[str, int]:
    """Industry -> jobs stage 1 kept for stage 2 (status ok), in industry order."""
    stmt = (sa.select(enrichments.c.industry, sa.func.count())
            .where(enrichments.c.feed_id == feed_id, enrichments.c.status == "ok")
            .group_by(enrichments.c.industry).order_by(enrichments.c.industry))
    with engine.connect() as conn:
        return dict(conn.execute(stmt).all())


def enrichment_summary(engine: sa.Engine, feed_id: str) -> dict[str, Any]:
    stmt = (
        sa.select(enrichments.c.status, enrichments.c.function_status, sa.func.count())
        .where(enrichments.c.feed_id == feed_id)
        .group_by(enrichments.c.status, enrichments.c.function_status)
    )
    with engine.connect() as conn:
        return {f"{s}/{fs or '-'}": n for s, fs, n in conn.execute(stmt)}
