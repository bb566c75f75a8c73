"""How long one feed_update_sensor tick takes to check many unchanged feeds, against the naive way and itself serial.

Run: .venv/bin/python bench/bench_feed_update_sensor.py [--large]

HTTP: N feeds on a loopback server that adds a per-request latency (network round trip) and sends bodies at a
per-connection rate (a remote host's bandwidth); every feed sends an ETag and is unchanged since its last ingest.
  ours            one real sensor tick (evaluate_tick): a conditional HEAD per feed, 16 at a time
  ours, serial    the same tick with one probe at a time (what the concurrency buys)
  baseline        what a sensor without conditional requests does: GET every body and hash it, 16 at a time
Local files: M unchanged files of S KB registered by path.
  ours            one tick: a stat per file, compared with the size+mtime the ingest stored
  baseline        hash every file on every tick
Reported: wall time per tick, ratio to ours, requests and bytes sent by the server, peak RSS.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import psutil

from feed_pipeline.automation import sensors
from feed_pipeline.definitions import build_definitions, build_resources
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.sources.feed_bytes import file_sha256, file_validators
from feed_pipeline.sources.http_fetch import HttpFetcher, RetrySettings
from feed_pipeline.store import feeds as feed_store

CHUNK = 16 * 1024


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.body_bytes = 0

    def request(self) -> None:
        with self.lock:
            self.requests += 1

    def sent(self, body_bytes: int) -> None:
        with self.lock:
            self.body_bytes += body_bytes

    def reset(self) -> None:
        with self.lock:
            self.requests = self.body_bytes = 0


def start_server(bodies: dict[str, bytes], latency_s: float, rate_bps: float, counters: Counters):
    etags = {path: '"' + hashlib.sha256(body).hexdigest()[:16] + '"' for path, body in bodies.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self.answer(send_body=False)

        def do_GET(self) -> None:
            self.answer(send_body=True)

        def answer(self, send_body: bool) -> None:
            counters.request()
            time.sleep(latency_s)
            body, etag = bodies[self.path], etags[self.path]
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not send_body:
                return
            for start in range(0, len(body), CHUNK):
                piece = body[start:start + CHUNK]
                self.wfile.write(piece)
                counters.sent(len(piece))
                time.sleep(len(piece) / rate_bps)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, etags


def one_tick(sensor: dg.SensorDefinition, instance, defs, db_url: str) -> tuple[float, object]:
    with dg.build_sensor_context(instance_ref=instance.get_ref(), definitions=defs,
                                 resources={"database": DatabaseResource(url=db_url)}) as context:
        start = time.perf_counter()
        result = sensor.evaluate_tick(context)
        return time.perf_counter() - start, result


def naive_http_check(urls: list[str], workers: int) -> float:
    start = time.perf_counter()
    with HttpFetcher(retry=RetrySettings(attempts=1)) as fetcher, ThreadPoolExecutor(workers) as pool:
        def fetch_and_hash(url: str) -> str:
            with fetcher.stream(url) as body:
                for _ in body.iter_bytes():
                    pass
                return body.sha256 or ""
        list(pool.map(fetch_and_hash, urls))
    return time.perf_counter() - start


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    os.environ.setdefault("FEED_PIPELINE_ALLOW_PRIVATE_URLS", "1")  # the feeds are served on loopback (SSRF guard)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200, help="HTTP feeds")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per-request latency of the feed host")
    parser.add_argument("--body-kb", type=int, default=512, help="size of each HTTP feed")
    parser.add_argument("--rate-mbps", type=float, default=20.0, help="per-connection send rate, megabits/s")
    parser.add_argument("--files", type=int, default=200, help="local feed files")
    parser.add_argument("--file-kb", type=int, default=1024, help="size of each local file")
    parser.add_argument("--large", action="store_true", help="1,000 HTTP feeds of 128 KB, 1,000 files of 256 KB")
    args = parser.parse_args()
    if args.large:
        args.feeds, args.body_kb, args.files, args.file_kb = 1000, 128, 1000, 256

    print(f"HTTP: {args.feeds} feeds x {args.body_kb} KB, {args.latency_ms:.0f} ms latency, "
          f"{args.rate_mbps:.0f} Mbit/s per connection; files: {args.files} x {args.file_kb} KB")
    rss_start = rss_mb()
    work = Path(tempfile.mkdtemp(prefix="bench_feed_update_"))
    db_url = f"sqlite:///{work / 'feeds.sqlite'}"
    engine = engine_for(db_url)
    # The sensor never mirrors; a database URL without a Xano URL must name the sandbox (definitions.xano_resource).
    defs = build_definitions(resources=build_resources({"FEED_PIPELINE_DATABASE_URL": db_url,
                                                        "FEED_PIPELINE_XANO_SANDBOX": "true"}))
    counters = Counters()
    bodies = {f"/feed{i}.xml": os.urandom(args.body_kb * 1024) for i in range(args.feeds)}
    server, etags = start_server(bodies, args.latency_ms / 1000, args.rate_mbps * 1e6 / 8, counters)
    host, port = server.server_address[:2]
    urls = {path: f"http://{host}:{port}{path}" for path in bodies}

    with dg.instance_for_test() as instance:
        http_ids = []
        for i, path in enumerate(bodies):
            feed_id = f"http{i:05d}"
            feed_store.upsert_feed(engine, feed_id, url=urls[path])
            feed_store.save_fetch_state(engine, feed_id, etag=etags[path], last_modified=None,
                                        content_hash=hashlib.sha256(bodies[path]).hexdigest())
            http_ids.append(feed_id)
        instance.add_dynamic_partitions("feeds", http_ids)

        rows = []
        big = max(args.feeds, args.files) + 1
        for label, workers in (("ours (HEAD, 16 at a time)", 16), ("ours, serial (1 at a time)", 1)):
            sensor = sensors.build_feed_update_sensor(name=f"bench_{workers}", max_probes_per_tick=big,
                                                      probe_workers=workers, tick_budget_s=3600)
            counters.reset()
            seconds, result = one_tick(sensor, instance, defs, db_url)
            assert not result.run_requests, "every feed is unchanged"
            rows.append((label, seconds, counters.requests, counters.body_bytes))
        counters.reset()
        seconds = naive_http_check(list(urls.values()), 16)
        rows.append(("baseline: GET + hash, 16 at a time", seconds, counters.requests, counters.body_bytes))
        ours = rows[0][1]
        print("\n| HTTP check of all feeds | s per tick | vs ours | requests | body bytes |")
        print("| --- | --- | --- | --- | --- |")
        for label, secs, requests, body_bytes in rows:
            print(f"| {label} | {secs:.2f} | {secs / ours:.1f}x | {requests} | {body_bytes / 2**20:.1f} MiB |")
        server.shutdown()

        for feed_id in http_ids:
            feed_store.set_feed_active(engine, feed_id, False)
        file_dir = work / "files"
        file_dir.mkdir()
        file_ids, paths = [], []
        for i in range(args.files):
            path = file_dir / f"feed{i}.xml"
            path.write_bytes(os.urandom(args.file_kb * 1024))
            etag, last_modified = file_validators(path)
            feed_id = f"file{i:05d}"
            feed_store.upsert_feed(engine, feed_id, url=str(path))
            feed_store.save_fetch_state(engine, feed_id, etag=etag, last_modified=last_modified,
                                        content_hash=file_sha256(path))
            file_ids.append(feed_id)
            paths.append(path)
        instance.add_dynamic_partitions("feeds", file_ids)
        sensor = sensors.build_feed_update_sensor(name="bench_files", max_probes_per_tick=big, tick_budget_s=3600)
        file_seconds, result = one_tick(sensor, instance, defs, db_url)
        assert not result.run_requests
        start = time.perf_counter()
        for path in paths:
            file_sha256(path)
        hash_seconds = time.perf_counter() - start
        print("\n| local files check | s per tick | vs ours |")
        print("| --- | --- | --- |")
        print(f"| ours (stat vs stored size+mtime) | {file_seconds:.3f} | 1.0x |")
        print(f"| baseline: hash every file | {hash_seconds:.3f} | {hash_seconds / file_seconds:.1f}x |")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nRSS at start {rss_start:.0f} MiB, now {rss_mb():.0f} MiB, peak {peak:.0f} MiB "
          f"(the HTTP bodies held by the test server: {args.feeds * args.body_kb / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
