"""Dedupe benchmark: pass 1 accuracy and speed on labeled feeds, beside a naive difflib baseline.

    .venv/bin/python bench/bench_dedupe.py                 # 100k postings + 1,500-posting baseline sample
    .venv/bin/python bench/bench_dedupe.py --large         # 1M postings (about 3 minutes more)
    .venv/bin/python bench/bench_dedupe.py --sweep         # precision/recall per threshold on 20k postings

Feeds come from bench/dedupe_labeled.py, group by group (memory stays flat as in the pipeline, which
streams raw_jobs ordered by block_key). Inside a group, postings are grouped in memory by
`block_key` and each block goes through `merge_block`. Accuracy is pairwise: precision = pairs put
together that are one role / pairs put together; recall = pairs of one role put together / pairs of
one role. The baseline is the obvious implementation: the same blocks, `difflib.SequenceMatcher`
ratio over every pair of descriptions, connected components; it runs on a sample small enough for it
(groups of at most 60 postings from another seed), and ours runs on the same sample for the ratio.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedupe_labeled import LabeledFeedGenerator, LabeledPosting

from feed_pipeline.core.dedupe import DedupeConfig, DedupeStats, assign_dedupe_keys, merge_block


def pairs(count: int) -> int:
    return count * (count - 1) // 2


@dataclass
class PairAccuracy:
    """Pairwise precision and recall, from contingency counts (no pair is ever listed)."""

    predicted: int = 0
    actual: int = 0
    correct: int = 0

    def add(self, clusters: Iterable[Sequence[str]], role_of: dict[str, str]) -> None:
        """One group's predicted clusters (member keys) against the true roles of its postings."""
        for cluster in clusters:
            self.predicted += pairs(len(cluster))
            self.correct += sum(pairs(n) for n in Counter(role_of[key] for key in cluster).values())
        self.actual += sum(pairs(n) for n in Counter(role_of.values()).values())

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.actual if self.actual else 1.0


@dataclass
class RunResult:
    postings: int = 0
    keying_s: float = 0.0
    merge_s: float = 0.0
    merge_cpu_s: float = 0.0  # CPU time of this process: what the code costs when the machine is shared
    accuracy: PairAccuracy = field(default_factory=PairAccuracy)
    stats: DedupeStats = field(default_factory=DedupeStats)
    blocks_across_groups: int = 0
    all_pairs: int = 0  # what the naive baseline would have to score on the same blocks


def blocks_of(postings: Sequence[LabeledPosting]) -> tuple[list[list], float]:
    """The group's postings grouped by block_key (keys filled here, as ingest does), and the time it took."""
    started = time.perf_counter()
    by_block: dict[str, list] = defaultdict(list)
    for posting in postings:
        job = assign_dedupe_keys(posting.job)
        by_block[job.block_key].append(job)
    return list(by_block.values()), time.perf_counter() - started


def run_ours(groups: Iterable[list[LabeledPosting]], config: DedupeConfig) -> RunResult:
    result = RunResult()
    seen_blocks: set[str] = set()
    for postings in groups:
        result.postings += len(postings)
        blocks, keying = blocks_of(postings)
        result.keying_s += keying
        role_of = {posting.job.job_key: posting.role for posting in postings}
        clusters = []
        started, started_cpu = time.perf_counter(), time.process_time()
        for block in blocks:
            merged = merge_block(block, config, stats=result.stats)
            clusters.extend(job.member_keys for job in merged)
        result.merge_s += time.perf_counter() - started
        result.merge_cpu_s += time.process_time() - started_cpu
        for block in blocks:
            result.all_pairs += pairs(len(block))
            key = block[0].block_key
            result.blocks_across_groups += key in seen_blocks
            seen_blocks.add(key)
        result.accuracy.add(clusters, role_of)
    return result


def naive_clusters(block: Sequence, threshold: float) -> list[list[str]]:
    """Every pair of the block through difflib, connected components of the pairs at the threshold."""
    parent = list(range(len(block)))

    def find(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    texts = [job.description.casefold() for job in block]
    for first in range(len(block)):
        for second in range(first + 1, len(block)):
            if difflib.SequenceMatcher(None, texts[first], texts[second]).ratio() >= threshold:
                parent[find(second)] = find(first)
    groups: dict[int, list[str]] = defaultdict(list)
    for index, job in enumerate(block):
        groups[find(index)].append(job.job_key)
    return list(groups.values())


def baseline_sample(seed: int, size: int, max_group: int = 60) -> list[list[LabeledPosting]]:
    generator = LabeledFeedGenerator(seed=seed, huge_every=10**12)
    sample, total = [], 0
    for postings in generator.groups(size * 50):
        if len(postings) > max_group:
            continue
        sample.append(postings)
        total += len(postings)
        if total >= size:
            break
    return sample


def run_baseline(sample: list[list[LabeledPosting]], threshold: float) -> tuple[float, PairAccuracy, int]:
    accuracy = PairAccuracy()
    elapsed = 0.0
    comparisons = 0
    for postings in sample:
        blocks, _ = blocks_of(postings)
        started = time.perf_counter()
        clusters = []
        for block in blocks:
            clusters.extend(naive_clusters(block, threshold))
            comparisons += pairs(len(block))
        elapsed += time.perf_counter() - started
        accuracy.add(clusters, {p.job.job_key: p.role for p in postings})
    return elapsed, accuracy, comparisons


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description="pass 1 dedupe benchmark")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="also run 1,000,000 postings")
    parser.add_argument("--sample", type=int, default=1500, help="postings in the difflib baseline sample")
    parser.add_argument("--sweep", action="store_true", help="precision/recall per threshold on 20k postings")
    parser.add_argument("--threshold", type=float, default=DedupeConfig().similarity_threshold)
    parser.add_argument("--chunk", type=int, default=DedupeConfig().max_block_chunk)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--huge-every",
        type=int,
        default=40_000,
        help="one 2,000-4,000 posting single-title group per this many postings",
    )
    args = parser.parse_args()
    config = DedupeConfig(similarity_threshold=args.threshold, max_block_chunk=args.chunk)
    report: dict = {
        "config": {"similarity_threshold": config.similarity_threshold, "max_block_chunk": config.max_block_chunk}
    }
    print(f"config: threshold={config.similarity_threshold} max_block_chunk={config.max_block_chunk}")

    if args.sweep:
        print("\nthreshold sweep on 20,000 postings (seed", args.seed, ")")
        for threshold in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
            swept = run_ours(
                LabeledFeedGenerator(seed=args.seed).groups(20_000),
                DedupeConfig(similarity_threshold=threshold, max_block_chunk=args.chunk),
            )
            print(
                f"  {threshold:.2f}: precision {swept.accuracy.precision:.4f}  recall {swept.accuracy.recall:.4f}"
                f"  merge {swept.merge_s:.2f} s"
            )

    sample = baseline_sample(args.seed + 1, args.sample)
    sample_size = sum(len(group) for group in sample)
    ours_sample = run_ours(sample, config)
    naive_s, naive_accuracy, naive_pairs = run_baseline(sample, config.similarity_threshold)
    print(f"\nbaseline sample: {sample_size} postings in {len(sample)} groups, {naive_pairs} description pairs")
    print(
        f"  difflib all pairs : {naive_s:8.2f} s  precision {naive_accuracy.precision:.4f}"
        f"  recall {naive_accuracy.recall:.4f}"
    )
    print(
        f"  merge_block       : {ours_sample.merge_s:8.3f} s  precision {ours_sample.accuracy.precision:.4f}"
        f"  recall {ours_sample.accuracy.recall:.4f}  ({naive_s / ours_sample.merge_s:.0f}x faster)"
    )
    report["baseline_sample"] = {
        "postings": sample_size,
        "difflib_s": round(naive_s, 2),
        "ours_s": round(ours_sample.merge_s, 3),
        "speedup": round(naive_s / ours_sample.merge_s, 1),
        "difflib_precision": round(naive_accuracy.precision, 4),
        "difflib_recall": round(naive_accuracy.recall, 4),
        "ours_precision": round(ours_sample.accuracy.precision, 4),
        "ours_recall": round(ours_sample.accuracy.recall, 4),
    }

    sizes = [args.jobs] + ([1_000_000] if args.large else [])
    for size in sizes:
        rss_before = psutil.Process().memory_info().rss / 2**20
        result = run_ours(LabeledFeedGenerator(seed=args.seed, huge_every=args.huge_every).groups(size), config)
        meta = result.stats.as_metadata()
        total = result.keying_s + result.merge_s
        print(
            f"\n{result.postings} postings: assign_dedupe_keys {result.keying_s:.2f} s"
            f" + merge_block {result.merge_s:.2f} s = {total:.2f} s wall ({result.postings / total:,.0f} postings/s);"
            f" merge_block CPU"
            f" {result.merge_cpu_s:.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print(
            f"  precision {result.accuracy.precision:.4f}  recall {result.accuracy.recall:.4f}"
            f"  (pairs: {result.accuracy.actual:,} true, {result.accuracy.predicted:,} predicted)"
        )
        print(
            f"  duplicate rate {meta['duplicate_rate']:.3f}, {meta['output_jobs']} jobs, {meta['merged_groups']} merged"
            f" groups, largest group {meta['largest_group']}, largest block {meta['largest_block']},"
            f" windowed blocks {meta['windowed_blocks']}, {meta['comparisons']:,} comparisons"
        )
        print(f"  blocks spanning generator groups: {result.blocks_across_groups}")
        naive_estimate = result.all_pairs * naive_s / naive_pairs
        print(
            f"  difflib over all pairs of these blocks: {result.all_pairs:,} pairs, about {naive_estimate / 3600:.1f} h"
            f" at the sample's {naive_s / naive_pairs * 1000:.1f} ms/pair ({naive_estimate / result.merge_s:,.0f}x)"
        )
        print(
            f"  RSS before {rss_before:.0f} MB, now {psutil.Process().memory_info().rss / 2**20:.0f} MB,"
            f" peak {peak_rss_mb():.0f} MB (process, generation included)"
        )
        report[str(size)] = {
            "assign_dedupe_keys_s": round(result.keying_s, 2),
            "merge_s": round(result.merge_s, 2),
            "merge_cpu_s": round(result.merge_cpu_s, 2),
            "naive_pairs": result.all_pairs,
            "naive_estimate_s": round(result.all_pairs * naive_s / naive_pairs),
            "precision": round(result.accuracy.precision, 4),
            "recall": round(result.accuracy.recall, 4),
            "peak_rss_mb": round(peak_rss_mb()),
            "stats": meta,
        }
    print("\n" + json.dumps(report))


if __name__ == "__main__":
    main()
