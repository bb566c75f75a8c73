"""A local stand-in for a Xano API group: the generated CRUD endpoints of one table, over real HTTP.

Wire format as Xano's (see /work/shared/REFERENCE.md):
- `GET {prefix}/{table}`: a bare JSON array by default; with `?page=&per_page=` the paging envelope
  `{items, itemsReceived, curPage, nextPage, prevPage, offset, perPage}` (`nextPage` null on the last
  page). `list_mode="bare"` ignores paging inputs (an endpoint without paging), `"paged"` always pages.
  No filter inputs: Xano's generated list has none, so clients list everything.
- `POST {prefix}/{table}` creates and returns the record; `GET/PATCH/DELETE {prefix}/{table}/{id}`;
  DELETE answers 200 with `null`. Ids are integers, `created_at` epoch milliseconds.
- Errors are `{code, message, payload}` with Xano's codes; Bearer auth when a token is configured
  (none = open); the free plan's rate limit when configured (429, no Retry-After).
Faults (`SandboxFaults`) make it misbehave on purpose. The stdlib ThreadingHTTPServer starts in
milliseconds in a thread, so tests and `XanoSandboxResource` use it directly.
"""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import make_url

from feed_pipeline.sandbox.faults import (
    DEFAULT_MESSAGES,
    ERROR_CODES,
    FaultKind,
    RateLimit,
    SandboxFaults,
)
from feed_pipeline.sandbox.store import SandboxStore
from feed_pipeline.settings import Settings

SANDBOX_FILE_NAME = "xano_sandbox.sqlite"
DEFAULT_API_PREFIX = "/api:sandbox"
DEFAULT_PER_PAGE = 50
LIST_MODES = ("auto", "bare", "paged")
REQUEST_LOG_SIZE = 100_000


def default_sandbox_db(env: dict[str, str] | None = None) -> Path:
    """Where the sandbox keeps its records: beside the configured state, never wherever the command was started.

    The folder of the SQLite database when FEED_PIPELINE_DATABASE_URL names a SQLite file, otherwise the state
    directory (FEED_PIPELINE_STATE_DIR, default `.feed_pipeline`, where the default database lives too).
    """
    settings = Settings.from_env(env)
    url = settings.database_url
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            return Path(database).expanduser().resolve().parent / SANDBOX_FILE_NAME
    return settings.state_path(SANDBOX_FILE_NAME).expanduser().resolve()


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the sandbox saw it; `status` is None when the connection was dropped."""

    method: str
    path: str
    query: str
    status: int | None


class _Dropped(Exception):
    """Raised inside the handler to close the connection without an answer."""


class _ErrorResponse(Exception):
    def __init__(self, status: int, message: str | None = None, *, code: str | None = None, payload: Any = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or ERROR_CODES.get(status, "ERROR_FATAL")
        self.message = message or DEFAULT_MESSAGES.get(status, "Error.")
        self.payload = payload
        self.headers = headers or {}


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sandbox: XanoSandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timed out, test ended) is normal here, not worth a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        if self.sandbox.stopped:  # a slow (delayed) request outlived the sandbox; nobody is listening
            return
        super().handle_error(request, client_address)


class _XanoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients expect
    server: _SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle holds the body for a delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    # ---- plumbing -------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _serve(self, method: str) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        body = self._read_body()
        status: int | None
        try:
            payload, status = sandbox.respond(method, url.path, url.query, body, self.headers.get("Authorization"))
        except _Dropped:
            sandbox.log(LoggedRequest(method, url.path, url.query, None))
            self._drop()
            return
        except _ErrorResponse as err:
            status = err.status
            sandbox.log(LoggedRequest(method, url.path, url.query, status))
            self._send_json(status, {"code": err.code, "message": err.message, "payload": err.payload}, err.headers)
            return
        sandbox.log(LoggedRequest(method, url.path, url.query, status))
        self._send_json(status, payload)


def _parse_positive_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise _ErrorResponse(400, f"Value is not properly formatted for param:{name}.", payload={"param": name})
    return number


class XanoSandbox:
    """One sandbox server: a store, a fault plan, a request log, and a server thread.

    `with XanoSandbox(db_path) as sandbox:` serves on 127.0.0.1 at a free port until the block ends;
    `sandbox.base_url` is the API group base (`http://127.0.0.1:PORT/api:sandbox`). `db_path` None is
    `default_sandbox_db()`.
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        table: str = "job",
        api_prefix: str = DEFAULT_API_PREFIX,
        list_mode: str = "auto",
        rate_limit: int | None = None,
        window_s: float = 20.0,
        default_per_page: int = DEFAULT_PER_PAGE,
        latency_s: float = 0.0,
    ) -> None:
        if list_mode not in LIST_MODES:
            raise ValueError(f"list_mode must be one of {LIST_MODES}, got {list_mode!r}")
        if not table or "/" in table:
            raise ValueError(f"table must be a plain name like 'job', got {table!r}")
        self.store = SandboxStore(db_path or default_sandbox_db())
        self.faults = SandboxFaults(RateLimit(rate_limit, window_s) if rate_limit else None)
        self.token = token
        self.table = table
        self.api_prefix = "/" + api_prefix.strip("/") if api_prefix.strip("/") else ""
        self.list_mode = list_mode
        self.default_per_page = default_per_page
        self.latency_s = latency_s  # added to every answer: a remote Xano's round trip, for benchmarks
        self._host, self._port = host, port
        self._log: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._counts: Counter[tuple[str, int | None]] = Counter()
        self._log_lock = threading.Lock()
        self._httpd: _SandboxHTTPServer | None = None
        self.stopped = False
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------------
    def bind(self) -> _SandboxHTTPServer:
        """Open the listening socket (port 0 picks a free one); `base_url` is known from here on."""
        if self._httpd is not None:
            return self._httpd
        httpd = _SandboxHTTPServer((self._host, self._port), _XanoHandler)
        httpd.sandbox = self
        self._httpd = httpd
        return httpd

    def start(self) -> XanoSandbox:
        """Serve in a daemon thread; returns at once."""
        httpd = self.bind()
        # A short poll interval makes `stop()` return in milliseconds instead of half a second.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="xano-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve(self) -> None:
        """Serve in the calling thread until interrupted."""
        httpd = self.bind()
        try:
            httpd.serve_forever()
        finally:
            httpd.server_close()
            self.store.close()

    def stop(self) -> None:
        self.stopped = True
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started; use `with XanoSandbox(...) as sandbox:`")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{self.api_prefix}"

    # ---- observing ------------------------------------------------------------------------------
    def log(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)
            self._counts[(entry.method, entry.status)] += 1

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self._log)

    def calls(self, *methods: str) -> int:
        """How many requests arrived (answered or dropped), optionally only these methods."""
        wanted = {m.upper() for m in methods}
        with self._log_lock:
            return sum(n for (method, _), n in self._counts.items() if not wanted or method in wanted)

    def write_calls(self) -> int:
        return self.calls("POST", "PATCH", "DELETE", "PUT")

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._counts.clear()

    def records(self) -> list[dict[str, Any]]:
        """Every record of the table, read straight from the store (no HTTP, no faults)."""
        return self.store.list(self.table)

    # ---- the API ----------------------------------------------------------------------------------
    def respond(self, method: str, path: str, query: str, body: bytes, authorization: str | None) -> tuple[Any, int]:
        """The answer to one request as (JSON payload, status); raises for errors and dropped connections."""
        faults = self.faults
        if self.latency_s:
            time.sleep(self.latency_s)
        if faults.is_crashed():
            raise _Dropped()
        limit = faults.admit()
        if limit is not None:
            raise _ErrorResponse(429, limit.message)
        if self.token and authorization != f"Bearer {self.token}":
            message = "Missing authentication token." if not authorization else "Invalid token."
            raise _ErrorResponse(401, message)
        drop_after_write = False
        rule = faults.take_rule(method)
        if rule is not None:
            if rule.kind is FaultKind.DELAY:
                time.sleep(rule.delay_s)
            elif rule.kind is FaultKind.ACTION and rule.action is not None:
                rule.action()
            elif rule.kind is FaultKind.DROP:
                raise _Dropped()
            elif rule.kind is FaultKind.STATUS:
                headers = {"Retry-After": rule.retry_after} if rule.retry_after is not None else None
                raise _ErrorResponse(rule.status, rule.message, code=rule.code, headers=headers)
            elif rule.kind is FaultKind.DROP_AFTER_WRITE:
                drop_after_write = True
        payload, status, wrote = self._route(method, unquote(path), query, body)
        if wrote:
            faults.record_write()
        if drop_after_write:
            raise _Dropped()
        return payload, status

    def _route(self, method: str, path: str, query: str, body: bytes) -> tuple[Any, int, bool]:
        base = f"{self.api_prefix}/{self.table}"
        if path.rstrip("/") == base:
            if method == "GET":
                return self._list(query), 200, False
            if method == "POST":
                return self._create(self._json_object(body)), 200, True
        elif path.startswith(base + "/") and "/" not in path[len(base) + 1:].rstrip("/"):
            record_id = self._record_id(path[len(base) + 1:].rstrip("/"))
            if method == "GET":
                return self._existing(record_id), 200, False
            if method == "PATCH":
                return self._update(record_id, self._json_object(body)), 200, True
            if method == "DELETE":
                self._existing(record_id)
                self.store.delete(self.table, record_id)
                return None, 200, True
        raise _ErrorResponse(404, "Unable to locate request.")

    @staticmethod
    def _record_id(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise _ErrorResponse(
                400, f"Value is not properly formatted for param:{'job_id'}.", payload={"param": "job_id"}
            ) from None

    @staticmethod
    def _json_object(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise _ErrorResponse(400, "Unable to parse the JSON body.", code="ERROR_CODE_BAD_REQUEST") from None
        if not isinstance(data, dict):
            raise _ErrorResponse(400, "The body must be a JSON object.", code="ERROR_CODE_BAD_REQUEST")
        return data

    def _existing(self, record_id: int) -> dict[str, Any]:
        record = self.store.get(self.table, record_id)
        if record is None:
            raise _ErrorResponse(404, "Not Found.")
        return record

    def _reject_if_refused(self, job_key: object) -> None:
        rejection = self.faults.rejection_for(job_key)
        if rejection is not None:
            raise _ErrorResponse(rejection.status, rejection.message, code=rejection.code, payload={"param": "job_key"})

    def _create(self, fields: dict[str, Any]) -> dict[str, Any]:
        self._reject_if_refused(fields.get("job_key"))
        return self.store.create(self.table, fields)

    def _update(self, record_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        current = self._existing(record_id)
        self._reject_if_refused(fields.get("job_key", current.get("job_key")))
        updated = self.store.update(self.table, record_id, fields)
        if updated is None:  # deleted between the read and the write
            raise _ErrorResponse(404, "Not Found.")
        return updated

    def _list(self, query: str) -> Any:
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        wants_page = "page" in params or "per_page" in params
        if self.list_mode == "bare" or (self.list_mode == "auto" and not wants_page):
            return self.store.list(self.table)
        page = _parse_positive_int(params.get("page", "1"), "page")
        per_page = _parse_positive_int(params.get("per_page", str(self.default_per_page)), "per_page")
        offset = (page - 1) * per_page
        items = self.store.list(self.table, offset=offset, limit=per_page + 1)
        has_next = len(items) > per_page
        items = items[:per_page]
        return {
            "items": items,
            "itemsReceived": len(items),
            "curPage": page,
            "nextPage": page + 1 if has_next else None,
            "prevPage": page - 1 if page > 1 else None,
            "offset": offset,
            "perPage": per_page,
        }


@contextmanager
def running_sandbox(db_path: str | Path | None = None, **options: Any) -> Iterator[str]:
    """Serve a sandbox on 127.0.0.1 at a free port for the block; yields its base URL."""
    with XanoSandbox(db_path, **options) as sandbox:
        yield sandbox.base_url


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8787,
    db_path: str | Path | None = None,
    token: str | None = None,
    *,
    table: str = "job",
    rate_limit: int | None = None,
    window_s: float = 20.0,
    list_mode: str = "auto",
    api_prefix: str = DEFAULT_API_PREFIX,
) -> None:
    """Serve the sandbox in the foreground (the `feed-pipeline xano-sandbox` command) until Ctrl-C."""
    sandbox = XanoSandbox(
        db_path,
        host=host,
        port=port,
        token=token,
        table=table,
        rate_limit=rate_limit,
        window_s=window_s,
        list_mode=list_mode,
        api_prefix=api_prefix,
    )
    sandbox.bind()
    base_url = sandbox.base_url.replace("http://0.0.0.0:", "http://127.0.0.1:")
    print(
        f"Xano sandbox: {base_url}/{table} ({sandbox.store.count(table)} records in {sandbox.store.db_path}); "
        f"set XANO_BASE_URL={base_url} to mirror into it. Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    try:
        sandbox.serve()
    except KeyboardInterrupt:
        pass
