"""How a finished run of a feed is judged: `success`, `partial` (work left undone, with reasons) or `failed` (with
the root cause). Pure: it reads the run's execution report and the causes of its failed steps, nothing else."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUCCESS, PARTIAL, FAILED, CANCELED, STARTED = "success", "partial", "failed", "canceled", "started"
MIRROR_STAGE = "xano_mirror"


@dataclass(frozen=True)
class StepFailure:
    """One step that failed for good (after its retries), with the cause in words (never a framework wrapper)."""

    step: str
    cause: str

    def __str__(self) -> str:
        return f"{self.step}: {self.cause}"


def partial_reasons(report: Mapping[str, Any]) -> list[str]:
    """What a run left undone, from its report: an incomplete ingest, jobs the AI failed, held-back deletes,
    records Xano refused. Empty when the run did everything it set out to do."""
    stages = report.get("stages") or {}
    counts = report.get("counts") or {}
    reasons = []
    ingest = stages.get("raw_jobs") or {}
    if ingest.get("complete") is False:
        reason = f"ingest incomplete: {ingest.get('error') or 'the feed ended early'}"
        unsaid = {name: error for name, error in (ingest.get("source_errors") or {}).items() if error not in reason}
        if unsaid:  # a multi feed's failed sources the ingest error does not already name
            reason += " (" + "; ".join(f"{name}: {error}" for name, error in sorted(unsaid.items())) + ")"
        reasons.append(reason + "; no job was treated as removed")
    failed = int(counts.get("failed") or 0)
    if failed:
        reasons.append(f"{failed} job(s) failed in the AI stages and stay `failed` until the next run retries them")
    mirror = stages.get(MIRROR_STAGE) or {}
    if mirror.get("deletes_blocked"):
        reasons.append(f"Xano deletes held back: {mirror['deletes_blocked']}")
    refused = int((report.get("mirror") or {}).get("errors") or 0)
    if refused:
        reasons.append(f"Xano refused {refused} record(s); see the xano_mirror step's log")
    return reasons


def judge_run(report: Mapping[str, Any], failures: Sequence[StepFailure]) -> tuple[str, str | None]:
    """(status, error): `failed` when a step failed for good, except the mirror stopping after its safety valve
    held back deletes (the adds and updates were made: `partial`); `partial` when reasons remain; else `success`.
    The error is the root causes (failed) or the reasons (partial), joined by "; "."""
    blocked = bool(((report.get("stages") or {}).get(MIRROR_STAGE) or {}).get("deletes_blocked"))
    hard = [f for f in failures if not (blocked and f.step == MIRROR_STAGE)]
    if hard:
        return FAILED, "; ".join(str(f) for f in hard)
    reasons = partial_reasons(report)
    if reasons:
        return PARTIAL, "; ".join(reasons)
    return SUCCESS, None
