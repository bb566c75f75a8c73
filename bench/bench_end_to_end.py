"""The whole pipeline on one messy feed, the way a schedule runs it: a first run, an unchanged rerun, a rerun after
1% of the postings changed, and a from-scratch run of the edited feed to prove the incremental result is exact.

    .venv/bin/python bench/bench_end_to_end.py                    # 20k jobs (a couple of minutes)
    .venv/bin/python bench/bench_end_to_end.py --jobs 100000      # the size issue 16's targets are stated for
    .venv/bin/python bench/bench_end_to_end.py --jobs 1000000 --first-only   # 1M: first run wall time and RSS

Each scenario runs `feed_job` through `automation.runner.run_feed` (the CLI's path) on the embedded default: a
fresh SQLite file, the offline classifier and the Xano sandbox, in a worker subprocess so its peak RSS is its own.
The baseline, measured in the same run, is plain lxml `iterparse` (element clearing) over the same file. The
mirror's first sync is set aside in the ratio (one Xano call per approved job is Xano's API, not ours): the
ratio uses the run's wall time minus the `xano_mirror` stage's duration from the execution report.

The 1% edit appends a sentence to the description of 1% of the postings (chosen by a fixed seed). The check
compares, between the incremental rerun and a from-scratch run of the same edited file: every `jobs` row (route,
reason, content and enrichment columns; run ids and timestamps aside) and the Xano copy (records without their
Xano id and timestamps).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from feedgen import feed_chunks  # noqa: E402

DATA_DIR = ROOT / "bench" / ".data"
FEED_ID = "bench_e2e"
EDIT_SHARE = 0.01
VOLATILE_JOB_COLUMNS = {"first_seen_at", "last_seen_at", "updated_at", "last_run_id", "created_at", "search_text"}
VOLATILE_XANO_FIELDS = {"id", "created_at", "updated_at"}


def write_feed(path: Path, jobs: int, *, edited: bool, employers: int = 0) -> Path:
    """The feedgen feed; with `edited`, 1% of the postings get one more sentence in their description."""
    path.parent.mkdir(parents=True, exist_ok=True)
    picker = random.Random(2026)
    with open(path, "w", encoding="utf-8") as handle:
        for piece in feed_chunks(jobs, seed=7, employers=employers):
            if edited and piece.startswith("  <job>") and picker.random() < EDIT_SHARE:
                piece = piece.replace("<description><![CDATA[", "<description><![CDATA[<p>Updated: new benefits.</p>")
            handle.write(piece)
    return path


def iterparse_seconds(path: Path) -> float:
    from lxml import etree

    start = time.perf_counter()
    count = 0
    for _, element in etree.iterparse(str(path), events=("end",), tag="job"):
        count += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildRssSampler:
    """The peak of this process's children's resident memory together (the offline classifier's helpers), sampled
    from /proc every 0.2 s. RUSAGE_CHILDREN would not do: a child counts the parent's pages it was forked with
    before it exec'd the fresh interpreter, so it reports about the parent's size whatever the helper uses."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChildRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(self.interval):
            total = 0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    status = Path(f"/proc/{entry}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if fields.get("PPid", "").strip() == me and "VmRSS" in fields:
                    total += int(fields["VmRSS"].split()[0])
            self.peak_kb = max(self.peak_kb, total)


# --- the worker: runs in its own process ---------------------------------------------------------------------


def _pipeline(workdir: Path):
    import dagster as dg

    from feed_pipeline.definitions import build_definitions
    from feed_pipeline.resources.database import DatabaseResource
    from feed_pipeline.resources.offline_classifier import OfflineClassifierResource
    from feed_pipeline.resources.routing import RoutingResource
    from feed_pipeline.resources.xano import XanoSandboxResource

    db_url = f"sqlite:///{workdir / 'feed_pipeline.sqlite'}"
    xano = XanoSandboxResource(db_path=str(workdir / "xano.sqlite"))
    defs = build_definitions({"database": DatabaseResource(url=db_url), "classifier": OfflineClassifierResource(),
                              "routing": RoutingResource(), "xano": xano})
    instance = dg.DagsterInstance.ephemeral()
    return db_url, xano, defs, instance


def _timed_run(defs, instance, db_url: str) -> dict:
    from feed_pipeline.automation.runner import run_feed
    from feed_pipeline.resources.database import engine_for
    from feed_pipeline.store import reports

    start = time.perf_counter()
    with ChildRssSampler() as children:
        summary = run_feed(defs, instance, FEED_ID, database_url=db_url)
    wall = time.perf_counter() - start
    report = reports.get_report(engine_for(db_url), summary["run_id"]) or {}
    stages = {name: (stage or {}).get("duration_s", 0.0) for name, stage in (report.get("stages") or {}).items()}
    return {"status": summary["status"], "wall_s": round(wall, 2), "stages_s": stages,
            "without_mirror_s": round(wall - stages.get("xano_mirror", 0.0), 2), "counts": summary.get("counts"),
            "mirror": summary.get("mirror"), "peak_rss_mb": round(peak_rss_mb(), 1),
            "helpers_peak_rss_mb": round(children.peak_kb / 1024, 1)}


def _snapshot(db_url: str, xano) -> dict:
    import sqlalchemy as sa

    from feed_pipeline.resources.database import engine_for
    from feed_pipeline.store.schema import jobs

    columns = [c for c in jobs.c if c.name not in VOLATILE_JOB_COLUMNS]
    with engine_for(db_url).connect() as conn:
        rows = conn.execute(sa.select(*columns).where(jobs.c.feed_id == FEED_ID).order_by(jobs.c.job_key)).all()
    with xano.open_client() as client:
        records = sorted(
            json.dumps({k: v for k, v in r.items() if k not in VOLATILE_XANO_FIELDS}, sort_keys=True, default=str)
             for r in client.list_records() if r.get("feed_id") == FEED_ID
        )
    return {"jobs": [json.dumps(list(r), default=str) for r in rows], "xano": records}


def worker(scenario: str, feed: str, edited_feed: str) -> dict:
    from feed_pipeline.resources.database import engine_for
    from feed_pipeline.store import feeds as feed_store

    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp:
        workdir = Path(tmp)
        db_url, xano, defs, instance = _pipeline(workdir)
        engine = engine_for(db_url)
        if scenario == "incremental":
            feed_store.upsert_feed(engine, FEED_ID, url=feed)
            first = _timed_run(defs, instance, db_url)
            unchanged = _timed_run(defs, instance, db_url)
            feed_store.upsert_feed(engine, FEED_ID, url=edited_feed)
            after_edit = _timed_run(defs, instance, db_url)
            return {"first": first, "unchanged": unchanged, "after_edit": after_edit,
                    "snapshot": _snapshot(db_url, xano)}
        feed_store.upsert_feed(engine, FEED_ID, url=edited_feed if scenario == "scratch" else feed)
        return {"first": _timed_run(defs, instance, db_url),
                "snapshot": _snapshot(db_url, xano) if scenario == "scratch" else None}


def measure(scenario: str, feed: Path, edited_feed: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", scenario, str(feed), str(edited_feed)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--first-only", action="store_true", help="only the first run (for 1M)")
    parser.add_argument("--employers", type=int, default=0,
                        help="spread the postings over this many employers (feedgen's default: 10), so title/company "
                             "blocks stay small as in a real feed")
    parser.add_argument("--worker", nargs=3, metavar=("SCENARIO", "FEED", "EDITED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0

    name = f"e2e_{args.jobs}" + (f"_{args.employers}employers" if args.employers else "")
    feed = write_feed(DATA_DIR / f"{name}.xml", args.jobs, edited=False, employers=args.employers)
    edited = write_feed(DATA_DIR / f"{name}_edited.xml", args.jobs, edited=True, employers=args.employers)
    floor = iterparse_seconds(feed)
    print(f"{args.jobs:,} jobs, {feed.stat().st_size / 1e6:.1f} MB; lxml iterparse {floor:.2f} s", file=sys.stderr)
    if args.first_only:
        first = measure("first", feed, edited)["first"]
        print(json.dumps({"jobs": args.jobs, "iterparse_s": round(floor, 2), "first": first,
                          "first_vs_iterparse": round(first["without_mirror_s"] / floor, 1)}, indent=1))
        return 0
    incremental = measure("incremental", feed, edited)
    scratch = measure("scratch", feed, edited)
    first = incremental["first"]["without_mirror_s"]
    result = {
        "jobs": args.jobs,
        "employers": args.employers or 10,
        "iterparse_s": round(floor, 2),
        "first": incremental["first"],
        "unchanged": incremental["unchanged"],
        "after_1pct_edit": incremental["after_edit"],
        "scratch_of_edited": scratch["first"],
        "first_vs_iterparse": round(first / floor, 1),
        "unchanged_share_of_first": round(incremental["unchanged"]["wall_s"] / incremental["first"]["wall_s"], 3),
        "edit_share_of_first": round(incremental["after_edit"]["wall_s"] / incremental["first"]["wall_s"], 3),
        "incremental_equals_scratch": {
            "jobs_rows": incremental["snapshot"]["jobs"] == scratch["snapshot"]["jobs"],
            "xano_copy": incremental["snapshot"]["xano"] == scratch["snapshot"]["xano"],
        },
    }
    print(json.dumps(result, indent=1))
    return 0 if all(result["incremental_equals_scratch"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
