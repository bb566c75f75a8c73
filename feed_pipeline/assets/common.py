"""What every stage asset shares: the partition's feed, timing into the run report, metadata tables."""

import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg

GROUP = "feed_pipeline"


@contextmanager
def stopwatch():
    """Yields a callable returning the seconds elapsed since entry."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def counts_table(counts: Mapping[str, int], label: str = "category") -> dg.MetadataValue:
    return markdown_table([label, "jobs"], sorted(counts.items()))
