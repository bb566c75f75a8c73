"""Job API sources: what normalizing, filtering and keying postings costs over just fetching the pages, and
whether memory stays flat as a read grows.

For Adzuna (pages of 50) and JSearch (requests of 10 pages x 10), a loopback server generates the pages on the
fly (its memory does not grow with N) and the source reads N postings with pacing off:
  - baseline: the same requests through HttpFetcher.get_json, JSON parsed, nothing else (the HTTP+JSON floor);
  - ours, role filter off (`role_filter: none`): every posting normalized and keyed;
  - ours, default `backend_devops` filter (half the generated titles match).
Each is timed (best of `--repeat`), and the peak RSS growth of each read is sampled with psutil (every 2 ms)
at N and at 5 x N, so a read that held the whole feed would show it. RemoteOK has no paging (one list of
~100 jobs), so it is timed at its real size only.

    .venv/bin/python bench/bench_job_apis.py                    # N=2,000 postings per source (10,000 for memory)
    .venv/bin/python bench/bench_job_apis.py --n 5000 --large-factor 2   # larger (the sources cap pages at 1,000)
"""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feed_pipeline.sources.adzuna import AdzunaReader, search_path
from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.http_fetch import HttpFetcher
from feed_pipeline.sources.jsearch import JSearchReader
from feed_pipeline.sources.remoteok import RemoteOkReader
from feed_pipeline_tests.fakes.job_api_servers import (
    REMOTEOK_LEGAL,
    FakeRemoteOK,
    JobApiServer,
    RecordedRequest,
    adzuna_job,
    jsearch_job,
    remoteok_job,
)

TITLES = ("Senior Backend Engineer", "Registered Nurse", "DevOps Engineer", "Account Executive")
DESCRIPTION = ("We build payment services used by thousands of merchants. You will design, build and run Go "
               "services on Kubernetes, review code and mentor engineers. ") * 12  # ~2 KB, a typical posting
FAST = {"requests_per_minute": 6_000_000}


class GeneratedAdzuna(JobApiServer):
    """Adzuna search pages of `total` postings, generated per request."""

    def __init__(self, total: int):
        super().__init__()
        self.total = total

    def answer(self, request: RecordedRequest):
        page = int(request.path.rsplit("/", 1)[1])
        per_page = int(request.query.get("results_per_page", "50"))
        start = (page - 1) * per_page
        results = [adzuna_job(str(i), f"{TITLES[i % 4]} {i}", f"Company {i % 97}", description=DESCRIPTION[:500])
                   for i in range(start, min(start + per_page, self.total))]
        self.requests.clear()  # keep the server's own memory flat
        return 200, {"count": self.total, "mean": 100000, "results": results}, {}


class GeneratedJSearch(JobApiServer):
    """JSearch pages (10 postings each) of `total` postings, generated per request."""

    def __init__(self, total: int):
        super().__init__()
        self.total = total

    def answer(self, request: RecordedRequest):
        page, num_pages = int(request.query["page"]), int(request.query["num_pages"])
        start = (page - 1) * 10
        data = [jsearch_job(f"j{i}", f"{TITLES[i % 4]} {i}", f"Company {i % 97}", description=DESCRIPTION)
                for i in range(start, min(start + num_pages * 10, self.total))]
        self.requests.clear()
        return 200, {"status": "OK", "request_id": "bench", "parameters": {}, "data": data}, {}


class PeakRss:
    """Samples this process's RSS in a thread; `growth` is the peak above the RSS at start, in MiB."""

    def __init__(self, interval_s: float = 0.002):
        self._process = psutil.Process()
        self._interval = interval_s
        self._stop = threading.Event()
        self.start_rss = 0
        self.peak_rss = 0

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.start_rss = self.peak_rss = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)
            time.sleep(self._interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    @property
    def growth_mib(self) -> float:
        return (self.peak_rss - self.start_rss) / 2**20


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - started)
    return best, count


def read_with(reader_factory: Callable[[], object]) -> int:
    reader = reader_factory()
    count = sum(1 for _ in reader)
    reader.close()
    return count


def adzuna_cases(server: GeneratedAdzuna, fetcher: HttpFetcher, n: int):
    env = {"ADZUNA_BASE_URL": server.base_url, "ADZUNA_APP_ID": "id", "ADZUNA_APP_KEY": "key"}
    pages = -(-n // 50)

    def baseline() -> int:
        count = 0
        for page in range(1, pages + 1):
            data = fetcher.get_json(server.base_url + search_path("us", page),
                                    params={"app_id": "id", "app_key": "key", "results_per_page": 50})
            count += len(data["results"])
        return count

    def ours(role_filter: str | None) -> Callable[[], int]:
        params = {"pages": pages, **FAST, **({"role_filter": role_filter} if role_filter else {})}
        return lambda: read_with(lambda: AdzunaReader(FeedSpec("bench", "adzuna", None, params), fetcher=fetcher,
                                                      env=env))

    return baseline, ours


def jsearch_cases(server: GeneratedJSearch, fetcher: HttpFetcher, n: int):
    env = {"JSEARCH_BASE_URL": server.base_url, "RAPIDAPI_KEY": "key"}
    pages = -(-n // 10)

    def baseline() -> int:
        count = 0
        for page in range(1, pages + 1, 10):
            data = fetcher.get_json(server.base_url + "/search",
                                    params={"query": "x", "page": page, "num_pages": min(10, pages - page + 1)},
                                    headers={"X-RapidAPI-Key": "key"})
            count += len(data["data"])
        return count

    def ours(role_filter: str | None) -> Callable[[], int]:
        params = {"pages": pages, "pages_per_request": 10, **FAST,
                  **({"role_filter": role_filter} if role_filter else {})}
        return lambda: read_with(lambda: JSearchReader(FeedSpec("bench", "jsearch", None, params), fetcher=fetcher,
                                                       env=env))

    return baseline, ours


def bench_source(name: str, server_cls, cases, n: int, large: int, repeat: int) -> list[str]:
    rows = []
    with HttpFetcher() as fetcher:
        with server_cls(n) as server:
            baseline, ours = cases(server, fetcher, n)
            base_s, base_count = timed(baseline, repeat)
            off_s, off_count = timed(ours("none"), repeat)
            on_s, on_count = timed(ours(None), repeat)
            assert base_count == off_count == n, (base_count, off_count, n)
            rows.append(f"| {name} | {n:,} | {base_s:.2f} | {off_s:.2f} ({n / off_s:,.0f}/s) | {off_s / base_s:.2f}x "
                        f"| {on_s:.2f} ({on_count:,} kept) | {on_s / base_s:.2f}x |")
        memory = []
        for size in (n, large):
            with server_cls(size) as server:
                baseline, ours = cases(server, fetcher, size)
                with PeakRss() as base_peak:
                    baseline()
                with PeakRss() as ours_peak:
                    assert ours("none")() == size
                memory.append((size, base_peak.growth_mib, ours_peak.growth_mib))
    mem = "; ".join(f"{size:,} postings: baseline +{b:.1f} MiB, ours +{o:.1f} MiB" for size, b, o in memory)
    return rows, f"- {name}: peak RSS growth during one read: {mem}"


def bench_remoteok(repeat: int) -> str:
    jobs = [remoteok_job(str(i), f"{TITLES[i % 4]} {i}", f"Company {i}", tags=["dev"], description=DESCRIPTION)
            for i in range(100)]
    with HttpFetcher() as fetcher, FakeRemoteOK(jobs) as server:
        env = {"REMOTEOK_BASE_URL": server.base_url}
        base_s, _ = timed(lambda: len(fetcher.get_json(server.base_url + "/api")), repeat)
        ours_s, count = timed(lambda: read_with(lambda: RemoteOkReader(
            FeedSpec("bench", "remoteok", None, {"role_filter": "none", **FAST}), fetcher=fetcher, env=env)), repeat)
    assert count == 100 and REMOTEOK_LEGAL
    return (f"- remoteok: one answer of 100 jobs (+ the legal element): baseline {base_s * 1000:.1f} ms, ours "
            f"{ours_s * 1000:.1f} ms ({ours_s / base_s:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2_000, help="postings per source for the timing (default 2,000)")
    parser.add_argument("--large-factor", type=int, default=5, help="memory check also at n x this (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per case; the best counts (default 3)")
    args = parser.parse_args()
    large = args.n * args.large_factor

    print(f"postings per source: {args.n:,} (memory also at {large:,}); best of {args.repeat}; loopback, pacing off")
    print()
    print("| source | postings | baseline s (fetch + JSON) | ours s, filter off | ratio | ours s, backend_devops "
          "| ratio |")
    print("|---|---|---|---|---|---|---|")
    notes = []
    for name, server_cls, cases in (("adzuna", GeneratedAdzuna, adzuna_cases),
                                    ("jsearch", GeneratedJSearch, jsearch_cases)):
        rows, memory = bench_source(name, server_cls, cases, args.n, large, args.repeat)
        print("\n".join(rows))
        notes.append(memory)
    print()
    print("\n".join(notes))
    print(bench_remoteok(args.repeat))
    print(f"- process peak RSS (getrusage): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
