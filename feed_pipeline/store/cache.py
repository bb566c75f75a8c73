"""The AI result cache: paid-for answers keyed by (input hash, stage, model, prompt version)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from feed_pipeline.store.rows import upsert_rows, utcnow
from feed_pipeline.store.schema import enrichment_cache

LOOKUP_CHUNK = 500


def get_cached(
    conn: sa.Connection, stage: str, model: str, prompt_version: str, input_hashes: Iterable[str]
) -> dict[str, dict[str, Any]]:
    hashes = list(dict.fromkeys(input_hashes))
    found: dict[str, dict[str, Any]] = {}
    c = enrichment_cache.c
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        stmt = sa.select(c.input_hash, c.result).where(
            c.stage == stage, c.model == model, c.prompt_version == prompt_version,
            c.input_hash.in_(hashes[start : start + LOOKUP_CHUNK]),
        )
        found.update({h: r for h, r in conn.execute(stmt)})
    return found


def put_cached(
    conn: sa.Connection, stage: str, model: str, prompt_version: str, results: Mapping[str, dict[str, Any]]
) -> None:
    if not results:
        return
    now = utcnow()
    rows = [
        {"input_hash": h, "stage": stage, "model": model, "prompt_version": prompt_version, "result": r,
         "created_at": now}
        for h, r in results.items()
    ]
    upsert_rows(conn, enrichment_cache, rows, ("input_hash", "stage", "model", "prompt_version"),
                ["result", "created_at"])
