"""A loopback HTTP server publishing feed documents the way real feed hosts do, for the feed-update sensor's tests.

Each path serves one document whose validators are chosen per document: an ETag (honouring If-None-Match),
a Last-Modified date (honouring If-Modified-Since), both, or neither (the client must hash the body). A
document can also answer a fixed error status, or answer late. HEAD is answered like GET without a body.
Every request is logged (method, path, conditional headers) so tests can tell a cheap probe from a download.
"""
from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FeedDocument:
    body: bytes
    send_etag: bool = True
    send_last_modified: bool = False
    error_status: int | None = None
    modified_at: float = 1_700_000_000.0
    delay_s: float = 0.0  # a slow host: every answer waits this long

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.modified_at, usegmt=True)

    def publish(self, body: bytes) -> None:
        """A new version: new bytes, a later Last-Modified (and so a new ETag)."""
        self.body = body
        self.modified_at += 60


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    if_none_match: str | None
    if_modified_since: str | None


@dataclass
class FeedServer:
    documents: dict[str, FeedDocument] = field(default_factory=dict)
    requests: list[LoggedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def full_downloads(self, path: str) -> int:
        """GETs of `path` that were not conditional: the body had to be sent."""
        return sum(1 for r in self.requests if r.path == path and r.method == "GET"
                   and r.if_none_match is None and r.if_modified_since is None)

    def start(self) -> FeedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def _answer(self, send_body: bool) -> None:
                server.requests.append(LoggedRequest(self.command, self.path, self.headers.get("If-None-Match"),
                                                     self.headers.get("If-Modified-Since")))
                doc = server.documents.get(self.path)
                if doc is not None and doc.delay_s:
                    time.sleep(doc.delay_s)
                if doc is None or doc.error_status is not None:
                    status = 404 if doc is None else doc.error_status
                    payload = b"<error>no such feed</error>" if doc is None else b"<error>upstream down</error>"
                    self._send(status, {"Content-Type": "application/xml"}, payload, send_body)
                    return
                headers = {"Content-Type": "application/xml"}
                if doc.send_etag:
                    headers["ETag"] = doc.etag
                if doc.send_last_modified:
                    headers["Last-Modified"] = doc.last_modified
                not_modified = (
                    (doc.send_etag and self.headers.get("If-None-Match") == doc.etag)
                    or (doc.send_last_modified and not doc.send_etag
                        and self.headers.get("If-Modified-Since") == doc.last_modified)
                )
                if not_modified:
                    self._send(304, headers, b"", send_body=False)
                    return
                self._send(200, headers, doc.body, send_body)

            def _send(self, status: int, headers: dict[str, str], body: bytes, send_body: bool) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and status != 304:
                    self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def closed_port_url(path: str = "/feed.xml") -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
