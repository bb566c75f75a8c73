"""The one loopback HTTP server the tests publish feeds with: it serves them the way real hosts do, faults
included, and records every request.

Per path: a body, validators (ETag / Last-Modified, honoured as 304s), gzip Content-Encoding, chunked transfer,
a scripted list of failure statuses to answer first (503, 429 with Retry-After, ...), a status answered to every
request, connections dropped after N body bytes, a redirect, a slow host, and a gate that holds every GET's body
back until the test opens it. `Route.publish` puts out a new version (new bytes, new validators). Threaded stdlib
`http.server` on 127.0.0.1 port 0; use the `feed_server` fixture or `with FeedServer() as server:`.
"""
from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"  # a Last-Modified for documents that send one


def content_etag(body: bytes) -> str:
    """The ETag a host that derives it from the bytes would send."""
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def closed_port_url(path: str = "/feed.xml") -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@dataclass
class Route:
    body: bytes
    content_type: str = "application/xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    gzip_encoding: bool = False  # Content-Encoding: gzip when the client accepts it
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    chunk_size: int = 4096
    failures: list[int] = field(default_factory=list)  # statuses to answer, in order, before serving the body
    retry_after: str | None = None  # Retry-After header sent with failure statuses
    drop_after: list[int] = field(default_factory=list)  # per GET, in order: cut the body after this many bytes
    head_allowed: bool = True
    ignore_conditionals: bool = False
    error_status: int | None = None  # answered to every request (a host that is down or a feed that is gone)
    redirect_to: str | None = None  # every request answered 302 to this location
    delay_s: float = 0.0  # a slow host: every answer waits this long
    gate: threading.Event | None = None  # every GET's answer waits until the test sets it

    def publish(self, body: bytes) -> None:
        """A new version: new bytes, a new content ETag and a Last-Modified a minute later (each when sent)."""
        self.body = body
        if self.etag is not None:
            self.etag = content_etag(body)
        if self.last_modified is not None:
            later = parsedate_to_datetime(self.last_modified).timestamp() + 60
            self.last_modified = formatdate(later, usegmt=True)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str  # without the query
    headers: dict[str, str]
    target: str = ""  # the request target as sent, query included

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    @property
    def if_none_match(self) -> str | None:
        return self.header("If-None-Match")

    @property
    def if_modified_since(self) -> str | None:
        return self.header("If-Modified-Since")


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                server._handle(self, head=True)

            def do_GET(self) -> None:
                server._handle(self, head=False)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes, **options) -> str:
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def requests_for(self, path: str, method: str = "GET") -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path and r.method == method]

    def full_downloads(self, path: str) -> int:
        """GETs of `path` that were not conditional: the body had to be sent."""
        return sum(1 for r in self.requests_for(path) if r.if_none_match is None and r.if_modified_since is None)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for route in self.routes.values():  # a held answer must not outlive the server
            if route.gate is not None:
                route.gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- serving

    def _handle(self, handler: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(SeenRequest("HEAD" if head else "GET", path, dict(handler.headers.items()),
                                             handler.path))
            route = self.routes.get(path)
            failure = route.failures.pop(0) if route and route.failures else None
            drop_after = route.drop_after.pop(0) if route and route.drop_after and not head else None
        if route is None:
            self._send_simple(handler, 404, b"<html><body>Not Found</body></html>", head)
            return
        if route.delay_s:
            time.sleep(route.delay_s)
        if route.gate is not None and not head:
            route.gate.wait(300)
        if head and not route.head_allowed:
            self._send_simple(handler, 405, b"", head)
            return
        if route.redirect_to is not None:
            self._send_simple(handler, 302, b"", head, {"Location": route.redirect_to})
            return
        if failure is None and route.error_status is not None:
            failure = route.error_status
        if failure is not None:
            extra = {"Retry-After": route.retry_after} if route.retry_after and failure in (429, 503) else {}
            self._send_simple(handler, failure, f"<error>status {failure}</error>".encode(), head, extra)
            return
        validators = {}
        if route.etag:
            validators["ETag"] = route.etag
        if route.last_modified:
            validators["Last-Modified"] = route.last_modified
        if not route.ignore_conditionals and self._not_modified(handler, route):
            handler.send_response(304)
            for name, value in validators.items():
                handler.send_header(name, value)
            handler.end_headers()
            return
        body = route.body
        headers = {"Content-Type": route.content_type, **validators}
        if route.gzip_encoding and "gzip" in handler.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        handler.send_response(200)
        for name, value in headers.items():
            handler.send_header(name, value)
        if route.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if head:
            return
        limit = len(body) if drop_after is None else min(drop_after, len(body))
        try:
            if route.chunked:
                for start in range(0, limit, route.chunk_size):
                    piece = body[start:min(start + route.chunk_size, limit)]
                    handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                if drop_after is None:
                    handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.wfile.write(body[:limit])
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if drop_after is not None:
            handler.close_connection = True
            handler.connection.shutdown(2)

    @staticmethod
    def _not_modified(handler: BaseHTTPRequestHandler, route: Route) -> bool:
        if_none_match = handler.headers.get("If-None-Match")
        if if_none_match is not None:
            return route.etag is not None and route.etag in [t.strip() for t in if_none_match.split(",")]
        if_modified_since = handler.headers.get("If-Modified-Since")
        return bool(if_modified_since and route.last_modified and if_modified_since == route.last_modified)

    @staticmethod
    def _send_simple(handler: BaseHTTPRequestHandler, status: int, body: bytes, head: bool,
                     headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if not head:
            handler.wfile.write(body)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
