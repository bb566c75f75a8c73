"""Ingest benchmark: the whole XML reader (loopback HTTP fetch + framing + parse + normalize + identity) against
plain lxml `iterparse` with element clearing over the same file, each in its own subprocess for a clean peak RSS.

    .venv/bin/python bench/bench_ingest.py                          # 100k jobs
    .venv/bin/python bench/bench_ingest.py --sizes 100000 1000000   # and 1M (about 2 GB of XML on disk)

Feeds are generated once into bench/.data/ (git-ignored) by bench/feedgen.py. The reader is also run from the
local file, so the cost of HTTP can be told apart. `run_reader()` is the reusable piece: the lead's end-to-end
benchmark wraps it with the database write.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

DATA_DIR = ROOT / "bench" / ".data"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_reader(url: str, *, feed_id: str = "bench", params: dict | None = None, consume=None) -> dict:
    """Read a whole feed through `open_feed` (forced, so no conditional shortcut) and report counts and timing.

    `consume(job)` is called for every JobRecord (the end-to-end benchmark passes its batched DB writer).
    """
    from feed_pipeline.sources.base import FeedSpec
    from feed_pipeline.sources.registry import open_feed

    started, cpu_started = time.perf_counter(), time.process_time()
    reader = open_feed(FeedSpec(id=feed_id, kind="xml", url=url, params=params or {}), force=True)
    records = 0
    try:
        for job in reader:
            records += 1
            if consume is not None:
                consume(job)
    finally:
        reader.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    outcome = reader.outcome
    rejected = {k: v for k, v in outcome.stats.items() if k.startswith("rejected_")}
    return {"records": records, "seconds": seconds, "cpu_seconds": cpu, "complete": outcome.complete,
            "error": outcome.error, "bytes_read": outcome.bytes_read, "rejected": rejected}


def run_baseline(path: str) -> dict:
    """Plain lxml iterparse over the file, clearing each record and its finished siblings: the floor."""
    from lxml import etree

    started, cpu_started = time.perf_counter(), time.process_time()
    records = 0
    for _, element in etree.iterparse(path, events=("end",), tag="job"):
        records += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return {"records": records, "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started, "complete": True, "error": None}


def worker(kind: str, target: str) -> None:
    result = run_baseline(target) if kind == "baseline" else run_reader(target)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure(kind: str, target: str) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON report."""
    completed = subprocess.run([sys.executable, __file__, "--worker", kind, target], capture_output=True, text=True,
                               check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    """A loopback HTTP server streaming files from `directory` (Content-Length, no compression)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


def ensure_feed(jobs: int) -> Path:
    from feedgen import write_feed

    path = DATA_DIR / f"indeed_{jobs}.xml"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write_feed(path, jobs)
    return path


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("FEED_PIPELINE_ALLOW_PRIVATE_URLS", "1")  # the feed is served on loopback (SSRF guard)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0

    server, base_url = serve(DATA_DIR)
    rows = []
    try:
        for size in args.sizes:
            path = ensure_feed(size)
            baseline = measure("baseline", str(path))
            over_http = measure("reader", f"{base_url}/{path.name}")
            from_file = measure("reader", str(path))
            for name, result in (("lxml iterparse (baseline)", baseline), ("reader over HTTP", over_http),
                                 ("reader from file", from_file)):
                if result["records"] != size or not result["complete"]:
                    raise RuntimeError(f"{name} read {result['records']} of {size} records: {result.get('error')}")
                rows.append((size, name, result, result["records"] / result["cpu_seconds"],
                             baseline["cpu_seconds"] / result["cpu_seconds"]))
            print(f"  rejections at {size:,}: {over_http['rejected']}", file=sys.stderr)
    finally:
        server.shutdown()

    print("Throughput is records per CPU second of the measured process (the machine may be shared; wall time is\n"
          "shown too). 'vs baseline' = reader throughput / lxml iterparse throughput on the same file.")
    print(f"{'jobs':>10} | {'what':<26} | {'wall s':>7} | {'CPU s':>7} | {'records/s':>10} | "
          f"{'vs baseline':>11} | {'peak RSS MB':>11}")
    print("-" * 102)
    for size, name, result, rate, ratio in rows:
        print(f"{size:>10,} | {name:<26} | {result['seconds']:>7.1f} | {result['cpu_seconds']:>7.1f} | "
              f"{rate:>10,.0f} | {ratio:>10.2f}x | {result['peak_rss_mb']:>11.1f}")
    readers = [(size, result["peak_rss_mb"]) for size, name, result, _, _ in rows if name == "reader over HTTP"]
    if len(readers) > 1:
        (small, small_rss), (large, large_rss) = readers[0], readers[-1]
        print(f"reader peak RSS growth {small:,} -> {large:,} jobs: {100 * (large_rss / small_rss - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
