"""A loopback HTTP server that serves feeds the way real servers do, faults included, and records every request.

Per path: a body, validators (ETag / Last-Modified, honoured as 304s), gzip Content-Encoding, chunked transfer,
a scripted list of failure statuses to answer first (503, 429 with Retry-After, ...), and connections dropped
after N body bytes. Threaded stdlib `http.server` on 127.0.0.1 port 0; use the `feed_server` fixture.
"""
from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


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

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- serving

    def _handle(self, handler: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(SeenRequest("HEAD" if head else "GET", path, dict(handler.headers.items())))
            route = self.routes.get(path)
            failure = route.failures.pop(0) if route and route.failures else None
            drop_after = route.drop_after.pop(0) if route and route.drop_after and not head else None
        if route is None:
            self._send_simple(handler, 404, b"<html><body>Not Found</body></html>", head)
            return
        if head and not route.head_allowed:
            self._send_simple(handler, 405, b"", head)
            return
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
