"""Offline classification quality and speed on the shipped labeled set (feed_pipeline/data/labeled).

For each board, on the dev split (what the calibration was fit on) and the held-out split (never used for
fitting or tuning) separately, the keyword classifier and the semantic classifier side by side, both stages
as the assets run them (stage 2 only for jobs stage 1 did not archive; an archived job counts as a miss):
function agreement (industry and function both right), industry agreement, and the approved jobs' precision
and coverage at the routing thresholds (archive < 0.5, approve >= 0.86). Then throughput (jobs/s, both stages,
one core: BLAS threads pinned to 1) and peak memory, each classifier in its own process.

`--perturb` also measures the semantic classifier on the held-out postings changed four ways a real feed
changes them (the labels unchanged): title only (no description), the description cut to its first 200
characters, a company paragraph appended that names three other functions of the board ("we hire across our
Leasing, Maintenance and Corporate teams"), and requisition codes, schedule and place noise in the title.

`--alternatives` also measures, on function agreement given the true industry, the alternatives the
semantic classifier was chosen over: TF-IDF nearest label (scikit-learn, over names + descriptions +
keywords), embeddings only, phrases only.

    .venv/bin/python bench/bench_classification.py                   # all boards, both splits, speed
    .venv/bin/python bench/bench_classification.py --alternatives    # plus the alternatives table
    .venv/bin/python bench/bench_classification.py --perturb --skip-speed   # plus the changed held-out postings
    .venv/bin/python bench/bench_classification.py --boards pm_board --speed-jobs 2000
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")  # the tokenizers crate

import argparse
import dataclasses
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feed_pipeline.core.keyword_classifier import KeywordClassifier  # noqa: E402
from feed_pipeline.core.text import plain_text  # noqa: E402
from feed_pipeline.labeled_set import board_names, classify_jobs, load_board, summarize  # noqa: E402
from feed_pipeline.resources.offline_classifier import semantic_classifier  # noqa: E402

VARIANTS = {"pm_board_names_only": ("pm_board", "taxonomies/pm_board_names_only.json")}


def make(method: str, taxonomy):
    return KeywordClassifier(taxonomy) if method == "keyword" else semantic_classifier(taxonomy)


def quality(boards: list[str]) -> list[dict]:
    rows = []
    for name in boards:
        base, taxonomy_file = VARIANTS.get(name, (name, None))
        board = load_board(base, taxonomy_file=taxonomy_file)
        for split in ("dev", "heldout"):
            jobs = board.split(split)
            for method in ("keyword", "semantic"):
                summary = summarize(classify_jobs(make(method, board.taxonomy), board.taxonomy, jobs))
                rows.append({"board": name, "split": split, "method": method, **summary})
    return rows


def _boilerplate(job, taxonomy, picker: random.Random) -> str:
    others = [f for f in taxonomy.functions_of(job.industry) if f != job.function]
    named = picker.sample(others, min(3, len(others)))
    if not named:
        return job.description
    teams = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return (f"{job.description}<p>About {job.company}: we hire across our {teams} teams, and every team member "
            "shares our values of service and integrity.</p>")


PERTURBATIONS = {
    "as is": lambda job, taxonomy, picker: job,
    "title only": lambda job, taxonomy, picker: dataclasses.replace(job, description=""),
    "first 200 characters": lambda job, taxonomy, picker: dataclasses.replace(
        job, description=plain_text(job.description)[:200]),
    "company paragraph naming 3 other functions": lambda job, taxonomy, picker: dataclasses.replace(
        job, description=_boilerplate(job, taxonomy, picker)),
    "noisy title": lambda job, taxonomy, picker: dataclasses.replace(
        job, title=f"NOW HIRING: {job.title} - Req #{picker.randint(10000, 99999)} (Full-Time) | {job.location}"),
}


def perturbed(boards: list[str]) -> list[dict]:
    """The semantic classifier on each board's held-out postings, changed as PERTURBATIONS say (seeded)."""
    rows = []
    for name in boards:
        base, taxonomy_file = VARIANTS.get(name, (name, None))
        board = load_board(base, taxonomy_file=taxonomy_file)
        classifier = make("semantic", board.taxonomy)
        for label, change in PERTURBATIONS.items():
            picker = random.Random(13)
            jobs = [change(job, board.taxonomy, picker) for job in board.split("heldout")]
            summary = summarize(classify_jobs(classifier, board.taxonomy, jobs))
            rows.append({"board": name, "split": f"heldout: {label}", "method": "semantic", **summary})
    return rows


def _speed_child(method: str, jobs_wanted: int, conn) -> None:
    board = load_board("pm_board")
    general = load_board("general_board")
    jobs = [*board.jobs, *general.jobs]
    jobs = (jobs * (jobs_wanted // len(jobs) + 1))[:jobs_wanted]
    results = {}
    for label, b in (("pm_board taxonomy", board), ("bundled taxonomy", general)):
        clf = make(method, b.taxonomy)
        # Warm: stage 2 builds an industry's index on first use, once per process; a feed run pays it once, so
        # one job of every industry the set has (and the first 50) are classified before the clock starts.
        warm = {j.industry: j for j in jobs}
        classify_jobs(clf, b.taxonomy, [*jobs[:50], *warm.values()])
        start_cpu, start = time.process_time(), time.perf_counter()
        classify_jobs(clf, b.taxonomy, jobs)
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        results[label] = {"jobs": len(jobs), "jobs_per_s_wall": round(len(jobs) / wall),
                          "jobs_per_s_cpu": round(len(jobs) / cpu)}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    conn.send(results)


def speed(jobs_wanted: int) -> dict:
    out = {}
    ctx = mp.get_context("spawn")
    for method in ("keyword", "semantic"):
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_speed_child, args=(method, jobs_wanted, child))
        process.start()
        out[method] = parent.recv()
        process.join()
    return out


def alternatives(boards: list[str]) -> list[dict]:
    """Function agreement given the true industry, dev and held-out together (nothing here is fitted on it,
    apart from the TF-IDF vocabulary, which is fitted on the taxonomy's own words)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from feed_pipeline.core.embeddings import load_wordllama
    from feed_pipeline.core.enrichment import FunctionInput
    from feed_pipeline.core.semantic_classifier import WEIGHTS, SemanticClassifier, _document
    from feed_pipeline.core.taxonomy import load_taxonomy

    embedder, reference = load_wordllama(), load_taxonomy()
    variants = {
        "semantic (phrases + embeddings)": dict(WEIGHTS),
        "embeddings only": {"title_lex": 0.0, "text_lex": 0.0, "title_sem": 1.5, "text_sem": 1.0},
        "phrases only": {"title_lex": 1.0, "text_lex": 0.35, "title_sem": 0.0, "text_sem": 0.0},
    }
    rows = []
    for name in boards:
        base, taxonomy_file = VARIANTS.get(name, (name, None))
        board = load_board(base, taxonomy_file=taxonomy_file)
        tax = board.taxonomy
        jobs = [j for j in board.jobs if tax.has_industry(j.industry)]
        row = {"board": name, "jobs": len(jobs)}
        for label, weights in variants.items():
            for borrow in (True, False):
                clf = SemanticClassifier(tax, embedder, None, reference=reference if borrow else None, weights=weights)
                right = 0
                for job in jobs:
                    (d,) = clf.function_decisions(job.industry, tax.functions_of(job.industry), [
                        FunctionInput(job.id, "", "", (), title=job.title, text=job.description)])
                    right += d.label == job.function
                row[f"{label}{'' if borrow else ', no reference'}"] = round(right / len(jobs), 4)
        right = 0
        for industry, functions in tax.industries.items():
            docs = [_document(tax, (industry, f)) for f in functions]
            mine = [j for j in jobs if j.industry == industry]
            if not mine:
                continue
            vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(docs)
            labels = vectorizer.transform(docs)
            queries = vectorizer.transform([f"{j.title} {j.title} {j.title} {j.description}" for j in mine])
            best = np.asarray((queries @ labels.T).todense()).argmax(axis=1)
            right += sum(functions[int(b)] == j.function for b, j in zip(best, mine, strict=True))
        row["tf-idf nearest label"] = round(right / len(jobs), 4)
        keyword = KeywordClassifier(tax)
        right = 0
        for job in jobs:
            r = keyword.classify_function(job.industry, tax.functions_of(job.industry),
                                          FunctionInput(job.id, job.title, job.description))
            right += r.job_function == job.function
        row["keyword scorer"] = round(right / len(jobs), 4)
        rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| board | split | method | jobs | function agreement | industry agreement | approved precision "
             "| approved coverage | archived |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['board']} | {r['split']} | {r['method']} | {r['jobs']} | {r['function_agreement']:.1%} | "
                     f"{r['industry_agreement']:.1%} | "
                     f"{'-' if r['approved_precision'] is None else format(r['approved_precision'], '.1%')} | "
                     f"{r['approved_coverage']:.1%} | {r['archived']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", nargs="*", default=[*board_names(), *VARIANTS])
    parser.add_argument("--speed-jobs", type=int, default=5000, help="jobs per speed run (repeats the set)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--perturb", action="store_true", help="also the held-out postings changed four ways")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = parser.parse_args()
    rows = quality(args.boards)
    report = {"quality": rows}
    if args.perturb:
        report["perturbed"] = perturbed(args.boards)
    if not args.skip_speed:
        report["speed"] = speed(args.speed_jobs)
    if args.alternatives:
        report["alternatives"] = alternatives(args.boards)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(markdown(rows))
    if "perturbed" in report:
        print("\nheld-out postings changed (semantic classifier, same labels):\n")
        print(markdown(report["perturbed"]))
    if "speed" in report:
        print("\nspeed (both stages, one core):")
        for method, figures in report["speed"].items():
            print(f"  {method}: {json.dumps(figures)}")
    if "alternatives" in report:
        print("\nfunction agreement given the true industry (dev + held-out):")
        for row in report["alternatives"]:
            print(f"  {json.dumps(row)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
