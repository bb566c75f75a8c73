"""Stage versions: a stage's input is its upstream's output version plus its own settings.

A stage that skips hands on the version it handed on last time, so a feed whose file did not change keeps the same
versions down the whole chain and every stage skips. A stage that did work hands on a new version (its input and
the run), so every stage after it runs too: what it rewrote may be what they read (both AI stages write
`enrichments`). A stage that left work undone (an incomplete ingest, AI failures) hands on a version marked
incomplete, which no later run takes as done, so the next run does the work again.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Bump when a stage's output for the same input and settings changes (a new parsing, dedupe or routing rule):
# every feed's stages then run once again instead of skipping.
PIPELINE_LOGIC_VERSION = "2026-12-01.1"


def stage_input_version(upstream_version: str | None, settings: Mapping[str, Any]) -> str:
    """The hash of what a stage's output depends on: its upstream's output and its own settings."""
    payload = json.dumps({"logic": PIPELINE_LOGIC_VERSION, "upstream": upstream_version, "settings": settings},
                         sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def stage_output_version(input_version: str, *, complete: bool, run_id: str) -> str:
    """The version a stage that did work in `run_id` hands on: new for every run, marked done or incomplete."""
    return f"{input_version}:{'done' if complete else 'incomplete'}:{run_id}"


def is_unchanged(input_version: str, last_input: str | None, last_output: str | None) -> bool:
    """True when the stage last finished, completely, on exactly this input."""
    return last_input == input_version and (last_output or "").startswith(f"{input_version}:done:")
