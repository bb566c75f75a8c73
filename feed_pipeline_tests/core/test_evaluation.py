"""core.evaluation on hand-made cases whose figures are worked out by hand in the comments."""
from __future__ import annotations

import pytest

from feed_pipeline.core.evaluation import (
    LabeledRun,
    Outcome,
    Prediction,
    approve_threshold_for,
    approved_at,
    archive_threshold_for,
    is_right,
    label_report,
    label_value,
    outcomes_from_predictions,
    precision_coverage_curve,
    run_label_metadata,
)
from feed_pipeline.core.routing import Thresholds

# label, predicted function, routing confidence, route          right?
CASE = [
    Prediction("k1", "Leasing", "Real Estate", "Leasing", 0.95, "approved"),  # yes
    Prediction("k2", " leasing ", "Real Estate", "Leasing", 0.90, "approved"),  # yes (case, spaces)
    Prediction("k3", "Maintenance", "Real Estate", "Leasing", 0.88, "approved"),  # no
    Prediction("k4", "Maintenance", "Real Estate", "Maintenance", 0.70, "manual_review"),  # yes
    Prediction("k5", "Maintenance", "Manufacturing", None, 0.30, "archived"),  # miss: archived at stage 1
    Prediction("k6", "Porter", "Real Estate", "Maintenance", 0.60, "manual_review"),  # no
    Prediction("k7", "Porter", None, None, None, "failed"),  # miss
    Prediction("k8", "Leasing", "Real Estate", "Leasing", 0.55, "manual_review"),  # yes
]
DEFAULT = Thresholds()


def test_agreement_counts_every_labeled_job_and_jobs_without_a_function_are_misses():
    report = label_report(CASE, DEFAULT)

    assert (report["jobs"], report["correct"], report["agreement"]) == (8, 4, 0.5)
    assert report["routes"] == {"approved": 3, "manual_review": 3, "archived": 1, "failed": 1}


def test_approved_precision_and_coverage_at_the_current_thresholds():
    current = label_report(CASE, DEFAULT)["current"]

    # approved at 0.86: k1, k2 (right), k3 (wrong) -> 2/3 precision, 3 of 8 jobs covered
    assert current == {"archive_below": 0.5, "approve_at": 0.86, "approved": 3, "approved_correct": 2,
                       "approved_precision": 0.6667, "coverage": 0.375, "archive_precision": 1.0}


def test_recommended_approve_at_is_the_lowest_threshold_reaching_the_target_precision():
    recommended = label_report(CASE, DEFAULT, target=0.97)["recommended"]

    # 0.5 -> 4/6, 0.6 -> 3/5, 0.7 -> 3/4, 0.88 -> 2/3, 0.9 -> 2/2: the first to reach 97%
    assert recommended["approve_at"] == {"threshold": 0.9, "approved": 2, "correct": 2, "precision": 1.0,
                                         "coverage": 0.25}
    # below 0.55 only k5 (wrong); below 0.6 k5 and k8 (right): 1/2 wrong is not 97%
    assert recommended["archive_below"] == {"threshold": 0.55, "archived": 1, "wrong": 1, "precision": 1.0}


def test_a_lower_target_gives_a_lower_threshold_and_more_coverage():
    point = approve_threshold_for(outcomes_from_predictions(CASE), target=0.75, floor=0.5)

    assert (point.threshold, point.approved, point.correct, point.coverage) == (0.7, 4, 3, 0.5)


def test_no_threshold_reaches_an_unreachable_target():
    wrong_only = [Outcome("a", False, True, 0.9), Outcome("b", False, True, 0.95)]

    assert approve_threshold_for(wrong_only, target=0.97) is None
    assert label_report(CASE[:1], DEFAULT)["recommended"]["archive_below"] is None  # the only job is right


def test_the_curve_has_one_exact_point_per_confidence_on_the_grid():
    curve = precision_coverage_curve(outcomes_from_predictions(CASE))

    assert [p.threshold for p in curve] == [0.3, 0.55, 0.6, 0.7, 0.88, 0.9, 0.95]
    assert [(p.approved, p.correct) for p in curve] == [(6, 4), (6, 4), (5, 3), (4, 3), (3, 2), (2, 2), (1, 1)]
    assert curve[0].coverage == 0.75


def test_a_confidence_exactly_at_approve_at_is_approved_as_routing_does():
    outcomes = [Outcome("a", True, True, 0.86), Outcome("b", True, True, 0.8599), Outcome("c", True, False, 0.99)]

    point = approved_at(outcomes, DEFAULT.approve_at)

    assert (point.approved, point.correct) == (1, 1)  # c has no function: never approved


def test_archive_threshold_never_exceeds_its_ceiling():
    outcomes = [Outcome("a", False, True, 0.2), Outcome("b", False, True, 0.8)]

    assert archive_threshold_for(outcomes, 0.97, ceiling=0.5).threshold == 0.5
    assert archive_threshold_for(outcomes, 0.97, ceiling=1.0).threshold == 1.0


def test_per_label_support_agreement_and_precision():
    rows = {r["label"]: r for r in label_report(CASE, DEFAULT)["per_label"]}

    assert rows["Leasing"] == {"label": "Leasing", "support": 3, "correct": 3, "agreement": 1.0, "predicted": 4,
                               "precision": 0.75, "recall": 1.0, "approved": 2}
    assert rows["Maintenance"] == {"label": "Maintenance", "support": 3, "correct": 1, "agreement": 0.3333,
                                   "predicted": 2, "precision": 0.5, "recall": 0.3333, "approved": 1}
    assert rows["Porter"]["precision"] is None and rows["Porter"]["support"] == 2


def test_confusion_matrix_lines_up_labels_with_predictions_and_counts_jobs_without_a_function():
    confusion = label_report(CASE, DEFAULT)["confusion"]

    assert confusion["labels"] == ["Leasing", "Maintenance", "Porter"]
    assert confusion["predicted"] == ["Leasing", "Maintenance", "(none)"]
    assert confusion["matrix"] == [[3, 0, 0], [1, 1, 1], [0, 1, 1]]


def test_a_label_map_turns_a_publishers_label_into_a_function_name():
    jobs = [Prediction("a", "Leasing Agent", "Real Estate", "Leasing", 0.9, "approved"),
            Prediction("b", "leasing   agent", "Real Estate", "Maintenance", 0.9, "approved")]

    report = label_report(jobs, DEFAULT, label_map={"LEASING AGENT": "leasing"})

    assert report["correct"] == 1
    assert report["confusion"]["labels"] == ["leasing"]
    assert is_right("Leasing Agent", "Leasing", {"leasing agent": "Leasing"})
    assert not is_right("Leasing Agent", None)


def test_industry_level_compares_the_predicted_industry():
    report = label_report([Prediction("a", "real estate", "Real Estate", None, 0.3, "archived"),
                           Prediction("b", "Real Estate", "Construction", "General Labor", 0.9, "approved")],
                          DEFAULT, level="industry")

    assert (report["level"], report["correct"], report["current"]["approved_correct"]) == ("industry", 1, 0)


def test_label_value_reads_category_or_an_extra_key():
    assert label_value({"category": "  Leasing  Agent ", "extra": {}}, "category") == "Leasing Agent"
    assert label_value({"category": None, "extra": {"function": "Porter"}}, "function") == "Porter"
    assert label_value({"category": "X", "extra": {}}, "function") is None
    assert label_value({"category": "   ", "extra": {}}, "category") is None


def test_run_metadata_shows_agreement_and_approved_precision_only_for_labeled_feeds():
    assert run_label_metadata(None, DEFAULT) == {}
    assert run_label_metadata(LabeledRun("category", ()), DEFAULT) == {}

    figures = run_label_metadata(LabeledRun("category", tuple(CASE)), DEFAULT)

    assert figures == {"label_field": "category", "label_level": "function", "labeled_jobs": 8,
                       "label_agreement": 0.5, "label_approved": 3, "label_approved_coverage": 0.375,
                       "label_approved_precision": 0.6667}


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        label_report(CASE, DEFAULT, level="seniority")
