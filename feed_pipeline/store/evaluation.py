"""What `calibrate` and the `routed_jobs` metadata read: classified jobs, their review decisions and labels.

Review decisions are labels too: `approve` says the job's classification is right, `reject` that it is wrong.
A decision only counts while the job's content is the one it was made on (as routing applies it).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.evaluation import LEVELS, LabeledRun, Outcome, Prediction, label_value
from feed_pipeline.core.jobs import RejectionReason, Route
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store.schema import jobs, review_decisions

# Feed params that make a run measure itself against the feed's own labels.
LABEL_FIELD_PARAM, LABEL_MAP_PARAM, LABEL_LEVEL_PARAM = "label_field", "label_map", "label_level"

# Jobs still in their feed that went through the AI (closed and removed ones are left out).
_CLASSIFIED = sa.and_(
    sa.or_(jobs.c.industry.is_not(None), jobs.c.route == Route.FAILED.value),
    sa.not_(sa.and_(jobs.c.route == Route.REJECTED.value,
                    sa.func.coalesce(jobs.c.reason, "") == RejectionReason.REMOVED.value)),
)


@dataclass(frozen=True)
class ReviewOutcomes:
    outcomes: list[Outcome]
    decided: int  # decisions found for the feeds
    stale: int  # made on content that has changed since: not counted


def _feed_filter(stmt, feed_ids: Sequence[str] | None):
    return stmt.where(jobs.c.feed_id.in_(list(feed_ids))) if feed_ids else stmt


def review_outcomes(engine: sa.Engine, feed_ids: Sequence[str] | None = None) -> ReviewOutcomes:
    """One Outcome per review decision on a classified job's current content (of these feeds, or all)."""
    stmt = _feed_filter(
        sa.select(jobs.c.feed_id, jobs.c.job_key, jobs.c.content_hash, jobs.c.job_function,
                  jobs.c.routing_confidence, review_decisions.c.decision,
                  review_decisions.c.content_hash.label("decided_hash"))
        .join(review_decisions, sa.and_(review_decisions.c.feed_id == jobs.c.feed_id,
                                         review_decisions.c.job_key == jobs.c.job_key))
        .where(_CLASSIFIED)
        .order_by(jobs.c.feed_id, jobs.c.job_key),
        feed_ids,
    )
    outcomes: list[Outcome] = []
    decided = stale = 0
    with engine.connect() as conn:
        for row in conn.execute(stmt).mappings():
            decided += 1
            if row["decided_hash"] != row["content_hash"]:
                stale += 1
                continue
            outcomes.append(Outcome(_outcome_key(row), row["decision"] == "approve",
                                    row["job_function"] is not None, row["routing_confidence"]))
    return ReviewOutcomes(outcomes, decided, stale)


def iter_classified_jobs(engine: sa.Engine, feed_ids: Sequence[str] | None = None,
                         chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """Every job that went through classification (any route it has now), with its stored answer."""
    stmt = _feed_filter(
        sa.select(jobs.c.feed_id, jobs.c.job_key, jobs.c.source_id, jobs.c.source_ids, jobs.c.category,
                  jobs.c.extra, jobs.c.industry, jobs.c.job_function, jobs.c.routing_confidence, jobs.c.route)
        .where(_CLASSIFIED).order_by(jobs.c.feed_id, jobs.c.job_key),
        feed_ids,
    )
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt).mappings():
            yield dict(row)


def prediction_of(row: Mapping[str, Any], label: str) -> Prediction:
    """A stored job as a labeled prediction, keyed `feed_id/job_key` (keys are per feed)."""
    return Prediction(_outcome_key(row), label, row["industry"], row["job_function"], row["routing_confidence"],
                      row["route"])


def label_from_file(row: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """The file's label for a stored job: by its source id, else by the first of its merged members' ids."""
    for source_id in [row["source_id"], *(row["source_ids"] or [])]:
        if source_id is not None and source_id in labels:
            return labels[source_id]
    return None


def labeled_run(engine: sa.Engine, feed_id: str, run_id: str) -> LabeledRun | None:
    """The jobs this run classified, labeled by the feed's `label_field` param; None when it has none."""
    try:
        params = feed_store.get_feed(engine, feed_id).params or {}
    except feed_store.FeedNotFoundError:  # metadata never fails a run
        return None
    label_field = params.get(LABEL_FIELD_PARAM)
    if not label_field:
        return None
    stmt = (sa.select(jobs.c.feed_id, jobs.c.job_key, jobs.c.category, jobs.c.extra, jobs.c.industry,
                      jobs.c.job_function, jobs.c.routing_confidence, jobs.c.route)
            .where(jobs.c.feed_id == feed_id, jobs.c.last_run_id == run_id, _CLASSIFIED)
            .order_by(jobs.c.job_key))
    predictions = []
    with engine.connect() as conn:
        for row in conn.execute(stmt).mappings():
            label = label_value(row, label_field)
            if label is not None:
                predictions.append(prediction_of(row, label))
    label_map = params.get(LABEL_MAP_PARAM)
    level = params.get(LABEL_LEVEL_PARAM) if params.get(LABEL_LEVEL_PARAM) in LEVELS else LEVELS[0]
    return LabeledRun(str(label_field), tuple(predictions), label_map if isinstance(label_map, dict) else {},
                      level)


def _outcome_key(row: Mapping[str, Any]) -> str:
    return f"{row['feed_id']}/{row['job_key']}"
