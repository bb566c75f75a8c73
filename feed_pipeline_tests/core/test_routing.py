"""Routing rules: exact boundaries, the lower confidence wins, nothing invalid is ever approved, a no-fit
answer goes to manual review."""
import math

import pytest

from feed_pipeline.core.jobs import Route
from feed_pipeline.core.routing import (
    FUNCTION_NO_FIT,
    NO_FIT_REASON,
    REVIEW_APPROVED,
    Thresholds,
    route_enriched_job,
    routing_confidence,
    threshold_violation,
)

T = Thresholds()


def route(industry=0.9, function=0.9, *, status="ok", function_status="ok", taxonomy_valid=True, review=None,
          thresholds=T):
    return route_enriched_job(
        enrichment_status=status, enrichment_error="boom" if status == "failed" else None,
        industry_confidence=industry, function_confidence=function, function_status=function_status,
        function_error="bad" if function_status == "failed" else None, taxonomy_valid=taxonomy_valid,
        thresholds=thresholds, review_decision=review,
    )


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [
        (1.0, Route.APPROVED),
        (0.86, Route.APPROVED),
        (0.8599999, Route.MANUAL_REVIEW),
        (0.5, Route.MANUAL_REVIEW),
        (0.4999999, Route.ARCHIVED),
        (0.0, Route.ARCHIVED),
    ],
)
def test_boundaries_are_exact(confidence, expected):
    assert route(confidence, confidence).route is expected


def test_routing_confidence_is_the_lower_of_the_two():
    decision = route(0.99, 0.6)
    assert decision.route is Route.MANUAL_REVIEW
    assert decision.routing_confidence == 0.6


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -0.1, 1.7])
def test_missing_or_invalid_confidence_is_never_approved(bad):
    assert route(0.95, bad).route is Route.FAILED
    assert route(bad, 0.95).route is Route.FAILED
    assert routing_confidence(bad, 0.95) is None


def test_ai_failures_route_to_failed_with_the_error():
    assert route(status="failed").route is Route.FAILED
    assert "boom" in route(status="failed").reason
    assert route(function_status="failed").route is Route.FAILED


def test_stage_one_archive_skips_stage_two():
    decision = route(0.3, None, status="archived", function_status="skipped")
    assert decision.route is Route.ARCHIVED
    assert decision.routing_confidence == 0.3


def test_answers_outside_the_taxonomy_are_not_approved():
    assert route(0.99, 0.99, taxonomy_valid=False).route is Route.FAILED


def test_review_decisions_override_confidence_but_never_invalid_answers():
    assert route(0.6, 0.6, review="approve").route is Route.APPROVED
    assert route(0.6, 0.6, review="approve").reason == REVIEW_APPROVED
    assert route(0.99, 0.99, review="reject").route is Route.REJECTED
    assert route(0.99, 0.99, taxonomy_valid=False, review="approve").route is Route.FAILED


def test_thresholds_are_configurable_and_validated():
    strict = Thresholds(archive_below=0.6, approve_at=0.95)
    assert route(0.9, 0.9, thresholds=strict).route is Route.MANUAL_REVIEW
    assert route(0.55, 0.55, thresholds=strict).route is Route.ARCHIVED
    with pytest.raises(ValueError, match="archive_below"):
        Thresholds(archive_below=0.9, approve_at=0.5)


def test_threshold_violation_flags_rows_that_break_the_rules():
    assert threshold_violation("approved", 0.7, None, T) is not None
    assert threshold_violation("approved", math.nan, None, T) is not None
    assert threshold_violation("approved", 0.86, None, T) is None
    assert threshold_violation("approved", 0.6, REVIEW_APPROVED, T) is None
    assert threshold_violation("archived", 0.5, None, T) is not None
    assert threshold_violation("rejected", None, "closed", T) is None


@pytest.mark.parametrize(("industry", "function"), [(0.99, 0.99), (0.95, 0.2), (0.6, None)])
def test_a_none_of_these_fits_answer_goes_to_manual_review_whatever_the_confidences(industry, function):
    decision = route(industry, function, function_status=FUNCTION_NO_FIT, taxonomy_valid=False)
    assert decision.route is Route.MANUAL_REVIEW and decision.routing_confidence is None
    assert decision.reason.startswith(NO_FIT_REASON)
    assert threshold_violation(decision.route, decision.routing_confidence, decision.reason, T) is None


def test_a_no_fit_job_can_be_rejected_in_review_but_not_approved_without_a_function():
    assert route(function_status=FUNCTION_NO_FIT, taxonomy_valid=False, review="reject").route is Route.REJECTED
    assert route(function_status=FUNCTION_NO_FIT, taxonomy_valid=False,
                 review="approve").route is Route.MANUAL_REVIEW


def test_the_no_fit_exemption_covers_manual_review_only():
    assert threshold_violation("approved", None, NO_FIT_REASON, T) is not None
    assert threshold_violation("manual_review", None, "routing confidence 0.7", T) is not None
