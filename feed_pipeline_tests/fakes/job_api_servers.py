"""Loopback RemoteOK, JSearch (RapidAPI) and Adzuna servers: the real paths, JSON shapes, headers and errors.

Each server answers on its own `base_url` (scheme and host, what REMOTEOK_BASE_URL / JSEARCH_BASE_URL /
ADZUNA_BASE_URL hold) and records every request. Behaviour follows REFERENCE.md "Job APIs":

- RemoteOK `GET /api[?tag=]`: `[legal notice, *jobs]`; a tag filters on the jobs' tags.
- JSearch `GET /search`: X-RapidAPI-Key must be a subscribed key (403 "You are not subscribed to this API."
  otherwise, 401 without one); `page`/`num_pages` over pages of 10; every answer carries the
  `x-ratelimit-requests-*` headers; a monthly quota (429 "You have exceeded the MONTHLY quota ...", charged
  like RapidAPI: 2-10 pages cost 2) and a per-second rate limit (429 "... rate limit per second ...").
- Adzuna `GET /v1/api/jobs/{country}/search/{page}`: app_id/app_key checked (401 AUTH_FAIL), pages of
  `results_per_page` (max 50), `count`, and a per-minute request limit that counts client overruns.

Faults are queued per server and consumed by the requests they match:

    with FakeJSearch(jobs=[jsearch_job("j1", "Backend Engineer")]) as server:
        server.add_fault(Fault(500, times=2))
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REMOTEOK_LEGAL = {
    "last_updated": 1714557600,
    "legal": "API Terms of Service: Please link back (with follow) to Remote OK and mention Remote OK as a source, "
             "so we get traffic back from your site. If you do not we will have to suspend API access.",
}
JSEARCH_NOT_SUBSCRIBED = {"message": "You are not subscribed to this API."}
JSEARCH_INVALID_KEY = {"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."}
JSEARCH_MONTHLY = {"message": "You have exceeded the MONTHLY quota for Requests on your current plan, BASIC. "
                              "Upgrade your plan at https://rapidapi.com/letscrape-6bRBa3QguO5/api/jsearch"}
JSEARCH_PER_SECOND = {"message": "You have exceeded the rate limit per second for your plan, BASIC, by the API "
                                 "provider"}
ADZUNA_AUTH_FAIL = {"display": "Authorisation failed", "exception": "AUTH_FAIL"}
ADZUNA_PATH = re.compile(r"^/v1/api/jobs/(?P<country>[a-z]{2})/search/(?P<page>\d+)$")


# --------------------------------------------------------------------------------------------------- items


def remoteok_job(job_id: str, position: str, company: str = "Acme", *, tags: list[str] | None = None,
                 location: str | None = "", salary_min: int = 0, salary_max: int = 0,
                 date: str = "2024-05-01T09:00:00+00:00", description: str | None = None) -> dict[str, Any]:
    """One RemoteOK job as the API returns it (id a string, salary 0 = unknown, location may be "" or null)."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{company} {position}".lower()).strip("-")
    return {
        "slug": f"remote-{slug}-{job_id}",
        "id": str(job_id),
        "epoch": 1714554000,
        "date": date,
        "company": company,
        "company_logo": "",
        "position": position,
        "tags": tags if tags is not None else ["dev", "engineer"],
        "logo": "",
        "description": description if description is not None else
        f"<p>{company} is hiring a <strong>{position}</strong>.</p><ul><li>Build services</li><li>Own them</li></ul>",
        "location": location,
        "salary_min": salary_min,
        "salary_max": salary_max,
        "apply_url": f"https://remoteok.com/remote-jobs/{job_id}/apply",
        "url": f"https://remoteOK.com/remote-jobs/remote-{slug}-{job_id}",
    }


def jsearch_job(job_id: str, title: str, employer: str = "Acme", *, employment_type: str = "FULLTIME",
                is_remote: bool = False, city: str | None = "Austin", state: str | None = "TX",
                country: str | None = "US", posted: str = "2024-05-01T00:00:00.000Z", expires: str | None = None,
                min_salary: float | None = None, max_salary: float | None = None, salary_period: str | None = None,
                description: str | None = None, skills: list[str] | None = None) -> dict[str, Any]:
    """One JSearch item with the fields the real API sends (and some it sends that we do not use)."""
    return {
        "job_id": job_id,
        "employer_name": employer,
        "employer_logo": None,
        "employer_website": None,
        "job_publisher": "LinkedIn",
        "job_employment_type": employment_type,
        "job_employment_types": [employment_type],
        "job_title": title,
        "job_apply_link": f"https://www.linkedin.com/jobs/view/{zlib.crc32(job_id.encode())}?utm_source=google",
        "job_apply_is_direct": False,
        "job_description": description if description is not None else
        f"{employer} is looking for a {title}.\n\nYou will build and run services.",
        "job_is_remote": is_remote,
        "job_posted_at_timestamp": 1714521600,
        "job_posted_at_datetime_utc": posted,
        "job_location": ", ".join(p for p in (city, state) if p) or None,
        "job_city": city,
        "job_state": state,
        "job_country": country,
        "job_latitude": 30.27,
        "job_longitude": -97.74,
        "job_benefits": None,
        "job_google_link": "https://www.google.com/search?q=jobs",
        "job_offer_expiration_datetime_utc": expires,
        "job_offer_expiration_timestamp": None,
        "job_required_experience": {"no_experience_required": False},
        "job_required_skills": skills,
        "job_salary": None,
        "job_min_salary": min_salary,
        "job_max_salary": max_salary,
        "job_salary_currency": "USD" if min_salary or max_salary else None,
        "job_salary_period": salary_period,
        "job_highlights": {"Qualifications": ["3+ years"]},
        "job_onet_soc": "15113200",
    }


def adzuna_job(job_id: str, title: str, company: str = "Acme", *, area: list[str] | None = None,
               display_location: str = "Austin, Travis County", created: str = "2024-05-01T08:00:00Z",
               contract_type: str | None = "permanent", contract_time: str | None = "full_time",
               salary_min: float | None = 90000, salary_max: float | None = 120000, predicted: str = "0",
               description: str | None = None, category: tuple[str, str] = ("IT Jobs", "it-jobs")) -> dict[str, Any]:
    """One Adzuna search result: nested company/location/category objects, snippet description."""
    item: dict[str, Any] = {
        "__CLASS__": "Adzuna::API::Response::Job",
        "id": str(job_id),
        "adref": "eyJhbGciOiJIUzI1NiJ9",
        "title": title,
        "description": description if description is not None else
        f"{company} is hiring a {title} to build and run services ...",
        "created": created,
        "redirect_url": f"https://www.adzuna.com/land/ad/{job_id}?se=abc&utm_medium=api&v=1",
        "company": {"__CLASS__": "Adzuna::API::Response::Company", "display_name": company},
        "location": {"__CLASS__": "Adzuna::API::Response::Location", "display_name": display_location,
                     "area": area if area is not None else ["US", "Texas", "Travis County", "Austin"]},
        "category": {"__CLASS__": "Adzuna::API::Response::Category", "label": category[0], "tag": category[1]},
        "salary_is_predicted": predicted,
        "latitude": 30.27,
        "longitude": -97.74,
    }
    if contract_type is not None:
        item["contract_type"] = contract_type
    if contract_time is not None:
        item["contract_time"] = contract_time
    if salary_min is not None:
        item["salary_min"] = salary_min
    if salary_max is not None:
        item["salary_max"] = salary_max
    return item


# --------------------------------------------------------------------------------------------------- server


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    at: float = 0.0


@dataclass
class Fault:
    """Answer the next `times` matching requests with `status` and `body` (JSON when not bytes)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    when: Callable[[RecordedRequest], bool] | None = None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a fetcher closing its keep-alive connections) is not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JobApiServer:
    """A threaded loopback HTTP server; subclasses implement `answer(request) -> (status, body, headers)`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.when is None or fault.when(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = RecordedRequest(parts.path, query, {k.lower(): v for k, v in handler.headers.items()},
                                  at=time.monotonic())
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request)
        if fault is not None:
            status, body, headers = fault.status, fault.body, dict(fault.headers)
        else:
            status, body, headers = self.answer(request)
        request.status = status
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        if not isinstance(body, bytes):
            handler.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def start(self) -> JobApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class FakeRemoteOK(JobApiServer):
    def __init__(self, jobs: list[dict[str, Any]] | None = None):
        super().__init__()
        self.jobs = list(jobs or [])

    def answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if request.path != "/api":
            return 404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"}
        tag = request.query.get("tag")
        jobs = [j for j in self.jobs if not tag or tag.lower() in [t.lower() for t in j.get("tags") or []]]
        return 200, [REMOTEOK_LEGAL, *jobs], {}


class FakeJSearch(JobApiServer):
    """JSearch behind RapidAPI. `monthly_quota` None = unlimited; `per_second` None = no per-second limit."""

    page_size = 10

    def __init__(self, jobs: list[dict[str, Any]] | None = None, *, subscribed_keys: tuple[str, ...] = ("test-key",),
                 monthly_quota: int | None = None, per_second: int | None = None, reset_s: int = 1_728_000):
        super().__init__()
        self.jobs = list(jobs or [])
        self.subscribed_keys = subscribed_keys
        self.monthly_quota = monthly_quota
        self.used = 0
        self.per_second = per_second
        self.reset_s = reset_s
        self.per_second_rejections = 0
        self._recent: deque[float] = deque()

    def _quota_headers(self) -> dict[str, str]:
        limit = self.monthly_quota if self.monthly_quota is not None else 1_000_000
        return {"x-ratelimit-requests-limit": str(limit),
                "x-ratelimit-requests-remaining": str(max(0, limit - self.used)),
                "x-ratelimit-requests-reset": str(self.reset_s)}

    def answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        key = request.headers.get("x-rapidapi-key")
        if not key:
            return 401, JSEARCH_INVALID_KEY, {}
        if key not in self.subscribed_keys:
            return 403, JSEARCH_NOT_SUBSCRIBED, {}
        if request.path != "/search":
            return 404, {"message": "Endpoint '/" + request.path.strip("/") + "' does not exist"}, {}
        with self._lock:
            if self.per_second is not None:
                while self._recent and request.at - self._recent[0] > 1.0:
                    self._recent.popleft()
                if len(self._recent) >= self.per_second:
                    self.per_second_rejections += 1
                    return 429, JSEARCH_PER_SECOND, self._quota_headers()
                self._recent.append(request.at)
            page = int(request.query.get("page", "1"))
            num_pages = int(request.query.get("num_pages", "1"))
            cost = 1 if num_pages == 1 else (2 if num_pages <= 10 else 3)
            if self.monthly_quota is not None and self.used + cost > self.monthly_quota:
                return 429, JSEARCH_MONTHLY, {**self._quota_headers(), "x-ratelimit-requests-remaining": "0"}
            self.used += cost
            headers = self._quota_headers()
        jobs = self.jobs
        if request.query.get("remote_jobs_only") == "true":
            jobs = [j for j in jobs if j.get("job_is_remote")]
        start = (page - 1) * self.page_size
        data = jobs[start:start + num_pages * self.page_size]
        parameters = {"query": request.query.get("query", ""), "page": page, "num_pages": num_pages,
                      "date_posted": request.query.get("date_posted", "all")}
        return 200, {"status": "OK", "request_id": str(uuid.uuid4()), "parameters": parameters, "data": data}, headers


class FakeAdzuna(JobApiServer):
    """Adzuna's search. Requests beyond `per_minute` within `window_s` count as overruns and get 429."""

    def __init__(self, jobs: list[dict[str, Any]] | None = None, *, app_id: str = "test-id", app_key: str = "test-key",
                 per_minute: int | None = None, window_s: float = 60.0):
        super().__init__()
        self.jobs = list(jobs or [])
        self.app_id = app_id
        self.app_key = app_key
        self.per_minute = per_minute
        self.window_s = window_s
        self.rate_overruns = 0
        self._recent: deque[float] = deque()

    def answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        match = ADZUNA_PATH.match(request.path)
        if not match:
            return 404, {"display": "Not found", "exception": "NOT_FOUND"}, {}
        if request.query.get("app_id") != self.app_id or request.query.get("app_key") != self.app_key:
            return 401, ADZUNA_AUTH_FAIL, {}
        with self._lock:
            if self.per_minute is not None:
                while self._recent and request.at - self._recent[0] >= self.window_s:
                    self._recent.popleft()
                if len(self._recent) >= self.per_minute:
                    self.rate_overruns += 1
                    return 429, {"display": "Too many requests", "exception": "TOO_MANY_REQUESTS"}, {}
                self._recent.append(request.at)
        per_page = min(int(request.query.get("results_per_page", "10")), 50)
        page = int(match["page"])
        start = (page - 1) * per_page
        results = self.jobs[start:start + per_page]
        salaries = [j["salary_min"] for j in self.jobs if "salary_min" in j]
        mean = sum(salaries) / len(salaries) if salaries else 0
        return 200, {"__CLASS__": "Adzuna::API::Response::JobSearchResults", "count": len(self.jobs),
                     "mean": mean, "results": results}, {}


# --------------------------------------------------------------------------------------------------- together

API_KEYS = {"RAPIDAPI_KEY": "test-key", "ADZUNA_APP_ID": "test-id", "ADZUNA_APP_KEY": "test-key"}


@dataclass
class JobApis:
    """The three fake APIs of one test, and the environment that points the sources at them."""

    remoteok: FakeRemoteOK
    jsearch: FakeJSearch
    adzuna: FakeAdzuna

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {"REMOTEOK_BASE_URL": self.remoteok.base_url, "JSEARCH_BASE_URL": self.jsearch.base_url,
               "ADZUNA_BASE_URL": self.adzuna.base_url, **API_KEYS, **overrides}
        return {k: v for k, v in env.items() if v is not None}


@contextmanager
def running_job_apis() -> Iterator[JobApis]:
    """The three servers, empty and started; stopped on exit."""
    with FakeRemoteOK() as remoteok, FakeJSearch() as jsearch, FakeAdzuna() as adzuna:
        yield JobApis(remoteok, jsearch, adzuna)
