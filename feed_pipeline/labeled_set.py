"""The shipped labeled postings (data/labeled/, see its README): loading a board, and running a classifier over
it the way the enrichment assets do (stage 1, then stage 2 for jobs stage 1 did not archive), so the fit
script, the benchmark and the regression tests measure one and the same thing.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from feed_pipeline.core.enrichment import Classifier, FunctionInput, IndustryInput, Taxonomy
from feed_pipeline.core.routing import Thresholds, routing_confidence
from feed_pipeline.core.taxonomy import load_taxonomy

LABELED_DIR = Path(__file__).resolve().parent / "data" / "labeled"
SPLITS = ("dev", "heldout")


@dataclass(frozen=True, slots=True)
class LabeledJob:
    id: str
    board: str
    split: str
    title: str
    company: str
    location: str
    description: str
    industry: str
    function: str


@dataclass(frozen=True, slots=True)
class Board:
    name: str
    taxonomy: Taxonomy
    jobs: tuple[LabeledJob, ...]

    def split(self, name: str) -> tuple[LabeledJob, ...]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}: use one of {SPLITS}")
        return tuple(j for j in self.jobs if j.split == name)


def board_names(directory: Path = LABELED_DIR) -> list[str]:
    return list(json.loads((directory / "boards.json").read_text(encoding="utf-8")))


def load_board(name: str, directory: Path = LABELED_DIR, taxonomy_file: str | None = None) -> Board:
    """A board's jobs and taxonomy; `taxonomy_file` (relative to the folder) swaps in another taxonomy."""
    boards = json.loads((directory / "boards.json").read_text(encoding="utf-8"))
    if name not in boards:
        raise KeyError(f"labeled board {name!r} not in {directory / 'boards.json'}: one of {sorted(boards)}")
    spec = boards[name]
    path = taxonomy_file or spec["taxonomy"]
    taxonomy = load_taxonomy() if path == "bundled" else load_taxonomy(directory / path)
    with (directory / spec["jobs"]).open(encoding="utf-8") as handle:
        jobs = tuple(LabeledJob(**json.loads(line)) for line in handle if line.strip())
    return Board(name, taxonomy, jobs)


@dataclass(frozen=True, slots=True)
class Prediction:
    job: LabeledJob
    industry: str
    industry_confidence: float
    function: str | None  # None when stage 1 archived the job
    function_confidence: float | None

    @property
    def routing_confidence(self) -> float:
        if self.function_confidence is None:
            return self.industry_confidence
        return routing_confidence(self.industry_confidence, self.function_confidence) or 0.0

    @property
    def function_right(self) -> bool:
        """Right industry and right function; a job archived in stage 1 has no function, so it is a miss."""
        return self.industry == self.job.industry and self.function == self.job.function


def classify_jobs(classifier: Classifier, taxonomy: Taxonomy, jobs: Iterable[LabeledJob],
                  archive_below: float = Thresholds().archive_below) -> list[Prediction]:
    """Both stages, as the assets run them: stage 2 gets the original title and text."""
    jobs = list(jobs)
    stage1 = [r for batch in classifier.classify_industries(
        [IndustryInput(j.id, j.title, j.company, j.description, (j.location,)) for j in jobs]) for r in batch]
    by_industry: dict[str, list[tuple[int, FunctionInput]]] = {}
    for n, (job, result) in enumerate(zip(jobs, stage1, strict=True)):
        if result.confidence < archive_below:
            continue
        inp = FunctionInput(job.id, result.ai_title, result.ai_description, result.skills,
                            title=job.title, text=job.description)
        by_industry.setdefault(result.industry, []).append((n, inp))
    functions: dict[int, tuple[str, float]] = {}
    for industry, items in by_industry.items():
        results = [r for batch in classifier.classify_functions(
            industry, taxonomy.functions_of(industry), [inp for _, inp in items]) for r in batch]
        for (n, _), result in zip(items, results, strict=True):
            functions[n] = (result.job_function, result.confidence)
    return [
        Prediction(job, r.industry, r.confidence, *functions.get(n, (None, None)))
        for n, (job, r) in enumerate(zip(jobs, stage1, strict=True))
    ]


def summarize(predictions: list[Prediction], thresholds: Thresholds = Thresholds()) -> dict:
    """Agreement with the labels, and how many approved jobs were right (precision) and how many were approved
    (coverage) at the routing thresholds."""
    n = len(predictions)
    approved = [p for p in predictions if p.routing_confidence >= thresholds.approve_at]
    archived = [p for p in predictions if p.routing_confidence < thresholds.archive_below]
    return {
        "jobs": n,
        "industry_agreement": round(sum(p.industry == p.job.industry for p in predictions) / n, 4) if n else None,
        "function_agreement": round(sum(p.function_right for p in predictions) / n, 4) if n else None,
        "approved": len(approved),
        "approved_coverage": round(len(approved) / n, 4) if n else None,
        "approved_precision": round(sum(p.function_right for p in approved) / len(approved), 4) if approved else None,
        "archived": len(archived),
    }
