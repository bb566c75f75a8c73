"""AI enrichment cost and throughput: our batched, paced Gemini client beside the obvious alternatives.

Runs the real google-genai SDK against the loopback Gemini server (feed_pipeline_tests/fakes/gemini_server.py)
in a separate process, so the client's figures are its own. Job texts are the bundled sample feed's postings,
repeated under fresh job keys, so prompt sizes are realistic.

  1. Calls and tokens per 1,000 jobs, both stages: batched (stage 1 `batch_size`, stage 2
     `function_batch_size`) beside the one-job-per-call baseline; the server answers at once.
  2. Time to enrich N jobs (stage 1) when every call takes `--latency` s and the server allows `--rpm`
     requests per sliding minute: our client paced at the same `--rpm`, beside an unpaced client that
     relies on the server's 429 + retryDelay. Reports the share of the allowed request rate used and the
     number of 429s each client caused.
  Peak memory is the process's maximum RSS (resource.getrusage) after each part.

The "a rerun makes 0 calls" figure comes from the enrichment cache, which the assets own (the classifier never
sees cached jobs); the e2e run reports it as `ai.cache_hits`.

    .venv/bin/python bench/bench_enrichment.py                      # 1,000 jobs; 10,000 jobs at 300 RPM, 300 ms
    .venv/bin/python bench/bench_enrichment.py --jobs 2000 --rpm 120  # a quicker second part
    .venv/bin/python bench/bench_enrichment.py --skip-unpaced        # only our client in part 2
    .venv/bin/python bench/bench_enrichment.py --skip-cost --rpm 50 --window 10   # steady state, time scaled 6x
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import psutil
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feed_pipeline.core.enrichment import (  # noqa: E402
    EnrichmentFailure,
    FunctionInput,
    IndustryInput,
    IndustryResult,
)
from feed_pipeline.core.taxonomy import load_taxonomy  # noqa: E402
from feed_pipeline.core.text import plain_text  # noqa: E402
from feed_pipeline.resources.gemini import GeminiClassifier, GeminiResource  # noqa: E402
from feed_pipeline_tests.fakes.gemini_server import FakeGeminiServer  # noqa: E402

SAMPLE_FEED = ROOT / "feed_pipeline" / "data" / "sample_feed.xml"


# ---------------------------------------------------------------------------------------------- server process
def serve(conn, latency_s: float, rpm: int | None, window_s: float) -> None:
    """Child process: run the fake server and answer "stats" / "reset" / "stop" over the pipe."""
    with FakeGeminiServer(latency_s=latency_s, rpm_limit=rpm, window_s=window_s) as server:
        conn.send((server.base_url, server.api_key))
        while True:
            command = conn.recv()
            if command == "stats":
                conn.send({"calls": server.generate_calls, "rpm_rejections": server.rpm_rejections})
            elif command == "reset":
                server.reset()
                conn.send(True)
            else:
                conn.send(True)
                return


class ServerProcess:
    def __init__(self, latency_s: float = 0.0, rpm: int | None = None, window_s: float = 60.0):
        self._conn, child = mp.Pipe()
        self._process = mp.get_context("spawn").Process(target=serve, args=(child, latency_s, rpm, window_s),
                                                         daemon=True)
        self._process.start()
        self.base_url, self.api_key = self._conn.recv()

    def ask(self, command: str):
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        self.ask("stop")
        self._process.join(timeout=10)


# ---------------------------------------------------------------------------------------------- jobs
def sample_postings() -> list[tuple[str, str, str]]:
    root = etree.parse(str(SAMPLE_FEED), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    return [(job.findtext("title") or "", job.findtext("company") or "", plain_text(job.findtext("description") or ""))
            for job in root.iter("job")]


def industry_jobs(count: int) -> list[IndustryInput]:
    postings = sample_postings()
    return [IndustryInput(f"job-{i}", postings[i % len(postings)][0], postings[i % len(postings)][1],
                          postings[i % len(postings)][2]) for i in range(count)]


def function_jobs(results: list, inputs: list[IndustryInput]) -> dict[str, list[FunctionInput]]:
    """Stage 2 inputs as the asset builds them: stage 1's fields plus the posting's original title and text."""
    original = {job.job_key: job for job in inputs}
    by_industry: dict[str, list[FunctionInput]] = {}
    for r in results:
        if isinstance(r, IndustryResult):
            job = original[r.job_key]
            by_industry.setdefault(r.industry, []).append(
                FunctionInput(r.job_key, r.ai_title, r.ai_description, r.skills, title=job.title,
                              text=job.description))
    return by_industry


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- part 1
def cost_per_1000(server: ServerProcess, jobs: int, batch: int, function_batch: int) -> dict:
    taxonomy = load_taxonomy()
    settings = GeminiResource(api_key=server.api_key, base_url=server.base_url, batch_size=batch,
                              function_batch_size=function_batch, max_concurrency=8, requests_per_minute=None,
                              tokens_per_minute=None)
    inputs = industry_jobs(jobs)
    started = time.perf_counter()
    with GeminiClassifier(settings, taxonomy) as stage1:
        results = [r for b in stage1.classify_industries(inputs) for r in b]
    with GeminiClassifier(settings, taxonomy) as stage2:
        for industry, group in function_jobs(results, inputs).items():
            for _ in stage2.classify_functions(industry, taxonomy.functions_of(industry), group):
                pass
    failures = sum(isinstance(r, EnrichmentFailure) for r in results)
    scale = 1000 / jobs
    return {
        "batch": f"{batch}/{function_batch}",
        "stage1_calls": stage1.usage.calls * scale, "stage1_in": stage1.usage.input_tokens * scale,
        "stage1_out": stage1.usage.output_tokens * scale,
        "stage2_calls": stage2.usage.calls * scale, "stage2_in": stage2.usage.input_tokens * scale,
        "stage2_out": stage2.usage.output_tokens * scale,
        "cost": (stage1.usage.estimated_cost_usd + stage2.usage.estimated_cost_usd) * scale,
        "seconds": time.perf_counter() - started, "failures": failures,
    }


# ---------------------------------------------------------------------------------------------- part 2
def paced_run(jobs: int, latency_s: float, rpm: int, window_s: float, pace: bool, concurrency: int) -> dict:
    server = ServerProcess(latency_s=latency_s, rpm=rpm, window_s=window_s)
    try:
        settings = GeminiResource(api_key=server.api_key, base_url=server.base_url, batch_size=20,
                                  max_concurrency=concurrency, requests_per_minute=rpm if pace else None,
                                  tokens_per_minute=None, rate_window_s=window_s, max_attempts=50,
                                  backoff_initial_s=0.5, backoff_max_s=10.0)
        inputs = industry_jobs(jobs)
        cpu_before = psutil.Process().cpu_times()
        started = time.perf_counter()
        with GeminiClassifier(settings, load_taxonomy()) as classifier:
            results = [r for b in classifier.classify_industries(inputs) for r in b]
        elapsed = time.perf_counter() - started
        cpu_after = psutil.Process().cpu_times()
        stats = server.ask("stats")
    finally:
        server.stop()
    accepted = stats["calls"] - stats["rpm_rejections"]
    allowed = rpm * elapsed / window_s
    return {
        "client": "ours, paced" if pace else "unpaced + 429 retries",
        "seconds": elapsed, "accepted_calls": accepted, "http_calls": stats["calls"],
        "rate_share": accepted / allowed, "client_429s": stats["rpm_rejections"],
        "failures": sum(isinstance(r, EnrichmentFailure) for r in results),
        "cpu_s": (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cost-jobs", type=int, default=1000, help="jobs for part 1")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs for part 2")
    parser.add_argument("--rpm", type=int, default=300, help="server's requests per window (part 2)")
    parser.add_argument("--window", type=float, default=60.0, help="the quota window in seconds (part 2)")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the server adds per call (part 2)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-unpaced", action="store_true", help="skip the unpaced baseline in part 2")
    parser.add_argument("--skip-cost", action="store_true", help="skip part 1")
    args = parser.parse_args()
    if not args.skip_cost:
        print_cost_table(args.cost_jobs)
    print_pacing_table(args)
    return 0


def print_cost_table(cost_jobs: int) -> None:
    print(f"# Part 1: calls and tokens per 1,000 jobs ({cost_jobs} jobs, both stages)")
    server = ServerProcess()
    try:
        rows = [cost_per_1000(server, cost_jobs, 20, 40), cost_per_1000(server, cost_jobs, 1, 1)]
    finally:
        server.stop()
    print("| client | batch s1/s2 | s1 calls | s1 in tok | s1 out tok | s2 calls | s2 in tok | s2 out tok | "
          "est. cost $ | failures | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, row in zip(("ours (batched)", "baseline (1 job/call)"), rows, strict=True):
        print(f"| {name} | {row['batch']} | {row['stage1_calls']:.0f} | {row['stage1_in']:.0f} | "
              f"{row['stage1_out']:.0f} | {row['stage2_calls']:.0f} | {row['stage2_in']:.0f} | "
              f"{row['stage2_out']:.0f} | {row['cost']:.4f} | {row['failures']} | {row['seconds']:.1f} |")
    ours, base = rows
    calls_ratio = (base["stage1_calls"] + base["stage2_calls"]) / (ours["stage1_calls"] + ours["stage2_calls"])
    tokens_ratio = (base["stage1_in"] + base["stage2_in"]) / (ours["stage1_in"] + ours["stage2_in"])
    print(f"\ncalls: {calls_ratio:.1f}x fewer than one job per call (target >= 10x); "
          f"input tokens: {tokens_ratio:.2f}x fewer; peak RSS {peak_rss_mb():.0f} MB\n")


def print_pacing_table(args: argparse.Namespace) -> None:
    print(f"# Part 2: {args.jobs} jobs, stage 1, server +{args.latency * 1000:.0f} ms per call, "
          f"cap {args.rpm} requests per {args.window:g} s sliding window, concurrency {args.concurrency}")
    runs = [paced_run(args.jobs, args.latency, args.rpm, args.window, True, args.concurrency)]
    if not args.skip_unpaced:
        runs.append(paced_run(args.jobs, args.latency, args.rpm, args.window, False, args.concurrency))
    print("| client | wall s | accepted calls | HTTP calls | share of allowed rate | 429s caused | failures | "
          "client CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(f"| {run['client']} | {run['seconds']:.1f} | {run['accepted_calls']} | {run['http_calls']} | "
              f"{run['rate_share']:.1%} | {run['client_429s']} | {run['failures']} | {run['cpu_s']:.1f} |")
    print(f"\npeak RSS {peak_rss_mb():.0f} MB (targets: >= 90% of the allowed rate, 0 429s caused by our client)")


if __name__ == "__main__":
    raise SystemExit(main())
