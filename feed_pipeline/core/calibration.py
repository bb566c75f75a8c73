"""Turns a classifier's raw scores into the probability that its answer is right.

A calibrator is a logistic regression over a few named features of one answer (the winner's score, its margin
over the runner-up, whether the title names it...). It is fit on labeled postings by
scripts/fit_calibration.py and shipped as JSON (data/calibration.json), so `routing_confidence >= 0.86` means
about 86% of such answers were right on the data it was fit on. Pure functions only: loading the JSON file is
the caller's business.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise


class CalibrationError(ValueError):
    """The calibration JSON is malformed; the message names the model and field."""


@dataclass(frozen=True, slots=True)
class LogisticCalibrator:
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: Mapping[str, float]) -> float:
        """P(answer is right) in [0, 1], rounded to 4 places; a missing feature counts as 0."""
        z = self.intercept + sum(c * float(values.get(f, 0.0)) for f, c in zip(self.features, self.coef, strict=True))
        if z >= 0:
            p = 1.0 / (1.0 + math.exp(-z))
        else:
            e = math.exp(z)
            p = e / (1.0 + e)
        return round(min(1.0, max(0.0, p)), 4)

    def as_dict(self) -> dict:
        return {"features": list(self.features), "coef": [round(c, 6) for c in self.coef],
                "intercept": round(self.intercept, 6)}


def calibrator_from_dict(raw: object, where: str) -> LogisticCalibrator:
    if not isinstance(raw, dict):
        raise CalibrationError(f"{where}: expected an object with features, coef and intercept")
    features, coef, intercept = raw.get("features"), raw.get("coef"), raw.get("intercept")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise CalibrationError(f"{where}.features must be a list of feature names")
    if not isinstance(coef, list) or len(coef) != len(features) or not all(isinstance(c, int | float) for c in coef):
        raise CalibrationError(f"{where}.coef must be a list of {len(features)} numbers")
    if not isinstance(intercept, int | float):
        raise CalibrationError(f"{where}.intercept must be a number")
    return LogisticCalibrator(tuple(features), tuple(float(c) for c in coef), float(intercept))


def calibrators_from_dict(
    raw: object, required: Sequence[str], where: str = "calibration"
) -> dict[str, LogisticCalibrator]:
    """The named calibrators of a calibration document (`{"models": {name: {...}}}`)."""
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict):
        raise CalibrationError(f"{where}: expected an object with 'models'")
    missing = [name for name in required if name not in models]
    if missing:
        raise CalibrationError(f"{where}: models {missing} missing; refit with scripts/fit_calibration.py")
    return {name: calibrator_from_dict(models[name], f"{where}.models.{name}") for name in models}


def reliability_table(probabilities: Sequence[float], correct: Sequence[bool], edges: Sequence[float]) -> list[dict]:
    """Per probability bin: how many answers, their mean predicted probability and the share that was right."""
    rows = []
    for low, high in pairwise(edges):
        inside = [(p, c) for p, c in zip(probabilities, correct, strict=True)
                  if low <= p < high or (high == edges[-1] and p == high)]
        if not inside:
            rows.append({"bin": f"[{low:.2f}, {high:.2f})", "n": 0, "mean_p": None, "accuracy": None})
            continue
        rows.append({
            "bin": f"[{low:.2f}, {high:.2f})",
            "n": len(inside),
            "mean_p": round(sum(p for p, _ in inside) / len(inside), 3),
            "accuracy": round(sum(1 for _, c in inside if c) / len(inside), 3),
        })
    return rows
