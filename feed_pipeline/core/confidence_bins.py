"""A histogram of routing confidences whose bin edges include the routing thresholds.

Fixed tenths hide what an operator asks of the histogram: how many jobs sit just under the approval line.
With 0.86 inside the 0.8-0.9 bin, approved and manual-review jobs share a bar. Here every threshold is an
edge, so each bin belongs to exactly one route (Thresholds.route_for) and its count is that route's.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from feed_pipeline.core.jobs import Route
from feed_pipeline.core.routing import Thresholds

# Regular edges closer than this to a threshold are dropped, so no sliver bin appears next to a threshold.
_MIN_BIN_WIDTH = 0.03


@dataclass(frozen=True)
class ConfidenceBin:
    low: float
    high: float  # exclusive, except for the last bin, which includes 1.0
    route: Route
    jobs: int

    @property
    def label(self) -> str:
        closing = "]" if self.high >= 1.0 else ")"
        return f"[{self.low:.2f}, {self.high:.2f}{closing}"


def bin_edges(thresholds: Thresholds, step: float = 0.1) -> list[float]:
    """0, the thresholds, 1 and the regular steps between them that are not too close to a threshold."""
    if not 0.0 < step <= 1.0:
        raise ValueError(f"step must be in (0, 1], got {step!r}")
    fixed = sorted({0.0, thresholds.archive_below, thresholds.approve_at, 1.0})
    regular = [round(i * step, 10) for i in range(1, round(1 / step))]
    kept = [edge for edge in regular if all(abs(edge - f) >= _MIN_BIN_WIDTH for f in fixed)]
    return sorted(set(fixed) | set(kept))


class ConfidenceHistogram:
    """Counts confidences into threshold-aligned bins as they stream by (memory: one counter per bin)."""

    def __init__(self, thresholds: Thresholds, step: float = 0.1):
        self.thresholds = thresholds
        self.edges = bin_edges(thresholds, step)
        self.counts = [0] * (len(self.edges) - 1)

    def add(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"a routing confidence must be in [0, 1], got {value!r}")
        self.counts[min(bisect_right(self.edges, value) - 1, len(self.counts) - 1)] += 1

    def bins(self) -> list[ConfidenceBin]:
        """Every bin, low to high, tagged with the route its confidences get."""
        edges = self.edges
        return [ConfidenceBin(low=low, high=high, route=self.thresholds.route_for(low), jobs=count)
                for low, high, count in zip(edges, edges[1:], self.counts, strict=False)]


def confidence_histogram(values: Iterable[float], thresholds: Thresholds, step: float = 0.1) -> list[ConfidenceBin]:
    """Counts of `values` (each in [0, 1]) per bin, each bin tagged with the route its confidences get."""
    histogram = ConfidenceHistogram(thresholds, step)
    for value in values:
        histogram.add(value)
    return histogram.bins()
