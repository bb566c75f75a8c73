"""Stage versions: a stage's input is its upstream's output version plus its own settings; equal input, equal output.

A stage that finished everything hands on its input version unchanged, so a feed whose file did not change
keeps the same version down the whole chain and every stage can skip. A stage that left work undone (an
incomplete ingest, AI failures) hands on a version no later run can match, so the next run does the work again.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Bump when a stage's output for the same input and settings changes (a new parsing, dedupe or routing rule):
# every feed's stages then run once again instead of skipping.
PIPELINE_LOGIC_VERSION = "2026-11-30.1"


def stage_input_version(upstream_version: str | None, settings: Mapping[str, Any]) -> str:
    """The hash of what a stage's output depends on: its upstream's output and its own settings."""
    payload = json.dumps({"logic": PIPELINE_LOGIC_VERSION, "upstream": upstream_version, "settings": settings},
                         sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def stage_output_version(input_version: str, *, complete: bool, run_id: str) -> str:
    """The input version when the stage finished everything; otherwise one tied to this run, never matched again."""
    return input_version if complete else f"{input_version}:incomplete:{run_id}"


def is_unchanged(input_version: str, last_input: str | None, last_output: str | None) -> bool:
    """True when the stage last ran, completely, on exactly this input."""
    return last_input == input_version and last_output == input_version
