"""A loopback Gemini API for tests and benchmarks: the real wire format, deterministic answers, injectable faults.

Implements `POST /{version}/models/{model}:generateContent` and `:countTokens` as REFERENCE.md describes them,
so the real google-genai SDK talks to it through `HttpOptions(base_url=...)`. It reads the job ids from the
prompt (`<job id="J1">` blocks) and the allowed values from the request's responseSchema enum, and answers one
item per job. Every request is recorded. Faults are queued and consumed by the requests they match:

    with FakeGeminiServer() as server:
        server.add_faults(Fault("rate_limit", retry_delay="0.05s"), Fault("bad_confidence", item=0))
        ...  # client with base_url=server.base_url, api_key=server.api_key
        assert server.generate_calls == 3

An optional per-minute request cap (`rpm_limit` over a sliding `window_s`) answers 429 like Google does and
counts how often the client overran it (`rpm_rejections`).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from feed_pipeline.core.enrichment import NO_FIT_FUNCTION

FAULT_KINDS = frozenset({
    "rate_limit",  # 429 RESOURCE_EXHAUSTED, per-minute quota, with RetryInfo unless retry_delay is None
    "daily_quota",  # 429 RESOURCE_EXHAUSTED, per-day quota id (and a RetryInfo the client must not wait for)
    "unavailable",  # 503 UNAVAILABLE
    "internal",  # 500 INTERNAL
    "slow",  # answers correctly after delay_s (past the client's timeout when delay_s is larger)
    "not_json",  # 200 with prose instead of JSON
    "fenced",  # 200 with the JSON inside a ```json fence
    "truncated",  # 200, finishReason MAX_TOKENS, JSON cut in half
    "drop_item",  # 200 without the item at index `item`
    "bad_industry",  # 200, item `item` names a value outside the enum
    "bad_confidence",  # 200, item `item` has confidence 1.7
})
JOB_BLOCK = re.compile(r'<job id="(?P<id>[^"]+)">\n(?P<body>.*?)\n</job>', re.DOTALL)
PATH = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+):(?P<action>generateContent|countTokens)$")
PER_MINUTE_QUOTA = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
PER_DAY_QUOTA = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next `times` requests that `when` accepts (all, if None)."""

    kind: str
    times: int = 1
    when: Callable[[RecordedRequest], bool] | None = None
    retry_delay: str | None = "0.05s"
    delay_s: float = 1.0
    item: int = -1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose one of {sorted(FAULT_KINDS)}")


@dataclass
class RecordedRequest:
    version: str
    model: str
    action: str
    api_key: str | None
    body: dict[str, Any]
    received_at: float
    job_ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    stage: str | None = None  # "industry" | "function" for generateContent
    status: int = 0
    fault: str | None = None
    index: int = 0  # position among all requests this server received (0 = first)

    @property
    def prompt_text(self) -> str:
        return "".join(p.get("text", "") for c in self.body.get("contents", []) for p in c.get("parts", []))


def default_industry_item(job_id: str, fields: dict[str, str], allowed: list[str]) -> dict[str, Any]:
    """A deterministic, valid stage 1 item: the industry is picked from the allowed list by a hash of the title."""
    title = fields.get("Title", "")
    return {
        "id": job_id,
        "industry": pick(title, allowed),
        "confidence": 0.9,
        "ai_title": title.strip() or "Untitled",
        "ai_description": (fields.get("Description", "") or title)[:120] or "No description.",
        "skills": ["communication"],
        "tech_stack": [],
        "seniority": None,
        "remote_policy": None,
        "application_deadline": None,
    }


def default_function_item(job_id: str, fields: dict[str, str], allowed: list[str]) -> dict[str, Any]:
    """A deterministic, valid stage 2 item: one of the industry's functions, never the "none of these" answer."""
    functions = [value for value in allowed if value != NO_FIT_FUNCTION]
    return {"id": job_id, "job_function": pick(fields.get("Title", ""), functions), "confidence": 0.88}


def pick(text: str, allowed: list[str]) -> str:
    """The allowed value a test can predict for `text`."""
    return allowed[int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(allowed)]


def parse_job_blocks(prompt: str) -> list[tuple[str, dict[str, str]]]:
    """(id, {"Title": ..., "Description": ...}) for every job block in the prompt."""
    jobs = []
    for match in JOB_BLOCK.finditer(prompt):
        fields: dict[str, str] = {}
        lines = match.group("body").split("\n")
        for index, line in enumerate(lines):
            if line == "Description:":
                fields["Description"] = "\n".join(lines[index + 1 :]).strip()
                break
            name, _, value = line.partition(": ")
            fields[name] = value
        jobs.append((match.group("id"), fields))
    return jobs


class FakeGeminiServer:
    """The loopback server; use as a context manager. Thread-safe; every handler runs in its own thread."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        latency_s: float = 0.0,
        rpm_limit: int | None = None,
        window_s: float = 60.0,
        known_models: set[str] | None = None,
        industry_item: Callable[[str, dict[str, str], list[str]], dict] = default_industry_item,
        function_item: Callable[[str, dict[str, str], list[str]], dict] = default_function_item,
    ):
        self.api_key = api_key
        self.latency_s = latency_s
        self.rpm_limit = rpm_limit
        self.window_s = window_s
        self.known_models = known_models
        self.industry_item = industry_item
        self.function_item = function_item
        self.requests: list[RecordedRequest] = []
        self.rpm_rejections = 0
        self._faults: list[Fault] = []
        self._accepted: deque[float] = deque()
        self._lock = threading.RLock()  # fault predicates may read the recorded requests
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> FakeGeminiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-gemini", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server, "start the server first"
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- test helpers ------------------------------------------------------------------------------------
    def add_faults(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    @property
    def generate_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.action == "generateContent"]

    @property
    def generate_calls(self) -> int:
        return len(self.generate_requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._accepted.clear()
            self.rpm_rejections = 0

    # -- request handling ----------------------------------------------------------------------------------
    def handle(self, path: str, api_key: str | None, raw: bytes) -> tuple[int, dict[str, Any], float]:
        """(status, JSON body, seconds to wait before answering) for one POST."""
        match = PATH.match(path)
        if not match:
            return 404, _error(404, "NOT_FOUND", f"Unknown path {path}"), 0.0
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            return 400, _error(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {exc.msg}"), 0.0
        request = RecordedRequest(version=match["version"], model=match["model"], action=match["action"],
                                  api_key=api_key, body=body, received_at=time.monotonic())
        with self._lock:
            request.index = len(self.requests)
            self.requests.append(request)
        status, answer, wait = self._answer(request)
        request.status = status
        return status, answer, wait

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, Any], float]:
        if request.api_key != self.api_key:
            return 400, _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]), 0.0
        if self.known_models is not None and request.model not in self.known_models:
            return 404, _error(404, "NOT_FOUND", f"models/{request.model} is not found for API version "
                               f"{request.version}, or is not supported for generateContent."), 0.0
        if request.action == "countTokens":
            return 200, {"totalTokens": math.ceil(len(_texts(request.body.get("contents", []))) / 4)}, 0.0
        prompt = request.prompt_text
        jobs = parse_job_blocks(prompt)
        request.job_ids = [job_id for job_id, _ in jobs]
        request.titles = [fields.get("Title", "") for _, fields in jobs]
        item_schema = _item_schema(request.body)
        if "industry" in item_schema:
            request.stage, value_field = "industry", "industry"
        elif "job_function" in item_schema:
            request.stage, value_field = "function", "job_function"
        else:
            return 400, _error(400, "INVALID_ARGUMENT", "this fake answers only the pipeline's two schemas"), 0.0
        with self._lock:
            if self.rpm_limit is not None:
                now = time.monotonic()
                while self._accepted and self._accepted[0] <= now - self.window_s:
                    self._accepted.popleft()
                if len(self._accepted) >= self.rpm_limit:
                    self.rpm_rejections += 1
                    request.fault = "rpm_cap"
                    wait = self._accepted[0] + self.window_s - now
                    return 429, _quota_error(PER_MINUTE_QUOTA, f"{max(wait, 0.001):.3f}s"), 0.0
                self._accepted.append(now)
            fault = self._take_fault(request)
        request.fault = fault.kind if fault else None
        if fault and fault.kind == "rate_limit":
            return 429, _quota_error(PER_MINUTE_QUOTA, fault.retry_delay), self.latency_s
        if fault and fault.kind == "daily_quota":
            return 429, _quota_error(PER_DAY_QUOTA, fault.retry_delay or "33s"), self.latency_s
        if fault and fault.kind == "unavailable":
            return 503, _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), self.latency_s
        if fault and fault.kind == "internal":
            return 500, _error(500, "INTERNAL", "An internal error has occurred."), self.latency_s
        allowed = item_schema[value_field].get("enum") or []
        make = self.industry_item if request.stage == "industry" else self.function_item
        items = [make(job_id, fields, allowed) for job_id, fields in jobs]
        finish = "STOP"
        target = fault.item if fault and -len(items) <= fault.item < len(items) else -1
        if fault and fault.kind == "drop_item" and items:
            del items[target]
        if fault and fault.kind == "bad_industry" and items:
            items[target][value_field] = "Space Piracy"
        if fault and fault.kind == "bad_confidence" and items:
            items[target]["confidence"] = 1.7
        text = json.dumps({"items": items})
        if fault and fault.kind == "fenced":
            text = f"```json\n{text}\n```"
        if fault and fault.kind == "not_json":
            text = "I'm sorry, but I can't classify these job postings."
        if fault and fault.kind == "truncated":
            text, finish = text[: len(text) // 2], "MAX_TOKENS"
        wait = self.latency_s + (fault.delay_s if fault and fault.kind == "slow" else 0.0)
        return 200, _generate_response(request, text, finish, len(prompt)), wait

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and (fault.when is None or fault.when(request)):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeGeminiServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        status, body, wait = self.fake.handle(path, self.headers.get("x-goog-api-key"), raw)
        if wait > 0:
            time.sleep(wait)
        payload = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before the answer came

    def do_GET(self) -> None:
        payload = json.dumps(_error(404, "NOT_FOUND", f"Unknown path {self.path}")).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _item_schema(body: dict[str, Any]) -> dict[str, Any]:
    schema = (body.get("generationConfig") or {}).get("responseSchema") or {}
    try:
        return schema["properties"]["items"]["items"]["properties"]
    except (KeyError, TypeError):
        return {}


def _texts(contents: list[dict[str, Any]]) -> str:
    return "".join(p.get("text", "") for c in contents if isinstance(c, dict) for p in c.get("parts", []))


def _generate_response(request: RecordedRequest, text: str, finish: str, prompt_chars: int) -> dict[str, Any]:
    system = _texts([(request.body.get("systemInstruction") or {})])
    prompt_tokens = math.ceil((prompt_chars + len(system)) / 4)
    output_tokens = math.ceil(len(text) / 4)
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": output_tokens,
                          "totalTokenCount": prompt_tokens + output_tokens},
        "modelVersion": request.model,
        "responseId": hashlib.sha256(f"{request.received_at}{text}".encode()).hexdigest()[:22],
    }


def _error(code: int, status: str, message: str, details: list[dict] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def _quota_error(quota_id: str, retry_delay: str | None) -> dict[str, Any]:
    details: list[dict[str, Any]] = [{
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": quota_id, "quotaValue": "10"}],
    }]
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    return _error(429, "RESOURCE_EXHAUSTED",
                  "You exceeded your current quota, please check your plan and billing details.", details)
