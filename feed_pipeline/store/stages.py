"""Reads and writes of the per-stage tables. Each partition write replaces that feed's rows in one transaction."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.redact import redact_text
from feed_pipeline.store.rows import batched, job_to_row, row_to_job, stream_groups, upsert_rows, utcnow
from feed_pipeline.store.schema import deduped_jobs, enrichments, ingests, raw_jobs

WRITE_BATCH = 1000


# --- raw_jobs -------------------------------------------------------------------------------------------------


def replace_raw_jobs(
    engine: sa.Engine,
    feed_id: str,
    jobs: Iterable[JobRecord],
    *,
    writer_process: bool | None = None,
) -> int:
    """Replace the feed's raw postings with `jobs`, streamed in batches; returns how many were written.

    A posting id seen twice in one document keeps its last occurrence (feeds do repeat records).

    A large feed is written by a child process (`writer_process`: None decides by size, see
    WRITER_PROCESS_MIN_ROWS), so the feed is parsed on one core while its rows are written on the other:
    the write is a third of the stage and SQLAlchemy's row handling holds the GIL, so a thread would not
    overlap. Either way the rows go in one transaction, rolled back whole if the feed or the write fails.
    """
    now = utcnow()
    batches = (_raw_rows(batch, now) for batch in batched(jobs, WRITE_BATCH))
    if writer_process is None:
        writer_process = _separate_process_possible(engine)
    if writer_process:
        head: list[list[dict]] = []
        for rows in batches:
            head.append(rows)
            if len(head) * WRITE_BATCH >= WRITER_PROCESS_MIN_ROWS:
                return _write_in_child(engine, feed_id, chain(head, batches))
    else:
        head = []
    written = 0
    with engine.begin() as conn:
        conn.execute(raw_jobs.delete().where(raw_jobs.c.feed_id == feed_id))
        for rows in chain(head, batches):
            _upsert_raw(conn, rows)
            written += len(rows)
    return written


# A feed this large is written by a child process: below it, starting one (about half a second of imports)
# costs more than the overlap saves.
WRITER_PROCESS_MIN_ROWS = 5 * WRITE_BATCH
_RAW_KEYS = ("feed_id", "job_key")


def _raw_rows(batch: list[JobRecord], now) -> list[dict]:
    rows = {}
    for job in batch:
        row = job_to_row(job)
        row["rejection_reason"] = job.rejection_reason
        row["rejection_detail"] = job.rejection_detail
        row["ingested_at"] = now
        rows[job.job_key] = row  # the last occurrence of a repeated posting wins
    return list(rows.values())


def _upsert_raw(conn: sa.Connection, rows: list[dict]) -> None:
    upsert_rows(conn, raw_jobs, rows, _RAW_KEYS, [c for c in rows[0] if c not in _RAW_KEYS])


def _separate_process_possible(engine: sa.Engine) -> bool:
    """A child can open its own connection to the same database: not for an in-memory SQLite database."""
    return engine.dialect.name == "postgresql" or engine.url.database not in (None, "", ":memory:")


def _write_in_child(engine: sa.Engine, feed_id: str, batches: Iterator[list[dict]]) -> int:
    """Pipe the row batches to a `python -m feed_pipeline.store.raw_writer` process and wait for its commit.

    A new interpreter rather than multiprocessing: nothing of the parent (its `__main__`, its threads) is
    re-imported or forked. The pipe's buffer bounds what is in flight, so memory stays flat. Closing the pipe
    without the commit message (the feed failed here) makes the child roll back.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH")))))
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child can never block on it
        child = subprocess.Popen([sys.executable, "-m", "feed_pipeline.store.raw_writer"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=errors, env=env)
        written = 0
        try:
            try:
                pickle.dump((engine.url.render_as_string(hide_password=False), feed_id), child.stdin)
                for rows in batches:
                    pickle.dump(("rows", rows), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    written += len(rows)
                pickle.dump(("commit", written), child.stdin)
            except BrokenPipeError:
                pass  # the child stopped: its error is read below
            out, _ = child.communicate()  # closes stdin, waits for the commit
        except BaseException:
            child.kill()  # never half a write: the child's transaction is rolled back with it
            child.wait()
            raise
        if child.returncode != 0 or out.strip() != str(written).encode():
            errors.seek(0)
            lines = errors.read().decode("utf-8", "replace").strip().splitlines()
            detail = lines[-1] if lines else f"exit code {child.returncode}"
            raise RuntimeError(f"writing raw_jobs for feed {feed_id!r} failed in the writer process: "
                               f"{redact_text(detail)}")
    return written


def write_raw_from_pipe(stdin, stdout) -> None:
    """The writer process's side (feed_pipeline.store.raw_writer): one transaction, the feed's rows deleted,
    every batch upserted, COMMIT only once the parent says all rows were sent; prints how many were written."""
    from feed_pipeline.store.db import make_engine

    url, feed_id = pickle.load(stdin)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(raw_jobs.delete().where(raw_jobs.c.feed_id == feed_id))
            while True:
                kind, payload = pickle.load(stdin)  # EOFError when the parent stopped: rolled back
                if kind == "commit":
                    break
                _upsert_raw(conn, payload)
        stdout.write(f"{payload}".encode())
        stdout.flush()
    finally:
        engine.dispose()


def raw_counts(engine: sa.Engine, feed_id: str) -> dict[str, int]:
    """Postings of the last ingest by rejection reason ("accepted" for the ones kept)."""
    reason = sa.func.coalesce(raw_jobs.c.rejection_reason, "accepted")
    stmt = sa.select(reason, sa.func.count()).where(raw_jobs.c.feed_id == feed_id).group_by(reason)
    with engine.connect() as conn:
        return {r: n for r, n in conn.execute(stmt)}


def iter_raw_blocks(engine: sa.Engine, feed_id: str) -> Iterator[list[JobRecord]]:
    """Accepted raw postings grouped by block key, one block at a time."""
    stmt = (
        sa.select(raw_jobs)
        .where(raw_jobs.c.feed_id == feed_id, raw_jobs.c.rejection_reason.is_(None))
        .order_by(raw_jobs.c.block_key, raw_jobs.c.job_key)
    )
    for rows in stream_groups(engine, stmt, "block_key"):
        yield [row_to_job(r) for r in rows]


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


def previous_merged_keys(conn: sa.Connection, feed_id: str, block_keys: Iterable[str]) -> dict[str, str]:
    """member raw key -> merged key, from the last pass 1 output of these blocks (keeps merged keys stable)."""
    keys = list(block_keys)
    if not keys:
        return {}
    stmt = sa.select(deduped_jobs.c.job_key, deduped_jobs.c.member_keys).where(
        deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.block_key.in_(keys)
    )
    mapping: dict[str, str] = {}
    for merged_key, members in conn.execute(stmt):
        for member in members or []:
            mapping[member] = merged_key
    return mapping


def replace_deduped_blocks(
    engine: sa.Engine, feed_id: str, run_id: str, blocks: Iterable[list[JobRecord]],
    merge: Callable[[list[JobRecord], Mapping[str, str]], list[JobRecord]], chunk_jobs: int = 2000,
) -> Iterator[list[JobRecord]]:
    """Run `merge` over the blocks and replace the feed's pass 1 output, chunk by chunk, in one transaction.

    Yields each chunk's merged jobs (for statistics). Rows of blocks that vanished are deleted at the end.
    """
    with engine.begin() as conn:
        pending: list[list[JobRecord]] = []
        pending_jobs = 0

        def flush() -> list[JobRecord]:
            block_keys = {b[0].block_key for b in pending}
            previous = previous_merged_keys(conn, feed_id, block_keys)
            merged: list[JobRecord] = []
            for block in pending:
                merged.extend(merge(block, previous))
            # A merged key can move between blocks when a posting's title or company changes: clear it too.
            stale = sa.or_(deduped_jobs.c.block_key.in_(block_keys),
                           deduped_jobs.c.job_key.in_([j.job_key for j in merged]))
            conn.execute(deduped_jobs.delete().where(deduped_jobs.c.feed_id == feed_id, stale))
            for batch in batched(merged, WRITE_BATCH):
                conn.execute(deduped_jobs.insert(), [dict(job_to_row(j), run_id=run_id) for j in batch])
            return merged

        for block in blocks:
            pending.append(block)
            pending_jobs += len(block)
            if pending_jobs >= chunk_jobs:
                yield flush()
                pending, pending_jobs = [], 0
        if pending:
            yield flush()
        conn.execute(deduped_jobs.delete().where(deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.run_id != run_id))


def iter_deduped(engine: sa.Engine, feed_id: str, chunk: int = WRITE_BATCH) -> Iterator[list[JobRecord]]:
    stmt = sa.select(deduped_jobs).where(deduped_jobs.c.feed_id == feed_id).order_by(deduped_jobs.c.job_key)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).mappings()
        for rows in result.partitions(chunk):
            yield [row_to_job(r) for r in rows]


def get_deduped(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> dict[str, JobRecord]:
    stmt = sa.select(deduped_jobs).where(deduped_jobs.c.feed_id == feed_id, deduped_jobs.c.job_key.in_(list(job_keys)))
    return {r["job_key"]: row_to_job(r) for r in conn.execute(stmt).mappings()}


# --- enrichments ----------------------------------------------------------------------------------------------

ENRICHMENT_DEFAULTS = {"skills": [], "tech_stack": [], "merged_keys": [], "locations": []}


def reset_enrichments(conn: sa.Connection, feed_id: str) -> None:
    conn.execute(enrichments.delete().where(enrichments.c.feed_id == feed_id))


def write_enrichments(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert enrichment rows (all columns given); used as each AI batch arrives."""
    if not rows:
        return
    now = utcnow()
    full = [dict(ENRICHMENT_DEFAULTS, **row, updated_at=now) for row in rows]
    columns = [c.name for c in enrichments.columns if c.name not in ("feed_id", "job_key")]
    for row in full:
        for c in columns:
            row.setdefault(c, None)
    upsert_rows(conn, enrichments, full, ("feed_id", "job_key"), columns)


def update_enrichments(conn: sa.Connection, feed_id: str, updates: list[dict[str, Any]]) -> None:
    """Set some columns on existing rows, each dict naming its `job_key`."""
    now = utcnow()
    for update in updates:
        values = {k: v for k, v in update.items() if k != "job_key"}
        conn.execute(
            enrichments.update()
            .where(enrichments.c.feed_id == feed_id, enrichments.c.job_key == update["job_key"])
            .values(**values, updated_at=now)
        )


def delete_enrichments(conn: sa.Connection, feed_id: str, job_keys: Iterable[str]) -> None:
    keys = list(job_keys)
    if keys:
        conn.execute(enrichments.delete().where(enrichments.c.feed_id == feed_id, enrichments.c.job_key.in_(keys)))


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


def enrichment_summary(engine: sa.Engine, feed_id: str) -> dict[str, Any]:
    stmt = (
        sa.select(enrichments.c.status, enrichments.c.function_status, sa.func.count())
        .where(enrichments.c.feed_id == feed_id)
        .group_by(enrichments.c.status, enrichments.c.function_status)
    )
    with engine.connect() as conn:
        return {f"{s}/{fs or '-'}": n for s, fs, n in conn.execute(stmt)}
