"""A small HTTP server on 127.0.0.1, the one the crawl benchmark (`bench.crawl`) and the crawl fault
tests serve from: routes are functions, every request is logged.

The server listens on an ephemeral port of the loopback interface only and runs in daemon threads,
so a caller that forgets to stop it cannot keep the process alive. Handlers that stall (a timeout
case) sleep a bounded time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit


@dataclass
class Seen:
    """One request the server received, logged when it arrives (a test may look before a slow
    route has answered)."""

    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived
    status: int | None = None  # what the route answered; None until it does, or when it wrote nothing


Route = Callable[["Exchange"], None]


@dataclass
class Exchange:
    """What a route gets: the request, a way to answer it, and how often this path was asked before."""

    handler: BaseHTTPRequestHandler
    path: str
    hits: int  # earlier requests of this path
    status: int | None = field(default=None, init=False)

    @property
    def target(self) -> str:
        """The path with its query, as requested."""
        return self.handler.path

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.handler.headers.items())

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bool:
        """Answer in full; False when the client has hung up (a timed-out request)."""
        return self.start(status, {"Content-Length": str(len(body)), **(headers or {})}) and self.write(body)

    def start(self, status: int, headers: dict[str, str] | None = None) -> bool:
        """Send the status line and headers; the body follows with `write`."""
        self.status = status
        try:
            self.handler.send_response(status)
            for name, value in (headers or {}).items():
                self.handler.send_header(name, value)
            self.handler.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def write(self, data: bytes) -> bool:
        """Write body bytes; False when the client has hung up."""
        try:
            self.handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True


class LocalServer:
    """Answer `routes[path]` (path without query); any other path `default`, when set, else a 404."""

    def __init__(self, routes: dict[str, Route], default: Route | None = None):
        self.routes = routes
        self.default = default
        self.seen: list[Seen] = []
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm on, the client's delayed
            # ACK holds the body back ~40 ms per response, and the crawl benchmark would measure that stall.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._answer(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # callers read `seen`, not stderr

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="local-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        seen = Seen(path, dict(handler.headers.items()), time.monotonic())
        with self._lock:
            hits = self._hits[path]
            self._hits[path] += 1
            self.seen.append(seen)
        exchange = Exchange(handler, path, hits)
        route = self.routes.get(path, self.default)
        try:
            if route is None:
                exchange.send(404, b"not found")
            else:
                route(exchange)
        finally:
            seen.status = exchange.status

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
