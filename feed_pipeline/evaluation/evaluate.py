"""`evaluate` reads a feed, classifies it blind and compares with labels; `calibrate` does it from stored answers.

Nothing here writes a stage table, the jobs table or Xano: `evaluate` reads the feed and the feeds registry,
`calibrate` reads `jobs` and `review_decisions`. The classifier and the thresholds are the ones a run would
use now (`definitions.build_resources`, i.e. GEMINI_API_KEY and FEED_PIPELINE_ARCHIVE_BELOW / _APPROVE_AT).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.enrichment import Taxonomy
from feed_pipeline.core.evaluation import (
    LABEL_RECORD_FIELDS,
    Outcome,
    Prediction,
    label_report,
    label_value,
    outcomes_from_predictions,
    threshold_report,
)
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.core.routing import Thresholds
from feed_pipeline.evaluation.classify import blind, classify_records, route_row
from feed_pipeline.pipeline.enrich import CHUNK_JOBS
from feed_pipeline.pipeline.ingest import feed_spec
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.settings import Settings
from feed_pipeline.sources.registry import open_feed
from feed_pipeline.store import evaluation as eval_store
from feed_pipeline.store import feeds as feed_store

MAX_LISTED_KEYS = 20  # extra keys / ids quoted in an error message


class EvaluationError(Exception):
    """Nothing could be measured: the message says which feed or file, what was missing and what to do."""


@dataclass(frozen=True)
class PipelineSettings:
    """The classifier resource and thresholds a run would use, taken from the same place the run takes them."""

    classifier: ClassifierResource
    thresholds: Thresholds
    job_apis: Mapping[str, str] = field(default_factory=dict)  # JobApiResource.as_env()

    @classmethod
    def from_env(cls) -> PipelineSettings:
        from feed_pipeline.definitions import build_resources

        resources = build_resources()
        return cls(resources["classifier"].process_config_and_initialize(), resources["routing"].thresholds(),
                   resources["job_apis"].process_config_and_initialize().as_env())


def configured_thresholds() -> Thresholds:
    """The routing thresholds a run would use now."""
    from feed_pipeline.definitions import build_resources

    return build_resources()["routing"].thresholds()


def reports_dir(*parts: str) -> Path:
    """Where reports go by default: `reports/` in the state folder (FEED_PIPELINE_STATE_DIR, `.feed_pipeline`)."""
    return Settings.from_env().state_path("reports", *parts)


def evaluate_feed(engine: sa.Engine, feed_id: str, *, taxonomy: Taxonomy, settings: PipelineSettings,
                  label_field: str | None = None, labels: Mapping[str, str] | None = None,
                  label_map: Mapping[str, str] | None = None, level: str = "function",
                  target: float) -> dict[str, Any]:
    """Classify and route every open, labeled posting of the feed blind to its label; the figures as a dict.

    Each open posting counts once (by job key); closed, expired and invalid ones are left out, and no dedupe
    merge happens, so one posting is one case. Raises FeedNotFoundError, FeedError or EvaluationError.
    """
    if (label_field is None) == (labels is None):
        raise ValueError("give exactly one of label_field and labels")
    feed = feed_store.get_feed(engine, feed_id)
    counts: Counter[str] = Counter()  # how the records met the labels: for the report and for clear errors
    extra_keys: Counter[str] = Counter()
    predictions: list[Prediction] = []
    with settings.classifier.open_classifier(taxonomy) as clf:
        reader = open_feed(feed_spec(feed), force=True, env=settings.job_apis)
        try:
            pending: list[tuple[JobRecord, str]] = []
            seen: set[str] = set()
            for job in reader:
                counts["records"] += 1
                if job.rejection_reason is not None:
                    counts["rejected"] += 1
                    continue
                if job.job_key in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add(job.job_key)
                extra_keys.update(job.extra.keys())
                label = _label_of(job, label_field, labels, counts)
                if label is None:
                    counts["unlabeled"] += 1
                    continue
                counts["labeled"] += 1
                pending.append((blind(job, label_field) if label_field else job, label))
                if len(pending) >= CHUNK_JOBS:
                    predictions += _classify(clf, taxonomy, settings.thresholds, pending)
                    pending = []
            predictions += _classify(clf, taxonomy, settings.thresholds, pending)
        finally:
            reader.close()
        usage, model = clf.usage.as_dict(), clf.model_name
    if not predictions:
        raise EvaluationError(_nothing_labeled(feed_id, counts, label_field, labels, extra_keys))
    return {
        "feed_id": feed_id,
        "label_source": {"field": label_field} if label_field else {"file_ids": len(labels or {})},
        "classifier": model,
        "records": {"read": counts["records"], "closed_expired_invalid": counts["rejected"],
                    "duplicate_keys": counts["duplicates"], "labeled": counts["labeled"],
                    "unlabeled": counts["unlabeled"]},
        "ingest_complete": reader.outcome.complete,
        **label_report(predictions, settings.thresholds, target, label_map, level),
        "ai_usage": usage,
    }


def _label_of(job: JobRecord, label_field: str | None, labels: Mapping[str, str] | None,
              counts: Counter[str]) -> str | None:
    if label_field:
        return label_value({"category": job.category, "extra": job.extra}, label_field)
    if not job.source_id:
        counts["without_id"] += 1
        return None
    return (labels or {}).get(job.source_id)


def _classify(clf, taxonomy: Taxonomy, thresholds: Thresholds,
              pending: list[tuple[JobRecord, str]]) -> list[Prediction]:
    if not pending:
        return []
    rows = classify_records(clf, taxonomy, [job for job, _ in pending], archive_below=thresholds.archive_below)
    predictions = []
    for (job, label), row in zip(pending, rows, strict=True):
        decision = route_row(row, taxonomy, thresholds)
        predictions.append(Prediction(job.job_key, label, row.get("industry"), row.get("job_function"),
                                      decision.routing_confidence, decision.route.value))
    return predictions


def _nothing_labeled(feed_id: str, counts: Counter[str], label_field: str | None,
                     labels: Mapping[str, str] | None, extra_keys: Counter[str]) -> str:
    open_records = counts["records"] - counts["rejected"] - counts["duplicates"]
    if open_records <= 0:
        return f"feed {feed_id!r} has no open posting to evaluate ({counts['records']} records read)"
    if label_field:
        known = ", ".join(sorted(set(LABEL_RECORD_FIELDS) | set(k for k, _ in extra_keys.most_common(
            MAX_LISTED_KEYS))))
        return (f"feed {feed_id!r}: label field {label_field!r} is absent from all {open_records} open "
                f"records; fields these records carry: {known}")
    sample = ", ".join(list(labels or {})[:5])
    return (f"feed {feed_id!r}: the labels file matched 0 of its {len(labels or {})} ids against the "
            f"{open_records} open records (matched by the feed's own id, e.g. <referencenumber>; "
            f"{counts['without_id']} records have no id); ids in the file look like: {sample}")


def calibrate(engine: sa.Engine, feed_ids: Iterable[str], *, thresholds: Thresholds, target: float,
              labels: Mapping[str, str] | None = None, label_map: Mapping[str, str] | None = None,
              level: str = "function", use_reviews: bool = True) -> dict[str, Any]:
    """How precise approval is on the stored classifications, judged by review decisions and/or a labels file.

    A job judged by both counts once, by its label. Raises FeedNotFoundError for an unknown feed id and
    EvaluationError when nothing is judged.
    """
    ids = list(feed_ids)
    for feed_id in ids:
        feed_store.get_feed(engine, feed_id)
    judged: dict[str, Outcome] = {}
    sources: dict[str, Any] = {}
    if use_reviews:
        reviews = eval_store.review_outcomes(engine, ids or None)
        judged.update((o.job_key, o) for o in reviews.outcomes)
        sources["review_decisions"] = {"decided": reviews.decided, "stale": reviews.stale,
                                       "used": len(reviews.outcomes)}
    label_figures: dict[str, Any] = {}
    if labels is not None:
        predictions = [eval_store.prediction_of(row, label) for row in eval_store.iter_classified_jobs(engine, ids)
                       if (label := eval_store.label_from_file(row, labels)) is not None]
        sources["labels"] = {"file_ids": len(labels), "matched_jobs": len(predictions)}
        judged.update((o.job_key, o) for o in outcomes_from_predictions(predictions, label_map, level))
        if predictions:
            report = label_report(predictions, thresholds, target, label_map, level)
            label_figures = {"label_agreement": report["agreement"], "per_label": report["per_label"]}
    if not judged:
        where = f"feeds {', '.join(ids)}" if ids else "any feed"
        raise EvaluationError(
            f"nothing to calibrate for {where}: no review decision on a job's current content"
            + (f" and none of the {len(labels)} ids of the labels file matched a classified job"
               if labels is not None else "; record some with `feed-pipeline review` or pass --labels FILE"))
    outcomes = list(judged.values())
    right = sum(o.correct for o in outcomes)
    return {
        "feeds": ids or "all",
        "sources": sources,
        "jobs": len(outcomes),
        "correct": right,
        "accuracy": round(right / len(outcomes), 4),
        **label_figures,
        **threshold_report(outcomes, thresholds, target),
    }
