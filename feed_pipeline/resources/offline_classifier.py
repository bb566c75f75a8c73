"""The classifier used when no Gemini key is set (and by `make run`): no network, no cost.

`method: semantic` (the default) is the calibrated semantic classifier (core/semantic_classifier.py): static
word embeddings that ship inside the `wordllama` wheel, the taxonomy's names, descriptions and keywords, and
phrases borrowed from the bundled taxonomy; its confidence is calibrated (data/calibration.json).
`method: keyword` is the earlier keyword scorer (core/keyword_classifier.py). The model name and prompt
version name the method and the calibration, so the enrichment cache never serves one method's answers as
the other's.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal

from pydantic import Field

from feed_pipeline.core.calibration import LogisticCalibrator, calibrators_from_dict
from feed_pipeline.core.embeddings import load_wordllama
from feed_pipeline.core.enrichment import Classifier, Taxonomy
from feed_pipeline.core.keyword_classifier import KeywordClassifier
from feed_pipeline.core.semantic_classifier import CALIBRATORS, SemanticClassifier
from feed_pipeline.core.taxonomy import load_taxonomy
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.classifier_pool import PooledClassifier

CALIBRATION_PATH = Path(__file__).resolve().parent.parent / "data" / "calibration.json"


@lru_cache(maxsize=4)
def load_calibration(path: str | Path = CALIBRATION_PATH) -> tuple[str, dict[str, LogisticCalibrator]]:
    """The calibration's version and its calibrators, read once per process."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"calibration file {path} is missing: run scripts/fit_calibration.py") from exc
    return str(raw.get("version", "cal")), calibrators_from_dict(raw, CALIBRATORS, where=str(path))


def semantic_classifier(taxonomy: Taxonomy, batch_size: int = 200) -> SemanticClassifier:
    """The calibrated semantic classifier, with the bundled taxonomy as its reference vocabulary."""
    version, calibrators = load_calibration()
    return SemanticClassifier(taxonomy, load_wordllama(), calibrators, reference=load_taxonomy(),
                              calibration_version=version, batch_size=batch_size)


def offline_classifier(method: str, taxonomy: Taxonomy, batch_size: int) -> Classifier:
    """The offline classifier `method` names ("semantic" or "keyword")."""
    if method == "keyword":
        return KeywordClassifier(taxonomy, batch_size=batch_size)
    return semantic_classifier(taxonomy, batch_size=batch_size)


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (a container limited to
    1.5 CPUs counts 1, whatever the host has)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cores


class OfflineClassifierResource(ClassifierResource):
    """The offline classifiers: no network, no cost, deterministic."""

    batch_size: int = Field(default=200, ge=1, description="Jobs per yielded batch (how often results are saved).")
    method: Literal["semantic", "keyword"] = Field(
        default="semantic",
        description="semantic: calibrated embeddings + phrases (default); keyword: the keyword scorer.",
    )

    workers: int = Field(
        default=2, ge=1,
        description="Processes that classify a large stage run: this one and workers - 1 helpers (at most one per "
                    "usable core), started once the run has asked for parallel_min_jobs jobs. 1: this process only.",
    )
    parallel_min_jobs: int = Field(
        default=2000, ge=0, description="Jobs a stage run asks for before helper processes start (about 1 s each).")

    def classifier(self, taxonomy: Taxonomy) -> Classifier:
        return PooledClassifier(offline_classifier(self.method, taxonomy, self.batch_size),
                                partial(offline_classifier, self.method, taxonomy, self.batch_size),
                                helpers=min(self.workers, usable_cores()) - 1, batch_size=self.batch_size,
                                min_jobs=self.parallel_min_jobs)
