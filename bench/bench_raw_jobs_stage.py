"""The whole `raw_jobs` stage (loopback HTTP fetch, parse, normalize, dedupe keys, write to SQLite and PostgreSQL)
against plain lxml `iterparse` with element clearing over the same file, each in its own subprocess for a clean
peak RSS.

    .venv/bin/python bench/bench_raw_jobs_stage.py                          # 100k jobs, both databases
    .venv/bin/python bench/bench_raw_jobs_stage.py --sizes 100000 1000000   # and 1M (about 2 GB of XML)
    .venv/bin/python bench/bench_raw_jobs_stage.py --databases sqlite       # one database only

The stage is composed exactly as `feed_pipeline/assets/ingest.py` runs it, without Dagster around it:
`open_feed(...)` (forced) streams JobRecords, each one not rejected gets `assign_dedupe_keys`, and
`stages.replace_raw_jobs(engine, feed_id, records)` writes them in one transaction, in batches of 1000, into an
engine from `db.engine_for(url)` (migrated before the clock starts). SQLite gets a fresh file in bench/.data/;
PostgreSQL a throwaway database on --pg-server, dropped afterwards. Feeds, the loopback server, the baseline
and the RSS probe come from bench_ingest.py. (`bench_ingest.run_reader` pushes records to a callback, while
`replace_raw_jobs` pulls from an iterable, so the stage drives the reader itself here.)

The write's share: the record generator handed to `replace_raw_jobs` clocks the time spent inside itself
(reader + dedupe keys); everything else in the stage (row building, INSERT ... ON CONFLICT, the DELETE before
and the COMMIT after) is the write. Those clocks cost about 3.5 us per record, booked to the reader side.
For PostgreSQL the server's work runs in its backend process: its CPU is shown apart (psutil on the
`postgres` processes serving the throwaway database) and is not in the stage's CPU column.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench_ingest import DATA_DIR, ensure_feed, peak_rss_mb, run_baseline, serve  # noqa: E402

DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
FEED_ID = "bench"


class TimedRecords:
    """Iterates the reader, assigns dedupe keys like the asset does, and clocks the time spent inside itself."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.records = 0
        self.wall = 0.0
        self.cpu = 0.0

    def __iter__(self):
        from feed_pipeline.core.dedupe import assign_dedupe_keys

        perf_counter, process_time = time.perf_counter, time.process_time
        jobs = iter(self.reader)
        wall_mark, cpu_mark = perf_counter(), process_time()
        for job in jobs:
            if job.rejection_reason is None:
                assign_dedupe_keys(job)
            self.records += 1
            self.wall += perf_counter() - wall_mark
            self.cpu += process_time() - cpu_mark
            yield job
            wall_mark, cpu_mark = perf_counter(), process_time()
        self.wall += perf_counter() - wall_mark
        self.cpu += process_time() - cpu_mark


def pg_backend_cpu(database: str) -> float:
    """User + system CPU seconds of the PostgreSQL processes serving `database` (their titles name it)."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = process.info["cmdline"] or []
            if cmdline and cmdline[0].startswith("postgres:") and f" {database} " in f" {' '.join(cmdline)} ":
                times = process.cpu_times()
                total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def run_stage(url: str, db_url: str) -> dict:
    """The raw_jobs stage for one feed into `db_url`; counts, timings, the write's share and the stored size."""
    import sqlalchemy as sa

    from feed_pipeline.sources.base import FeedSpec
    from feed_pipeline.sources.registry import open_feed
    from feed_pipeline.store import stages
    from feed_pipeline.store.db import engine_for

    engine = engine_for(db_url)
    is_pg = engine.dialect.name == "postgresql"
    database = engine.url.database
    server_cpu_before = pg_backend_cpu(database) if is_pg else 0.0

    started, cpu_started = time.perf_counter(), time.process_time()
    reader = open_feed(FeedSpec(id=FEED_ID, kind="xml", url=url, params={}), force=True)
    records = TimedRecords(reader)
    try:
        written = stages.replace_raw_jobs(engine, FEED_ID, records).written
    finally:
        reader.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server_cpu = pg_backend_cpu(database) - server_cpu_before if is_pg else None

    stored = sum(stages.raw_counts(engine, FEED_ID).values())
    if is_pg:
        with engine.connect() as conn:
            size_bytes = conn.execute(sa.text("select pg_database_size(current_database())")).scalar()
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size_bytes = Path(database).stat().st_size
    engine.dispose()
    outcome = reader.outcome
    return {"records": records.records, "written": written, "stored": stored, "seconds": seconds,
            "cpu_seconds": cpu, "write_seconds": seconds - records.wall, "write_cpu_seconds": cpu - records.cpu,
            "server_cpu_seconds": server_cpu, "db_size_mb": size_bytes / 1e6, "complete": outcome.complete,
            "error": outcome.error,
            "rejected": {k: v for k, v in outcome.stats.items() if k.startswith("rejected_")}}


def worker(kind: str, target: str, db_url: str | None) -> None:
    result = run_baseline(target) if kind == "baseline" else run_stage(target, db_url)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure(kind: str, target: str, db_url: str | None = None) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON report."""
    command = [sys.executable, __file__, "--worker", kind, target] + ([db_url] if db_url else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def stage_into_sqlite(url: str, size: int) -> dict:
    path = DATA_DIR / f"raw_jobs_stage_{size}_{os.getpid()}.sqlite"
    try:
        return measure("stage", url, f"sqlite:///{path}")
    finally:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def stage_into_postgresql(url: str, size: int, pg_server: str) -> dict:
    import sqlalchemy as sa

    name = f"feed_pipeline_bench_{size}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            return measure("stage", url, f"{pg_server}/{name}")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def check(name: str, result: dict, size: int) -> None:
    if result["records"] != size or not result["complete"]:
        raise RuntimeError(f"{name} read {result['records']} of {size} records: {result.get('error')}")
    if "written" in result and result["stored"] != result["written"]:
        raise RuntimeError(f"{name} wrote {result['written']} rows but the table holds {result['stored']}")


def print_report(rows: list[tuple[int, str, dict, dict]]) -> None:
    print("records/s is per CPU second of the measured process (the machine may be shared); 'vs base' compares\n"
          "that throughput with lxml iterparse on the same file ('wall' the same on wall time). 'write' is the\n"
          "share of the stage spent in replace_raw_jobs outside the reader; 'read vs base' is the stage without\n"
          "that write (fetch+parse+normalize+dedupe keys). 'PG srv CPU' is the PostgreSQL backend's own CPU.")
    header = (f"{'jobs':>9} | {'what':<23} | {'wall s':>6} | {'CPU s':>6} | {'records/s':>9} | {'vs base':>7} | "
              f"{'wall':>5} | {'write wall':>10} | {'write CPU':>9} | {'read vs base':>12} | {'PG srv CPU':>10} | "
              f"{'peak RSS MB':>11} | {'DB MB':>6}")
    print(header)
    print("-" * len(header))
    for size, name, result, baseline in rows:
        rate = result["records"] / result["cpu_seconds"]
        ratio = baseline["cpu_seconds"] / result["cpu_seconds"]
        wall_ratio = baseline["seconds"] / result["seconds"]
        if "write_seconds" in result:
            write_wall = f"{100 * result['write_seconds'] / result['seconds']:.0f}%"
            write_cpu = f"{100 * result['write_cpu_seconds'] / result['cpu_seconds']:.0f}%"
            read_ratio = f"{baseline['cpu_seconds'] / (result['cpu_seconds'] - result['write_cpu_seconds']):.2f}x"
            server = "" if result["server_cpu_seconds"] is None else f"{result['server_cpu_seconds']:.1f}"
            db_size = f"{result['db_size_mb']:.0f}"
        else:
            write_wall = write_cpu = read_ratio = server = db_size = ""
        print(f"{size:>9,} | {name:<23} | {result['seconds']:>6.1f} | {result['cpu_seconds']:>6.1f} | "
              f"{rate:>9,.0f} | {ratio:>6.2f}x | {wall_ratio:>4.2f}x | {write_wall:>10} | {write_cpu:>9} | "
              f"{read_ratio:>12} | {server:>10} | {result['peak_rss_mb']:>11.1f} | {db_size:>6}")
    stages_by_name: dict[str, list[tuple[int, float]]] = {}
    for size, name, result, _ in rows:
        stages_by_name.setdefault(name, []).append((size, result["peak_rss_mb"]))
    for name, points in stages_by_name.items():
        if len(points) > 1:
            (small, small_rss), (large, large_rss) = points[0], points[-1]
            print(f"{name} peak RSS {small:,} -> {large:,} jobs: {100 * (large_rss / small_rss - 1):+.1f}%")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("FEED_PIPELINE_ALLOW_PRIVATE_URLS", "1")  # the feed is served on loopback (SSRF guard)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--pg-server", default=os.environ.get("FEED_PIPELINE_TEST_PG", DEFAULT_PG_SERVER),
                        help="PostgreSQL server URL without a database (default: %(default)s)")
    parser.add_argument("--worker", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, target, *db_url = args.worker
        worker(kind, target, db_url[0] if db_url else None)
        return 0

    server, base_url = serve(DATA_DIR)
    rows = []
    try:
        for size in args.sizes:
            path = ensure_feed(size)
            url = f"{base_url}/{path.name}"
            baseline = measure("baseline", str(path))
            check("baseline", baseline, size)
            rows.append((size, "lxml iterparse (base)", baseline, baseline))
            for database in args.databases:
                name = f"stage into {database}"
                print(f"  {size:,} jobs: {name} ...", file=sys.stderr)
                if database == "sqlite":
                    result = stage_into_sqlite(url, size)
                else:
                    result = stage_into_postgresql(url, size, args.pg_server)
                check(name, result, size)
                rows.append((size, name, result, baseline))
                print(f"  {name}: {result['written']:,} rows written, rejections {result['rejected']}",
                      file=sys.stderr)
    finally:
        server.shutdown()
    print_report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
