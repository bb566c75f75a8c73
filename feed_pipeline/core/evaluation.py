"""How right the classification is, measured against reference labels or review decisions: pure figures, no I/O.

Definitions, used by `feed-pipeline evaluate`, `feed-pipeline calibrate` and the `routed_jobs` metadata alike:

- A job is **right** when its predicted function matches its reference label (case and spacing ignored; a label
  may first be mapped to a function name). A job with no function (archived at stage 1, failed) is a miss:
  every labeled job counts in the denominator. At the `industry` level the predicted industry is compared
  instead (for publishers whose categories are industries); a failed job, with none, is a miss.
- **Agreement** = right jobs / all labeled jobs.
- A job is **approved at threshold t** when it has a function and a valid routing confidence >= t: the rule
  `Thresholds.route_for` applies at `approve_at`. **Approved precision** = right approved / approved;
  **coverage** = approved / all jobs.
- The **precision-coverage curve** evaluates every threshold on a 0.001 grid at which some job's confidence
  lies (each point exact for its threshold); the **recommended approve_at** is the lowest such threshold, not
  below `archive_below`, whose approved precision reaches the target: the most coverage at that precision.
- An **archive threshold** is safe when at least the target share of the jobs below it are wrong; the
  recommended `archive_below` is the highest safe one not above the recommended approve_at.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from feed_pipeline.core.jobs import Route
from feed_pipeline.core.routing import Thresholds, is_valid_confidence

DEFAULT_TARGET_PRECISION = 0.97
LEVELS = ("function", "industry")  # which prediction a reference label is compared with
THRESHOLD_GRID = 1000  # candidate thresholds are multiples of 1/THRESHOLD_GRID
NO_FUNCTION = "(none)"  # the confusion matrix's column for jobs without a function
# JobRecord fields that can hold a reference label; any other label field names a key of the record's `extra`
# (a feed tag its profile does not map). The fields the classifier reads cannot be labels: blinding erases them.
LABEL_RECORD_FIELDS = ("category",)


@dataclass(frozen=True, slots=True)
class Prediction:
    """One labeled job as classified and routed: what the report compares with its reference label."""

    job_key: str
    label: str
    industry: str | None
    function: str | None
    confidence: float | None  # routing confidence; None when the job failed
    route: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One job whose rightness is known (from a label or a review decision), with what routing sees of it."""

    job_key: str
    correct: bool
    has_function: bool
    confidence: float | None


@dataclass(frozen=True, slots=True)
class LabeledRun:
    """The labeled jobs of one run and how their labels read (the feed's `label_field` and `label_map`)."""

    label_field: str
    predictions: tuple[Prediction, ...]
    label_map: Mapping[str, str] = field(default_factory=dict)
    level: str = "function"


@dataclass(frozen=True, slots=True)
class ThresholdPoint:
    threshold: float
    approved: int
    correct: int
    jobs: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.approved if self.approved else None

    @property
    def coverage(self) -> float:
        return self.approved / self.jobs if self.jobs else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "approved": self.approved, "correct": self.correct,
                "precision": _round(self.precision), "coverage": _round(self.coverage)}


@dataclass(frozen=True, slots=True)
class ArchivePoint:
    threshold: float
    archived: int
    wrong: int

    @property
    def precision(self) -> float | None:
        """Share of the archived jobs whose classification is wrong (archiving them lost nothing)."""
        return self.wrong / self.archived if self.archived else None

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "archived": self.archived, "wrong": self.wrong,
                "precision": _round(self.precision)}


def label_value(values: Mapping[str, Any], label_field: str) -> str | None:
    """A job's reference label: `values` is a job row or {"category": ..., "extra": ...}; None when absent."""
    if label_field in LABEL_RECORD_FIELDS:
        raw = values.get(label_field)
    else:
        raw = (values.get("extra") or {}).get(label_field)
    text = " ".join(str(raw).split()) if raw is not None else ""
    return text or None


def normalize_label(text: str | None) -> str:
    """Case- and space-insensitive form of a label or function name."""
    return " ".join((text or "").split()).casefold()


def normalize_label_map(label_map: Mapping[str, str] | None) -> dict[str, str]:
    """Reference label -> function name, keyed by the normalized label."""
    return {normalize_label(k): v for k, v in (label_map or {}).items()}


def expected_function(label: str, label_map: Mapping[str, str] | None = None) -> str:
    """The function name a reference label stands for: its mapping when given, else the label itself."""
    return normalize_label_map(label_map).get(normalize_label(label), label)


def is_right(label: str, answer: str | None, label_map: Mapping[str, str] | None = None) -> bool:
    """Whether a prediction (a function, or an industry) matches the reference label."""
    return answer is not None and normalize_label(answer) == normalize_label(expected_function(label, label_map))


def predicted(p: Prediction, level: str = "function") -> str | None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    return p.function if level == "function" else p.industry


def outcomes_from_predictions(predictions: Iterable[Prediction], label_map: Mapping[str, str] | None = None,
                              level: str = "function") -> list[Outcome]:
    mapping = normalize_label_map(label_map)
    return [Outcome(p.job_key, _right(p, mapping, level), p.function is not None, p.confidence)
            for p in predictions]


def _right(p: Prediction, mapping: Mapping[str, str], level: str) -> bool:
    return is_right(p.label, predicted(p, level), mapping)


# --- thresholds -----------------------------------------------------------------------------------------------


class _Scores:
    """Outcomes as sorted confidences with running counts, so every threshold is one binary search."""

    def __init__(self, outcomes: Sequence[Outcome]):
        self.jobs = len(outcomes)
        valid = [o for o in outcomes if is_valid_confidence(o.confidence)]
        approvable = sorted((o.confidence, o.correct) for o in valid if o.has_function)
        self.approvable = [c for c, _ in approvable]
        self.approvable_correct = list(accumulate((int(ok) for _, ok in approvable), initial=0))
        scored = sorted((o.confidence, o.correct) for o in valid)
        self.scored = [c for c, _ in scored]
        self.scored_wrong = list(accumulate((int(not ok) for _, ok in scored), initial=0))

    def approved_at(self, threshold: float) -> ThresholdPoint:
        start = bisect_left(self.approvable, threshold)  # the first confidence >= threshold
        n = len(self.approvable)
        return ThresholdPoint(threshold, n - start, self.approvable_correct[n] - self.approvable_correct[start],
                              self.jobs)

    def archived_below(self, threshold: float) -> ArchivePoint:
        end = bisect_left(self.scored, threshold)  # confidences < threshold
        return ArchivePoint(threshold, end, self.scored_wrong[end])

    def grid(self) -> list[float]:
        """Every 0.001 multiple at or just below some job's confidence, ascending."""
        return [round(step / THRESHOLD_GRID, 3)
                for step in sorted({math.floor(c * THRESHOLD_GRID) for c in self.scored})]


def approved_at(outcomes: Sequence[Outcome], threshold: float) -> ThresholdPoint:
    return _Scores(outcomes).approved_at(threshold)


def precision_coverage_curve(outcomes: Sequence[Outcome]) -> list[ThresholdPoint]:
    """Approved precision and coverage at every candidate threshold, ascending."""
    scores = _Scores(outcomes)
    return [scores.approved_at(t) for t in scores.grid()]


def approve_threshold_for(outcomes: Sequence[Outcome], target: float, floor: float = 0.0) -> ThresholdPoint | None:
    """The lowest threshold >= `floor` whose approved precision reaches `target`, or None when none does."""
    scores = _Scores(outcomes)
    for t in sorted({floor, *(t for t in scores.grid() if t >= floor)}):
        point = scores.approved_at(t)
        if point.approved and point.precision >= target:
            return point
    return None


def archive_threshold_for(outcomes: Sequence[Outcome], target: float, ceiling: float = 1.0) -> ArchivePoint | None:
    """The highest threshold <= `ceiling` below which at least `target` of the jobs are wrong, or None."""
    scores = _Scores(outcomes)
    candidates = sorted({ceiling, *(t for t in scores.grid() if t <= ceiling)}, reverse=True)
    for t in candidates:
        point = scores.archived_below(t)
        if point.archived and point.precision >= target:
            return point
    return None


def threshold_report(outcomes: Sequence[Outcome], thresholds: Thresholds,
                     target: float = DEFAULT_TARGET_PRECISION) -> dict[str, Any]:
    """Approved precision/coverage at the current thresholds, the curve, and thresholds that reach `target`."""
    scores = _Scores(outcomes)
    current = scores.approved_at(thresholds.approve_at)
    approve = approve_threshold_for(outcomes, target, floor=thresholds.archive_below)
    archive = archive_threshold_for(outcomes, target,
                                    ceiling=approve.threshold if approve else thresholds.approve_at)
    return {
        "target_precision": target,
        "current": {
            "archive_below": thresholds.archive_below,
            "approve_at": thresholds.approve_at,
            "approved": current.approved,
            "approved_correct": current.correct,
            "approved_precision": _round(current.precision),
            "coverage": _round(current.coverage),
            "archive_precision": _round(scores.archived_below(thresholds.archive_below).precision),
        },
        "recommended": {
            "approve_at": approve.as_dict() if approve else None,
            "archive_below": archive.as_dict() if archive else None,
        },
        "curve": [scores.approved_at(t).as_dict() for t in scores.grid()],
    }


# --- against labels -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    reference: str  # the reference class: the mapped label, spelled as first seen
    predicted: str  # the prediction, spelled as its reference class when it is one; NO_FUNCTION when none
    correct: bool
    route: str


def _rows(predictions: Sequence[Prediction], label_map: Mapping[str, str] | None, level: str) -> list[_Row]:
    """One row per job. A prediction that matches a reference class takes that class's spelling, so the two
    axes of the confusion matrix line up."""
    mapping = normalize_label_map(label_map)
    expected = [mapping.get(normalize_label(p.label), p.label) for p in predictions]
    spelling: dict[str, str] = {}
    for name in expected:
        spelling.setdefault(normalize_label(name), " ".join(name.split()))
    rows = []
    for p, name in zip(predictions, expected, strict=True):
        answer = predicted(p, level)
        shown = NO_FUNCTION if answer is None else spelling.get(normalize_label(answer), answer)
        rows.append(_Row(spelling[normalize_label(name)], shown, _right(p, mapping, level), p.route))
    return rows


def confusion_matrix(rows: Sequence[_Row]) -> dict[str, list]:
    """Jobs by reference class (rows) and prediction (columns, only those predicted at least once).

    Predictions that are reference classes come first in the rows' order (the diagonal reads as agreement),
    then the others, then NO_FUNCTION.
    """
    cells = Counter((r.reference, r.predicted) for r in rows)
    references = sorted({r.reference for r in rows}, key=normalize_label)
    answered = {r.predicted for r in rows}
    others = sorted(answered - set(references) - {NO_FUNCTION}, key=normalize_label)
    columns = [r for r in references if r in answered] + others + ([NO_FUNCTION] if NO_FUNCTION in answered else [])
    return {"labels": references, "predicted": columns,
            "matrix": [[cells[(ref, col)] for col in columns] for ref in references]}


def per_label(rows: Sequence[_Row]) -> list[dict[str, Any]]:
    """Support, agreement (= recall) and precision per reference class, most frequent first."""
    table = []
    for label in {r.reference for r in rows}:
        own = [r for r in rows if r.reference == label]
        predicted_as = [r for r in rows if r.predicted == label]
        right = sum(r.correct for r in own)
        table.append({
            "label": label,
            "support": len(own),
            "correct": right,
            "agreement": _round(right / len(own)),
            "predicted": len(predicted_as),
            "precision": _round(sum(r.correct for r in predicted_as) / len(predicted_as)) if predicted_as else None,
            "recall": _round(right / len(own)),
            "approved": sum(r.route == Route.APPROVED.value for r in own),
        })
    return sorted(table, key=lambda r: (-r["support"], normalize_label(r["label"])))


def label_report(predictions: Sequence[Prediction], thresholds: Thresholds,
                 target: float = DEFAULT_TARGET_PRECISION, label_map: Mapping[str, str] | None = None,
                 level: str = "function") -> dict[str, Any]:
    """Every figure `feed-pipeline evaluate` reports for labeled predictions."""
    if not predictions:
        raise ValueError("no labeled jobs to evaluate")
    rows = _rows(predictions, label_map, level)
    correct = sum(r.correct for r in rows)
    routes = Counter(r.route for r in rows)
    return {
        "level": level,
        "jobs": len(rows),
        "correct": correct,
        "agreement": _round(correct / len(rows)),
        "routes": {r.value: routes[r.value] for r in Route if routes[r.value]},
        **threshold_report(outcomes_from_predictions(predictions, label_map, level), thresholds, target),
        "per_label": per_label(rows),
        "confusion": confusion_matrix(rows),
    }


# What each figure of run_label_metadata means (the route asset's metadata catalog shows these).
LABEL_METADATA_DESCRIPTIONS = {
    "label_field": "the feed's field whose value is the publisher's label (feed param label_field)",
    "label_level": "whether the label names a function or an industry",
    "labeled_jobs": "routed jobs of this run that carry a label",
    "label_agreement": "share of labeled jobs whose classification agrees with the label (no function = a miss)",
    "label_approved": "labeled jobs approved at the current approve_at",
    "label_approved_coverage": "share of labeled jobs that were approved",
    "label_approved_precision": "share of approved labeled jobs whose classification agrees with the label",
}


def run_label_metadata(labeled: LabeledRun | None, thresholds: Thresholds) -> dict[str, Any]:
    """The few label figures a run shows as metadata; empty when the feed has no label field or no labeled job."""
    if labeled is None or not labeled.predictions:
        return {}
    outcomes = outcomes_from_predictions(labeled.predictions, labeled.label_map, labeled.level)
    right = sum(o.correct for o in outcomes)
    current = approved_at(outcomes, thresholds.approve_at)
    figures: dict[str, Any] = {
        "label_field": labeled.label_field,
        "label_level": labeled.level,
        "labeled_jobs": len(outcomes),
        "label_agreement": _round(right / len(outcomes)),
        "label_approved": current.approved,
        "label_approved_coverage": _round(current.coverage),
    }
    if current.precision is not None:
        figures["label_approved_precision"] = _round(current.precision)
    return figures


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)
