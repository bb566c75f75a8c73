"""The confidence histogram: thresholds are bin edges, so every bin is one route's."""
from __future__ import annotations

import itertools

import pytest

from feed_pipeline.core.confidence_bins import bin_edges, confidence_histogram
from feed_pipeline.core.jobs import Route
from feed_pipeline.core.routing import Thresholds

DEFAULT = Thresholds(archive_below=0.5, approve_at=0.86)


def test_the_thresholds_are_edges_and_no_sliver_bin_sits_next_to_them():
    edges = bin_edges(DEFAULT)
    assert 0.5 in edges and 0.86 in edges and edges[0] == 0.0 and edges[-1] == 1.0
    assert min(b - a for a, b in itertools.pairwise(edges)) >= 0.03


def test_each_bin_holds_one_route_and_the_counts_are_that_routes():
    values = [0.1, 0.49, 0.5, 0.7, 0.859, 0.86, 0.95, 1.0]
    bins = confidence_histogram(values, DEFAULT)
    per_route: dict[Route, int] = {}
    for b in bins:
        per_route[b.route] = per_route.get(b.route, 0) + b.jobs
    assert per_route == {Route.ARCHIVED: 2, Route.MANUAL_REVIEW: 3, Route.APPROVED: 3}
    assert {DEFAULT.route_for(v) for v in values} == set(per_route)
    approve_bin = next(b for b in bins if b.low == 0.86)
    assert approve_bin.route is Route.APPROVED and approve_bin.label.startswith("[0.86")
    assert bins[-1].label.endswith("1.00]") and bins[-1].jobs >= 1


def test_configured_thresholds_move_the_edges():
    edges = bin_edges(Thresholds(archive_below=0.42, approve_at=0.78))
    assert 0.42 in edges and 0.78 in edges and 0.4 not in edges and 0.8 not in edges


def test_a_confidence_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        confidence_histogram([1.2], DEFAULT)
