"""The sandbox's records, kept in SQLite so a later `feed-pipeline xano-sandbox` shows what a run mirrored.

Behaves like a Xano table: integer ids from a per-table sequence that never reuses an id (Xano runs
on PostgreSQL sequences), `created_at` in epoch milliseconds, any JSON fields besides. One connection
behind a lock: the sandbox serves a handful of clients, not a crowd.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

RESERVED_FIELDS = frozenset({"id", "created_at"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS xano_records (
    tbl TEXT NOT NULL,
    id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tbl, id)
);
CREATE TABLE IF NOT EXISTS xano_sequences (
    tbl TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class SandboxStore:
    """CRUD over one SQLite file; each table name is its own id space."""

    def __init__(self, db_path: str | Path) -> None:
        db_path = str(db_path)
        if db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.db_path = db_path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        if db_path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @staticmethod
    def _row_to_record(row: tuple[int, int, str]) -> dict[str, Any]:
        rid, created_at, data = row
        return {"id": rid, "created_at": created_at, **json.loads(data)}

    def count(self, table: str) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM xano_records WHERE tbl = ?", (table,)).fetchone()[0]

    def list(self, table: str, *, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Records in id order, optionally one page of them."""
        sql = "SELECT id, created_at, data FROM xano_records WHERE tbl = ? ORDER BY id"
        params: tuple = (table,)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = (table, limit, offset)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [self._row_to_record(r) for r in rows]

    def get(self, table: str, record_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, created_at, data FROM xano_records WHERE tbl = ? AND id = ?", (table, record_id)
            ).fetchone()
        return self._row_to_record(row) if row else None

    def create(self, table: str, fields: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in fields.items() if k not in RESERVED_FIELDS}
        created_at = _now_ms()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT last_id FROM xano_sequences WHERE tbl = ?", (table,)).fetchone()
                rid = (row[0] if row else 0) + 1
                self._conn.execute(
                    "INSERT INTO xano_sequences (tbl, last_id) VALUES (?, ?) "
                    "ON CONFLICT (tbl) DO UPDATE SET last_id = excluded.last_id",
                    (table, rid),
                )
                self._conn.execute(
                    "INSERT INTO xano_records (tbl, id, created_at, data) VALUES (?, ?, ?, ?)",
                    (table, rid, created_at, json.dumps(data)),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return {"id": rid, "created_at": created_at, **data}

    def update(self, table: str, record_id: int, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Partial edit like Xano's PATCH: given fields replace stored ones, others stay."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT id, created_at, data FROM xano_records WHERE tbl = ? AND id = ?", (table, record_id)
                ).fetchone()
                if row is None:
                    self._conn.execute("ROLLBACK")
                    return None
                data = json.loads(row[2])
                data.update({k: v for k, v in fields.items() if k not in RESERVED_FIELDS})
                self._conn.execute(
                    "UPDATE xano_records SET data = ? WHERE tbl = ? AND id = ?", (json.dumps(data), table, record_id)
                )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return {"id": row[0], "created_at": row[1], **data}

    def delete(self, table: str, record_id: int) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM xano_records WHERE tbl = ? AND id = ?", (table, record_id))
        return cur.rowcount > 0

    def truncate(self, table: str) -> None:
        """Empty a table (tests and `--reset`); the id sequence keeps counting, as Xano's does."""
        with self._lock:
            self._conn.execute("DELETE FROM xano_records WHERE tbl = ?", (table,))
