"""Routing rules: one place decides approved / manual review / archived / failed from the AI's confidences.

Boundaries: a routing confidence of exactly `approve_at` (0.86) is approved; exactly `archive_below` (0.5) is
manual review. The routing confidence is the lower of the industry and function confidences. A missing or
non-finite confidence is never approved: the job is `failed` and retried next run.

A stage 2 answer of "none of these functions fits" (function_status `no_fit`) goes to manual review whatever the
confidences say: the job belongs to no function of the taxonomy, so neither approving nor archiving it is right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from feed_pipeline.core.jobs import Route

REVIEW_APPROVED = "approved in manual review"
REVIEW_REJECTED = "rejected in manual review"
NO_FIT_REASON = "no function of the taxonomy fits"  # the start of a no-fit job's reason
FUNCTION_NO_FIT = "no_fit"  # the function_status of a "none of these fits" answer
NOT_ENRICHED = "no AI answer yet: the enrichment stages did not finish for this job (it is retried next run)"
DEFAULT_ARCHIVE_BELOW = 0.5
DEFAULT_APPROVE_AT = 0.86


@dataclass(frozen=True)
class Thresholds:
    archive_below: float = DEFAULT_ARCHIVE_BELOW
    approve_at: float = DEFAULT_APPROVE_AT

    def __post_init__(self) -> None:
        if not (0.0 <= self.archive_below <= self.approve_at <= 1.0):
            raise ValueError(
                f"routing thresholds must satisfy 0 <= archive_below ({self.archive_below}) <= "
                f"approve_at ({self.approve_at}) <= 1"
            )

    def route_for(self, confidence: float) -> Route:
        if confidence >= self.approve_at:
            return Route.APPROVED
        if confidence >= self.archive_below:
            return Route.MANUAL_REVIEW
        return Route.ARCHIVED


@dataclass(frozen=True)
class RouteDecision:
    route: Route
    reason: str | None
    routing_confidence: float | None


def is_valid_confidence(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= 1.0


def routing_confidence(industry_confidence: float | None, function_confidence: float | None) -> float | None:
    """The lower of the two confidences, or None when either is missing, non-finite or outside [0, 1]."""
    if not (is_valid_confidence(industry_confidence) and is_valid_confidence(function_confidence)):
        return None
    return min(float(industry_confidence), float(function_confidence))


def route_enriched_job(
    *,
    enrichment_status: str,
    enrichment_error: str | None,
    industry_confidence: float | None,
    function_confidence: float | None,
    function_status: str | None,
    function_error: str | None,
    taxonomy_valid: bool,
    thresholds: Thresholds,
    review_decision: str | None = None,
) -> RouteDecision:
    """Route one enriched job. `enrichment_status` is ok | archived | failed (stage 1), or missing when the
    job has no enrichment row (stage 1 crashed or has not run); `review_decision` is approve | reject when an
    operator decided on this exact content."""
    if enrichment_status == "missing":
        return RouteDecision(Route.FAILED, NOT_ENRICHED, None)
    if enrichment_status == "failed":
        return RouteDecision(Route.FAILED, f"industry stage failed: {enrichment_error or 'unknown error'}", None)
    if enrichment_status == "archived":
        conf = industry_confidence if is_valid_confidence(industry_confidence) else None
        if conf is None:
            return RouteDecision(Route.FAILED, "industry confidence missing or invalid", None)
        decision = RouteDecision(
            Route.ARCHIVED, f"industry confidence {conf:.3f} below {thresholds.archive_below}", conf
        )
        return _apply_review(decision, review_decision, taxonomy_valid=False)
    if function_status == "failed":
        return RouteDecision(Route.FAILED, f"function stage failed: {function_error or 'unknown error'}", None)
    if function_status == FUNCTION_NO_FIT:
        sure = f" (classifier confidence {function_confidence:.3f})" if is_valid_confidence(function_confidence) else ""
        decision = RouteDecision(Route.MANUAL_REVIEW, f"{NO_FIT_REASON}{sure}", None)
        return _apply_review(decision, review_decision, taxonomy_valid=False)
    if not taxonomy_valid:
        return RouteDecision(Route.FAILED, "industry or function not in the taxonomy", None)
    conf = routing_confidence(industry_confidence, function_confidence)
    if conf is None:
        return RouteDecision(Route.FAILED, "missing or non-finite confidence", None)
    route = thresholds.route_for(conf)
    reason = None
    if route is Route.MANUAL_REVIEW:
        reason = f"routing confidence {conf:.3f} between {thresholds.archive_below} and {thresholds.approve_at}"
    elif route is Route.ARCHIVED:
        reason = f"routing confidence {conf:.3f} below {thresholds.archive_below}"
    return _apply_review(RouteDecision(route, reason, conf), review_decision, taxonomy_valid=True)


def _apply_review(decision: RouteDecision, review: str | None, *, taxonomy_valid: bool) -> RouteDecision:
    if review == "reject":
        return RouteDecision(Route.REJECTED, REVIEW_REJECTED, decision.routing_confidence)
    if review == "approve" and taxonomy_valid:
        return RouteDecision(Route.APPROVED, REVIEW_APPROVED, decision.routing_confidence)
    return decision


def threshold_violation(
    route: str, confidence: float | None, reason: str | None, thresholds: Thresholds
) -> str | None:
    """Why a stored routing breaks the rules, or None. Review decisions are the one allowed override."""
    if route in (Route.REJECTED, Route.FAILED):
        return None
    if reason in (REVIEW_APPROVED, REVIEW_REJECTED):
        return None
    if route == Route.MANUAL_REVIEW and (reason or "").startswith(NO_FIT_REASON):
        return None
    if not is_valid_confidence(confidence):
        return f"{route} with missing or invalid confidence {confidence!r}"
    expected = thresholds.route_for(confidence)
    if expected != route:
        return f"{route} with confidence {confidence:.3f}; the thresholds say {expected.value}"
    return None
