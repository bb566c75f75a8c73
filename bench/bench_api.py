"""`GET /api/jobs` under load on PostgreSQL: full-text search (tsvector + GIN) beside the same searches with ILIKE.

1. Loads `--rows` generated jobs (realistic titles, companies, skills, 600-900 character descriptions,
   cross-feed duplicates, every route) into a throwaway PostgreSQL database with COPY. The database is
   migrated first (so `search_vector` is computed during the load); the search indexes are dropped during
   the load and rebuilt after, as a bulk load would do.
2. Serves the API with uvicorn in its own process; a load generator in this process (asyncio + httpx,
   `--concurrency` clients) drives each scenario for `--duration` seconds on loopback.
3. Serves the API again with `search` matched by ILIKE on title, description and skills (swapped in through
   the `get_text_condition` dependency), and drives the same searches.
Reports requests per second and p50/p95/p99 latency per scenario, the ILIKE/full-text ratios, and peak memory
(the server's RSS sampled with psutil, this process's max RSS from getrusage).

    .venv/bin/python bench/bench_api.py                      # 100k rows, 10 s per scenario
    .venv/bin/python bench/bench_api.py --rows 1000000       # the 1M-row figures in BENCHMARKS.md
    .venv/bin/python bench/bench_api.py --reuse              # skip the load if its database already has --rows jobs
    (databases are named feed_pipeline_bench_api_<rows> on $FEED_PIPELINE_TEST_PG; drop them when done)
    .venv/bin/python bench/bench_api.py --serve ...          # (internal) the server process
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import psutil
import sqlalchemy as sa

from feed_pipeline.store import search  # before store.schema, which needs sqlalchemy.dialects.postgresql loaded
from feed_pipeline.store.schema import jobs

PG_SERVER = os.environ.get("FEED_PIPELINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
BENCH_DB_PREFIX = "feed_pipeline_bench_api"  # one database per --rows, so --reuse finds the right one
NOW = datetime(2026, 11, 20, tzinfo=UTC)
SEARCH_INDEXES = {
    "ix_jobs_search_vector": "CREATE INDEX ix_jobs_search_vector ON jobs USING gin (search_vector)",
    "ix_jobs_route_newest": "CREATE INDEX ix_jobs_route_newest ON jobs (route, posted_at DESC NULLS LAST, feed_id, "
                            "job_key)",
}

# --- generated jobs -----------------------------------------------------------------------------------------

ROLES = [  # (title, industry, function, skills)
    ("Backend Engineer", "Technology", "Software Engineering", ["Python", "Go", "PostgreSQL", "Docker", "REST APIs"]),
    ("Frontend Developer", "Technology", "Software Engineering", ["TypeScript", "React", "CSS", "Next.js"]),
    ("Full Stack Developer", "Technology", "Software Engineering", ["JavaScript", "Node.js", "React", "SQL"]),
    ("Python Developer", "Technology", "Software Engineering", ["Python", "Django", "FastAPI", "Celery"]),
    ("Java Engineer", "Technology", "Software Engineering", ["Java", "Spring Boot", "Kafka", "Microservices"]),
    ("DevOps Engineer", "Technology", "DevOps & Cloud Infrastructure", ["Kubernetes", "Terraform", "AWS", "CI/CD"]),
    ("Site Reliability Engineer", "Technology", "DevOps & Cloud Infrastructure",
     ["Kubernetes", "Prometheus", "Linux", "Go"]),
    ("Cloud Engineer", "Technology", "DevOps & Cloud Infrastructure", ["AWS", "Azure", "Terraform", "Networking"]),
    ("Data Engineer", "Technology", "Data & Analytics", ["Spark", "Airflow", "SQL", "Python", "dbt"]),
    ("Data Scientist", "Technology", "Data & Analytics", ["Machine Learning", "Python", "Statistics", "PyTorch"]),
    ("Data Analyst", "Technology", "Data & Analytics", ["SQL", "Tableau", "Excel", "Power BI"]),
    ("Machine Learning Engineer", "Technology", "Data & Analytics", ["Machine Learning", "PyTorch", "MLOps"]),
    ("IT Support Specialist", "Technology", "IT Support", ["Help Desk", "Windows", "Active Directory"]),
    ("Security Engineer", "Technology", "Cybersecurity", ["SIEM", "Penetration Testing", "Cloud Security"]),
    ("Mainframe Programmer", "Technology", "Software Engineering", ["COBOL", "JCL", "DB2"]),
    ("Registered Nurse", "Healthcare", "Nursing", ["Patient Care", "BLS", "EHR", "Medication Administration"]),
    ("Medical Assistant", "Healthcare", "Clinical Support", ["Vital Signs", "Scheduling", "EHR"]),
    ("Pharmacist", "Healthcare", "Pharmacy", ["Dispensing", "Clinical Pharmacy", "Patient Counseling"]),
    ("Physical Therapist", "Healthcare", "Therapy", ["Rehabilitation", "Manual Therapy", "Patient Care"]),
    ("Accountant", "Finance", "Accounting", ["GAAP", "Excel", "Reconciliation", "QuickBooks"]),
    ("Financial Analyst", "Finance", "Financial Planning", ["Financial Modeling", "Excel", "Forecasting"]),
    ("Sales Representative", "Retail", "Sales", ["CRM", "Negotiation", "Salesforce", "Prospecting"]),
    ("Store Manager", "Retail", "Store Operations", ["Inventory", "Scheduling", "Customer Service"]),
    ("Warehouse Associate", "Logistics", "Warehouse Operations", ["Forklift", "Picking", "Inventory"]),
    ("Truck Driver", "Logistics", "Transportation", ["CDL", "DOT Compliance", "Route Planning"]),
    ("Marketing Manager", "Marketing", "Digital Marketing", ["SEO", "Google Ads", "Content Strategy"]),
    ("Electrician", "Construction", "Skilled Trades", ["Wiring", "NEC", "Blueprints", "Conduit"]),
    ("Mechanical Engineer", "Manufacturing", "Engineering", ["CAD", "SolidWorks", "GD&T", "Lean"]),
    ("Teacher", "Education", "Teaching", ["Lesson Planning", "Classroom Management", "Curriculum"]),
    ("Customer Service Representative", "Retail", "Customer Support", ["Zendesk", "Communication", "CRM"]),
]
SENIORITY = ["", "", "Junior ", "Senior ", "Senior ", "Lead ", "Staff ", "Principal "]
COMPANY_A = ["Acme", "Blue", "Cedar", "Delta", "Evergreen", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
             "Keystone", "Lumen", "Maple", "Nimbus", "Orion", "Pioneer", "Quartz", "Redwood", "Summit", "Tidal"]
COMPANY_B = ["Labs", "Health", "Systems", "Logistics", "Capital", "Retail", "Works", "Analytics", "Group",
             "Partners", "Dynamics", "Networks", "Foods", "Energy", "Software", "Clinic", "Motors", "Media"]
CITIES = [("Austin", "TX", "US"), ("Seattle", "WA", "US"), ("New York", "NY", "US"), ("Chicago", "IL", "US"),
          ("Denver", "CO", "US"), ("Boston", "MA", "US"), ("Atlanta", "GA", "US"), ("Phoenix", "AZ", "US"),
          ("London", None, "GB"), ("Manchester", None, "GB"), ("Berlin", None, "DE"), ("Munich", None, "DE"),
          ("Paris", None, "FR"), ("Amsterdam", None, "NL"), ("Dublin", None, "IE"), ("Toronto", "ON", "CA")]
SOURCES = [("xml", 0.5), ("remoteok", 0.2), ("jsearch", 0.15), ("adzuna", 0.15)]
ROUTES = [("approved", 0.75), ("manual_review", 0.10), ("archived", 0.08), ("rejected", 0.05), ("failed", 0.02)]
EMPLOYMENT = [("full_time", 0.7), ("part_time", 0.1), ("contract", 0.12), ("temporary", 0.05), ("internship", 0.03)]
SENTENCES = [
    "{company} is hiring a {title} to join our team in {city}.",
    "You will work with {s0} and {s1} every day.",
    "Experience with {s2} is a strong plus.",
    "We value ownership, clear communication and steady delivery.",
    "Our team ships improvements every week and reviews each change together.",
    "You will collaborate closely with product, operations and customer teams.",
    "The role reports to the head of {function}.",
    "We offer medical, dental and vision coverage, a retirement plan with company match and paid time off.",
    "Flexible hours and a yearly learning budget are part of the package.",
    "Candidates should bring {years}+ years of relevant experience.",
    "Training is provided for {s1} if you have not used it before.",
    "{company} is an equal opportunity employer and values diversity at every level.",
]
N_FEEDS = 40


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def generated_rows(count: int, start: int = 0, step: int = 1, seed: int = 7):
    """Jobs start, start+step, ... below count, as tuples in COPY_COLUMNS order (deterministic per slice).

    Title+company collisions across feeds make the cross-feed duplicates.
    """
    feed_rng = random.Random(seed)
    feed_sources = {f"feed-{n:02d}": _weighted(feed_rng, SOURCES) for n in range(N_FEEDS)}
    feed_ids = list(feed_sources)
    companies = [f"{a} {b}" for a in COMPANY_A for b in COMPANY_B]
    rng = random.Random(seed * 1000 + start)
    for n in range(start, count, step):
        feed_id = feed_ids[n % N_FEEDS]
        title_base, industry, function, role_skills = rng.choice(ROLES)
        title = rng.choice(SENIORITY) + title_base
        company = rng.choice(companies)
        city, state, country = rng.choice(CITIES)
        skills = rng.sample(role_skills, k=min(len(role_skills), rng.randint(2, 4)))
        fill = {"company": company, "title": title, "city": city, "function": function, "years": rng.randint(1, 8),
                "s0": skills[0], "s1": skills[-1], "s2": rng.choice(role_skills)}
        description = " ".join(s.format(**fill) for s in rng.sample(SENTENCES, k=rng.randint(6, 9)))
        posted = None if rng.random() < 0.03 else NOW - timedelta(minutes=rng.randint(0, 120 * 24 * 60))
        has_salary = rng.random() < 0.6
        low = rng.randint(30, 180) * 1000
        route = _weighted(rng, ROUTES)
        is_remote = rng.random() < 0.25
        job_key = hashlib.sha256(f"{feed_id}|{n}".encode()).hexdigest()
        yield (
            feed_id, job_key, feed_sources[feed_id], str(n), title, company, description,
            f"https://jobs.example.com/{feed_id}/{n}", json.dumps([f"{city}, {state or country}"]), city, state,
            country, _weighted(rng, EMPLOYMENT), float(low) if has_salary else None,
            float(low + rng.randint(5, 60) * 1000) if has_salary else None, "USD" if has_salary else None,
            "year" if has_salary else None, is_remote, posted, "[]", "{}",
            hashlib.sha256(f"{job_key}|{description}".encode()).hexdigest(), json.dumps([job_key]),
            json.dumps([str(n)]), hashlib.sha256(f"{title.lower()}|{company.lower()}".encode()).hexdigest(),
            industry, round(rng.uniform(0.5, 1.0), 3), function, round(rng.uniform(0.5, 1.0), 3),
            round(rng.uniform(0.5, 1.0), 3), title, description[:200], json.dumps(skills), json.dumps(skills[:2]),
            "remote" if is_remote else rng.choice(["onsite", "hybrid"]), route,
            "closed" if route == "rejected" else None, "bench", NOW, NOW, NOW,
        )


COPY_COLUMNS = (
    "feed_id", "job_key", "source", "source_id", "title", "company", "description", "url", "locations", "city",
    "state", "country", "employment_type", "salary_min", "salary_max", "salary_currency", "salary_period",
    "is_remote", "posted_at", "tags", "extra", "content_hash", "member_keys", "source_ids", "dedupe_key",
    "industry", "industry_confidence", "job_function", "function_confidence", "routing_confidence", "ai_title",
    "ai_description", "skills", "tech_stack", "remote_policy", "route", "reason", "last_run_id", "first_seen_at",
    "last_seen_at", "updated_at",
)


def job_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one()


def copy_slice(url: str, rows: int, start: int, step: int) -> int:
    """One loader process: COPY its slice of the generated jobs in one transaction."""
    import psycopg

    copied = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY jobs ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in generated_rows(rows, start, step):
                copy.write_row(row)
                copied += 1
                if start == 0 and copied % (100_000 // step) == 0:
                    print(f"  ~{copied * step:,} rows loaded", file=sys.stderr)
    return copied


def load_jobs(url: str, rows: int, workers: int) -> dict[str, float]:
    """COPY `rows` generated jobs from `workers` processes (search_vector is computed by PostgreSQL on the way
    in, the heaviest part); the search indexes are dropped first and rebuilt once at the end."""
    import psycopg

    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in SEARCH_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        copied = sum(pool.map(copy_slice, [url] * workers, [rows] * workers, range(workers), [workers] * workers))
    assert copied == rows, (copied, rows)
    timings["copy_s"] = time.perf_counter() - start
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        start = time.perf_counter()
        for statement in SEARCH_INDEXES.values():
            conn.execute(statement)
        timings["indexes_s"] = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE jobs")
        timings["analyze_s"] = time.perf_counter() - start
    return timings


def prepare_database(rows: int, reuse: bool, workers: int) -> str:
    from feed_pipeline.resources.database import engine_for

    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    bench_db = f"{BENCH_DB_PREFIX}_{rows}"
    url = f"{PG_SERVER}/{bench_db}"
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": bench_db}).first()
    if exists and reuse:
        engine = engine_for(url)
        if job_count(engine) == rows:
            print(f"reusing {bench_db} with {rows:,} jobs", file=sys.stderr)
            engine.dispose()
            return url
        engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{bench_db}"'))
    admin.dispose()
    engine = engine_for(url)  # migrated: search_vector, its GIN index and the newest-first index exist
    print(f"loading {rows:,} jobs into {bench_db} with {workers} processes ...", file=sys.stderr)
    timings = load_jobs(url, rows, workers)
    with engine.connect() as conn:
        size = conn.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size('jobs'))")).scalar()
    print(f"  COPY {timings['copy_s']:.0f} s (search_vector computed on the way in), indexes "
          f"{timings['indexes_s']:.0f} s, VACUUM ANALYZE {timings['analyze_s']:.0f} s; jobs table with indexes: "
          f"{size}",
          file=sys.stderr)
    engine.dispose()
    return url


# --- the server process -------------------------------------------------------------------------------------


def ilike_condition(text: str) -> sa.ColumnElement[bool]:
    """The naive search: every word (or phrase) as a substring of title, description or skills, any case."""
    groups = []
    for group in search.parse_search(text):
        parts = []
        for term in group.terms:
            pattern = "%" + " ".join(term.words).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            hit = sa.or_(jobs.c.title.ilike(pattern, escape="\\"), jobs.c.description.ilike(pattern, escape="\\"),
                         sa.cast(jobs.c.skills, sa.Text).ilike(pattern, escape="\\"))
            parts.append(sa.not_(hit) if term.excluded else hit)
        groups.append(sa.and_(*parts))
    return sa.or_(*groups)


def serve(database_url: str, port: int, matcher: str) -> None:
    import uvicorn

    from feed_pipeline.api.app import create_app
    from feed_pipeline.api.dependencies import get_text_condition

    app = create_app(database_url)
    if matcher == "ilike":
        app.dependency_overrides[get_text_condition] = lambda: ilike_condition
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class ServerProcess:
    """The API in its own process; its RSS is sampled so the peak can be reported."""

    def __init__(self, database_url: str, matcher: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--database-url", database_url, "--port", str(self.port),
             "--matcher", matcher])
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.3)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _sample(self) -> None:
        proc = psutil.Process(self.process.pid)
        while not self._stop.is_set():
            try:
                self.peak_rss_mb = max(self.peak_rss_mb, proc.memory_info().rss / 2**20)
            except psutil.Error:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- the load generator -------------------------------------------------------------------------------------

SEARCHES = ["engineer", "python", "kubernetes", "nurse", "warehouse", "cobol", "machine learning",
            '"machine learning"', "senior python", "data -analyst", "terraform aws", "patient care", "forklift",
            "sql or excel", "react typescript", "accountant gaap"]
FILTERS = [{"source": "remoteok"}, {"employment_type": "contract"}, {"remote_only": "true"},
           {"industry": "Healthcare"}, {"feed_id": "feed-07"}, {"source": ["jsearch", "adzuna"], "remote_only": "true"},
           {"job_function": "Data & Analytics", "employment_type": "full_time"},
           {"posted_after": (NOW - timedelta(days=7)).isoformat()}]


def scenarios() -> dict[str, list[dict]]:
    return {
        "search": [{"search": s} for s in SEARCHES],
        "search + filters": [{"search": s, **f} for s, f in zip(SEARCHES, FILTERS * 2, strict=True)],
        "search, sort=relevance": [{"search": s, "sort": "relevance"} for s in SEARCHES],
        "search, distinct": [{"search": s, "distinct": "true"} for s in SEARCHES],
        "filters only": FILTERS,
    }


@dataclass
class Measured:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def row(self) -> dict[str, float]:
        lat = sorted(self.latencies_ms)
        if not lat:
            return {"requests": 0, "errors": self.errors, "rps": 0.0, "p50": float("nan"), "p95": float("nan"),
                    "p99": float("nan")}
        q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else [lat[0]] * 99
        return {"requests": len(lat), "errors": self.errors, "rps": len(lat) / self.elapsed_s, "p50": q[49],
                "p95": q[94], "p99": q[98]}


async def drive(base_url: str, queries: list[dict], duration_s: float, concurrency: int) -> Measured:
    measured = Measured()
    deadline = time.perf_counter() + duration_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        async def worker(offset: int) -> None:
            n = offset
            while time.perf_counter() < deadline:
                params = queries[n % len(queries)]
                n += 1
                start = time.perf_counter()
                response = await client.get("/api/jobs", params=params)
                took = (time.perf_counter() - start) * 1000
                if response.status_code == 200:
                    measured.latencies_ms.append(took)
                else:
                    measured.errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        measured.elapsed_s = time.perf_counter() - start
    return measured


def run_scenarios(base_url: str, names: list[str], duration_s: float, concurrency: int) -> dict[str, dict]:
    results = {}
    for name in names:
        queries = scenarios()[name]
        asyncio.run(drive(base_url, queries[:2], 1.0, concurrency))  # warm connections and caches
        results[name] = asyncio.run(drive(base_url, queries, duration_s, concurrency)).row()
        r = results[name]
        print(f"  {name:<24} {r['requests']:>6} req  {r['rps']:>7.1f} req/s  p50 {r['p50']:>8.1f}  "
              f"p95 {r['p95']:>8.1f}  p99 {r['p99']:>8.1f} ms  errors {r['errors']}", file=sys.stderr)
    return results


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}\n\n| scenario | req/s | p50 ms | p95 ms | p99 ms | requests | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['requests']} "
              f"| {r['errors']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per full-text scenario")
    parser.add_argument("--ilike-duration", type=float, default=None, help="seconds per ILIKE scenario "
                        "(default: 2x --duration, since each ILIKE request is slow)")
    parser.add_argument("--concurrency", default="1,8",
                        help="comma-separated client counts: 1 shows latency without queueing, more shows throughput")
    parser.add_argument("--load-workers", type=int, default=3, help="loader processes (COPY in parallel)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already has --rows jobs")
    parser.add_argument("--load-only", action="store_true", help="prepare the database and stop")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--matcher", choices=["fulltext", "ilike"], default="fulltext", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.port, args.matcher)
        return

    url = prepare_database(args.rows, args.reuse, args.load_workers)
    if args.load_only:
        return
    levels = [int(c) for c in args.concurrency.split(",")]
    ilike_duration = args.ilike_duration or 2 * args.duration
    results: dict[tuple[str, int], dict[str, dict]] = {}
    peak_rss = {}
    for matcher, names, duration in (("fulltext", list(scenarios()), args.duration),
                                     ("ilike", ["search", "search + filters"], ilike_duration)):
        server = ServerProcess(url, matcher)
        try:
            for clients in levels:
                print(f"\n{matcher}, {args.rows:,} jobs, {clients} concurrent client(s), {duration:.0f} s per "
                      f"scenario", file=sys.stderr)
                results[matcher, clients] = run_scenarios(server.base_url, names, duration, clients)
        finally:
            server.stop()
        peak_rss[matcher] = server.peak_rss_mb

    for (matcher, clients), table in results.items():
        label = "full text (tsvector + GIN)" if matcher == "fulltext" else "ILIKE baseline, same searches"
        print_table(f"{label}, {args.rows:,} jobs, {clients} client(s)", table)
    print()
    for clients in levels:
        for name in ("search", "search + filters"):
            f, i = results["fulltext", clients][name], results["ilike", clients][name]
            print(f"{clients} client(s), {name}: full text {f['rps'] / i['rps'] if i['rps'] else float('inf'):.0f}x "
                  f"the ILIKE throughput; ILIKE p95 {i['p95'] / f['p95']:.0f}x the full-text p95")
    print(f"peak RSS: API server {peak_rss['fulltext']:.0f} MB (full text), {peak_rss['ilike']:.0f} MB (ILIKE); "
          f"this process (loader + load generator) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    target = results["fulltext", levels[0]]["search"]["p95"]
    print(f"target p95 < 50 ms for a full-text search ({levels[0]} client(s)): "
          f"{'met' if target < 50 else 'NOT met'} ({target:.1f} ms)")


if __name__ == "__main__":
    main()
