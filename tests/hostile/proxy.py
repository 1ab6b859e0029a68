"""A hostile server for tests: a loopback HTTP proxy in front of waldur-sim that misbehaves.

    with Recorder() as elsewhere, HostileProxy(sim.base_url, RewriteUrls(elsewhere.base_url)) as p:
        reconcile(sim, "plan", ..., api_url=p.api_url)
        assert elsewhere.requests == []

The proxy forwards every request to the simulator (with its own ``Host``, so the simulator's
links name the proxy), then lets its behaviours change the answer. Behaviours can be swapped
while it runs (``proxy.behaviours = [...]``), e.g. an honest plan, then a hostile apply.

- `RewriteUrls(base)`: every occurrence of the proxy's own base URL in the body and in the
  ``Link`` header is replaced by `base` (another loopback listener, a `Recorder`): objects'
  ``url`` fields, parent links and ``next``/``last`` links then name another server.
- `InflatePagination(...)`: listings claim ``X-Result-Count: 999999999`` and/or a ``last``
  (and ``next``) link to page 999999999.
- `Misshape(value)`: package listings whose every package's ``versions`` is `value` (a
  string, a list of numbers): trees not of Waldur's shape.
- `HugeBody(megabytes)`: listings answer a valid JSON array padded with that much whitespace,
  streamed in 1 MiB chunks (never held in memory here).
- `EchoHeaders(methods)`: a write (POST, PUT, PATCH, DELETE; `methods=None`: every request)
  is answered 400 with a body that quotes every request header, ``Authorization`` included;
  nothing reaches the simulator.
- `Drip(seconds)`: the answer's body is sent one byte every `seconds`.

`Recorder` is the "other address": a listener that records every request reaching it (method,
path, headers, body) and answers ``200 {}``.

Both servers are threaded, bind 127.0.0.1 on a free port and speak HTTP/1.0 (one request per
connection), so a body without ``Content-Length`` ends when the connection closes.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

WRITES = ("POST", "PUT", "PATCH", "DELETE")
CHUNK = 1 << 20


@dataclass
class Exchange:
    """One request as the proxy saw it and the answer it is about to send."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer_headers: list[tuple[str, str]] = field(default_factory=list)
    answer: Iterable[bytes] = ()
    proxy_base: str = ""

    def header(self, name: str) -> str | None:
        for key, value in self.answer_headers:
            if key.lower() == name.lower():
                return value
        return None

    def set_header(self, name: str, value: str | None) -> None:
        self.answer_headers = [(k, v) for k, v in self.answer_headers if k.lower() != name.lower()]
        if value is not None:
            self.answer_headers.append((name, value))

    @property
    def is_listing(self) -> bool:
        return self.method == "GET" and self.header("X-Result-Count") is not None


class Behaviour:
    """What a hostile server does: `before` may answer instead of the simulator (return True
    when it set `status`, `answer_headers` and `answer`); `after` changes the simulator's answer."""

    def before(self, exchange: Exchange) -> bool:
        return False

    def after(self, exchange: Exchange) -> None:
        return None


def _joined(answer: Iterable[bytes]) -> bytes:
    return b"".join(answer)


class RewriteUrls(Behaviour):
    """Every URL of the proxy in the answer (body and Link header) names `base` instead."""

    def __init__(self, base: str, *, links: bool = True, bodies: bool = True) -> None:
        self.base = base.rstrip("/")
        self.links = links
        self.bodies = bodies

    def after(self, exchange: Exchange) -> None:
        old = exchange.proxy_base
        if self.bodies:
            body = _joined(exchange.answer)
            exchange.answer = [body.replace(old.encode(), self.base.encode())]
            exchange.set_header("Content-Length", None)
        link = exchange.header("Link")
        if self.links and link:
            exchange.set_header("Link", link.replace(old, self.base))


class InflatePagination(Behaviour):
    """Listings that claim far more than they hold."""

    def __init__(
        self,
        *,
        count: int | None = 999_999_999,
        last_page: int | None = 999_999_999,
        next_link: bool = True,
    ) -> None:
        self.count = count
        self.last_page = last_page
        self.next_link = next_link

    def after(self, exchange: Exchange) -> None:
        if not exchange.is_listing:
            return
        if self.count is not None:
            exchange.set_header("X-Result-Count", str(self.count))
        base = exchange.proxy_base + exchange.path.split("?")[0]
        links = []
        if self.next_link:
            links.append(f'<{base}?page=2&page_size=300>; rel="next"')
        if self.last_page is not None:
            links.append(f'<{base}?page={self.last_page}&page_size=300>; rel="last"')
        exchange.set_header("Link", ", ".join(links) or None)


class Misshape(Behaviour):
    """Package listings whose embedded trees are not of Waldur's shape: every package's
    ``versions`` becomes `value` (a string, a list of numbers, …)."""

    def __init__(self, value: Any = "not a list") -> None:
        self.value = value

    def after(self, exchange: Exchange) -> None:
        if not exchange.is_listing or "marketplace-software-packages" not in exchange.path:
            return
        packages = json.loads(_joined(exchange.answer))
        for package in packages:
            package["versions"] = self.value
        exchange.answer = [json.dumps(packages).encode()]
        exchange.set_header("Content-Length", None)


class HugeBody(Behaviour):
    """Listings answer ``[`` + `megabytes` MiB of spaces + ``]``, streamed."""

    def __init__(self, megabytes: int, *, content_length: bool = False) -> None:
        self.megabytes = megabytes
        self.content_length = content_length

    def _stream(self) -> Iterator[bytes]:
        yield b"["
        padding = b" " * CHUNK
        for _ in range(self.megabytes):
            yield padding
        yield b"]"

    def after(self, exchange: Exchange) -> None:
        if not exchange.is_listing:
            return
        exchange.answer = self._stream()
        size = str(self.megabytes * CHUNK + 2) if self.content_length else None
        exchange.set_header("Content-Length", size)


class EchoHeaders(Behaviour):
    """A write (or each request of `methods`; None: every request) is answered 400 quoting the
    request's headers (as some debugging proxies do)."""

    def __init__(self, methods: Sequence[str] | None = WRITES) -> None:
        self.methods = methods

    def before(self, exchange: Exchange) -> bool:
        if self.methods is not None and exchange.method not in self.methods:
            return False
        quoted = "; ".join(f"{k}: {v}" for k, v in exchange.headers.items())
        body = json.dumps({"detail": f"bad request; you sent {quoted}"}).encode()
        exchange.status = 400
        exchange.answer_headers = [("Content-Type", "application/json")]
        exchange.answer = [body]
        return True


class Drip(Behaviour):
    """The answer's body, one byte every `seconds` (``methods``: which requests)."""

    def __init__(self, seconds: float = 1.0, methods: Sequence[str] = ("GET",)) -> None:
        self.seconds = seconds
        self.methods = tuple(methods)

    def _drip(self, body: bytes) -> Iterator[bytes]:
        for byte in body:
            yield bytes([byte])
            time.sleep(self.seconds)

    def after(self, exchange: Exchange) -> None:
        if exchange.method in self.methods:
            exchange.answer = self._drip(_joined(exchange.answer))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Listener:
    """A threaded loopback HTTP server run in a background thread."""

    handler: type[BaseHTTPRequestHandler]

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def start(self) -> _Listener:
        server = _Server(("127.0.0.1", 0), self.handler)
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _b: TracebackType | None
    ) -> None:
        self.stop()


def _read_request_body(handler: BaseHTTPRequestHandler) -> bytes:
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


class _RecorderHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _record(self) -> None:
        recorder: Recorder = self.server.owner  # type: ignore[attr-defined]
        body = _read_request_body(self)
        with recorder.lock:
            recorder.requests.append(
                Exchange(self.command, self.path, dict(self.headers.items()), body)
            )
        answer = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _record


class Recorder(_Listener):
    """The other address: records whatever reaches it."""

    handler = _RecorderHandler

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Exchange] = []
        self.lock = threading.Lock()


class _ProxyHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _proxy(self) -> None:
        proxy: HostileProxy = self.server.owner  # type: ignore[attr-defined]
        exchange = Exchange(
            self.command,
            self.path,
            dict(self.headers.items()),
            _read_request_body(self),
            proxy_base=proxy.base_url,
        )
        with proxy.lock:
            proxy.seen.append((exchange.method, exchange.path))
        behaviours = list(proxy.behaviours)
        if not any(b.before(exchange) for b in behaviours):
            proxy.forward(exchange)
            for behaviour in behaviours:
                behaviour.after(exchange)
        self._answer(exchange)

    def _answer(self, exchange: Exchange) -> None:
        try:
            self.send_response(exchange.status)
            for name, value in exchange.answer_headers:
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                for chunk in exchange.answer:
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up: what a bounded client should do

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _proxy


_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


class HostileProxy(_Listener):
    """A proxy in front of the simulator at `upstream` (``http://127.0.0.1:PORT``)."""

    handler = _ProxyHandler

    def __init__(self, upstream: str, *behaviours: Behaviour) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.behaviours: list[Behaviour] = list(behaviours)
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def forward(self, exchange: Exchange) -> None:
        """Send `exchange`'s request to the simulator (with the proxy's Host) and keep its
        answer in `exchange` (a plain body, with its Content-Length)."""
        headers = {k: v for k, v in exchange.headers.items() if k.lower() not in _HOP}
        headers["Host"] = urlsplit(exchange.proxy_base).netloc
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(exchange.method, exchange.path, exchange.body or None, headers)
            response = connection.getresponse()
            body = response.read()
            exchange.status = response.status
            exchange.answer_headers = [
                (k, v) for k, v in response.getheaders() if k.lower() not in _HOP
            ]
        finally:
            connection.close()
        exchange.answer = [body]
        exchange.set_header("Content-Length", str(len(body)))
