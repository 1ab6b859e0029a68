"""`waldur-sim`: the command line, the HTTP transport and a clean stop.

The transport is the standard library's `ThreadingHTTPServer` speaking HTTP/1.1 (keep-alive, one
daemon thread per connection). It reads the request body (Content-Length or chunked, at most
1 MiB: larger → 413), hands a `Request` to the `App`, and writes the `Response` back, honouring
the response's `delay` (latency, stalls) and `drop` (close the connection without answering).

SIGTERM/SIGINT stop it: no new connections, stalled answers are released, the write in flight
finishes, the database is closed (a private database is deleted), exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from waldur_sim.app import MAX_BODY_BYTES, App, Request, Settings
from waldur_sim.auth import (
    DEFAULT_OWNER_TOKEN,
    DEFAULT_STAFF_TOKEN,
    DEFAULT_USER_TOKEN,
    OTHER_PROVIDER,
    PROVIDER,
)
from waldur_sim.builds import BUILDS, NEWEST
from waldur_sim.faults import FAULT_KINDS, METHODS, FaultConfig, Faults, Stats
from waldur_sim.kinds import KINDS
from waldur_sim.loaders import config as loaders
from waldur_sim.offering_store import ensure_offering
from waldur_sim.responses import Response, detail, django_page, server_error
from waldur_sim.serializers import DIALECTS, LEGACY
from waldur_sim.store import Store, StoreError

LISTENING = "waldur-sim listening on {url}"
_DISCARD_LIMIT = 64 * 1024 * 1024  # bodies up to this size are read and dropped before a 413
_SIM_PATH = "/api/_sim/"  # the sim's own endpoints (stats) are not counted as in flight


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app: App, *, verbose: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.verbose = verbose
        self.stopping = threading.Event()  # set on shutdown: stalled answers stop waiting
        super().__init__((host, port), SimHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (a DNS lookup); nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server_address[1]}/api/"


class SimHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "waldur-sim"
    timeout = 300  # seconds a kept-alive connection may sit idle
    server: SimServer

    def setup(self) -> None:
        super().setup()
        # Answers are written in one piece; without NODELAY, Nagle's algorithm and the
        # client's delayed ACK can hold a small answer back for 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_OPTIONS(self) -> None:
        self._serve("OPTIONS")

    def _serve(self, method: str) -> None:
        counted = not self.path.startswith(_SIM_PATH)  # in flight: read to answer written
        if counted:
            self.server.app.stats.begin()
        try:
            self._answer(method)
        finally:
            if counted:
                self.server.app.stats.end()

    def _answer(self, method: str) -> None:
        started = time.perf_counter()
        body = self._read_body()
        if isinstance(body, Response):
            response = body
        else:
            headers = {name.lower(): value for name, value in self.headers.items()}
            host = f"{self.server.server_name}:{self.server.server_port}"
            request = Request(method, self.path, headers, body, host)
            try:
                response = self.server.app.handle(request)
            except Exception:  # the app guards itself; this is the last line of defence
                traceback.print_exc(file=sys.stderr)
                response = server_error()
        self._send(method, response)
        if self.server.verbose:
            elapsed = (time.perf_counter() - started) * 1000
            status = "dropped" if response.drop else response.status
            self.log_message('"%s %s" %s %.1fms', method, self.path, status, elapsed)

    def _read_body(self) -> bytes | Response:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        header = self.headers.get("Content-Length")
        if header is None:
            return b""
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return django_page(400, "Bad Request (400)")
        if length > MAX_BODY_BYTES:
            if length <= _DISCARD_LIMIT:  # read it, so the client sees the answer
                for offset in range(0, length, 65536):
                    self.rfile.read(min(65536, length - offset))
            self.close_connection = True
            return _too_large()
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | Response:
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                return django_page(400, "Bad Request (400)")
            if size == 0:
                while self.rfile.readline(65536).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                return _too_large()
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, method: str, response: Response) -> None:
        if response.delay > 0:
            self.server.stopping.wait(response.delay)
        if response.drop:  # the write is committed; the client never hears of it
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if response.status != 204:
                if response.content_type:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:  # tell the client not to reuse the connection
                self.send_header("Connection", "close")
            payload = response.body if method != "HEAD" else b""
            self.wfile.write(b"".join([*self._headers_buffer, b"\r\n", payload]))
            self._headers_buffer = []
        except OSError:  # the client went away
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request is written by `_serve` with --verbose

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(f"waldur-sim: {self.address_string()} {format % args}\n")


def _too_large() -> Response:
    return detail(413, f"Request body is too large (more than {MAX_BODY_BYTES} bytes).")


# -- command line ---------------------------------------------------------------------------


def _names(text: str, allowed: Sequence[str]) -> frozenset[str]:
    """A comma-separated list of `allowed` names (compared case-insensitively)."""
    by_key = {name.lower(): name for name in allowed}
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(by_key))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return frozenset(by_key[name] for name in names)


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="waldur-sim",
        description="A local server that answers like Waldur's software catalog API.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    p.add_argument("--db", type=Path, help="SQLite file kept across restarts (default: private)")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=LEGACY,
        help="target field names, and the fields and filters of that era (default legacy)",
    )
    p.add_argument(
        "--read-only-kinds",
        type=lambda t: _names(t, tuple(KINDS)),
        default=frozenset(),
        metavar="KINDS",
        help="kinds to serve like current upstream: POST 500, PUT/PATCH change nothing",
    )
    p.add_argument(
        "--upstream-build",
        choices=BUILDS,
        default=NEWEST,
        help=(
            "imitate this upstream build where builds differ: newest (default), or 004c5322, "
            "the build data/api_samples was recorded from (another offering's link is "
            "removed; moving a link onto an already linked catalog answers 500)"
        ),
    )
    p.add_argument(
        "--staff-token",
        metavar="TOKEN",
        default=os.environ.get("WALDUR_SIM_STAFF_TOKEN"),
        help=f"staff user's token (env WALDUR_SIM_STAFF_TOKEN; default {DEFAULT_STAFF_TOKEN})",
    )
    p.add_argument(
        "--user-token",
        metavar="TOKEN",
        default=os.environ.get("WALDUR_SIM_USER_TOKEN"),
        help=f"non-staff user's token (env WALDUR_SIM_USER_TOKEN; default {DEFAULT_USER_TOKEN})",
    )
    p.add_argument(
        "--owner-token",
        metavar="TOKEN",
        default=os.environ.get("WALDUR_SIM_OWNER_TOKEN"),
        help=(
            "token of the owner of the offerings' organisation "
            f"(env WALDUR_SIM_OWNER_TOKEN; default {DEFAULT_OWNER_TOKEN})"
        ),
    )
    p.add_argument(
        "--offering",
        action="append",
        default=[],
        metavar="NAME",
        help=f"create a provider offering of {PROVIDER.name!r} at start (repeatable)",
    )
    p.add_argument(
        "--other-offering",
        action="append",
        default=[],
        metavar="NAME",
        help=f"create an offering of {OTHER_PROVIDER.name!r}, which the owner does not own",
    )
    p.add_argument(
        "--latency-ms", type=_non_negative, default=0, metavar="N", help="added to every answer"
    )
    p.add_argument(
        "--latency-jitter-ms",
        type=_non_negative,
        default=0,
        metavar="N",
        help="a random 0..N ms more on every answer (answers overtake each other)",
    )
    p.add_argument("--no-embed", action="store_true", help="packages without embedded versions")
    p.add_argument("--verbose", action="store_true", help="one line per request on stderr")
    faults = p.add_argument_group("fault injection (off by default)")
    faults.add_argument("--fault-rate", type=_rate, default=0.0, help="fraction answered 5xx")
    faults.add_argument("--throttle", type=_non_negative, default=0, help="max requests/second")
    faults.add_argument("--drop-rate", type=_rate, default=0.0, help="writes left unanswered")
    faults.add_argument("--stall-rate", type=_rate, default=0.0, help="answers held back")
    faults.add_argument("--stall-seconds", type=float, default=60.0, help="how long (default 60)")
    faults.add_argument("--fault-seed", type=int, help="same seed, same faults")
    faults.add_argument(
        "--fault-kinds",
        type=lambda t: _names(t, FAULT_KINDS),
        default=frozenset(FAULT_KINDS),
        metavar="KINDS",
        help=f"aim faults at these kinds ({','.join(FAULT_KINDS)})",
    )
    faults.add_argument(
        "--fault-methods",
        type=lambda t: _names(t, METHODS),
        default=frozenset(METHODS),
        metavar="METHODS",
        help="aim faults at these HTTP methods (e.g. POST,PATCH)",
    )
    loaders.add_arguments(p)
    return p


def build_app(args: argparse.Namespace, store: Store) -> App:
    settings = Settings(
        staff_token=args.staff_token or DEFAULT_STAFF_TOKEN,
        user_token=args.user_token or DEFAULT_USER_TOKEN,
        owner_token=args.owner_token or DEFAULT_OWNER_TOKEN,
        dialect=args.dialect,
        read_only=args.read_only_kinds,
        build=args.upstream_build,
        embed=not args.no_embed,
        latency=args.latency_ms / 1000,
        latency_jitter=args.latency_jitter_ms / 1000,
    )
    config = FaultConfig(
        fault_rate=args.fault_rate,
        throttle=args.throttle,
        drop_rate=args.drop_rate,
        stall_rate=args.stall_rate,
        stall_seconds=args.stall_seconds,
        seed=args.fault_seed,
        kinds=args.fault_kinds,
        methods=args.fault_methods,
    )
    stats = Stats()
    app = App(store, settings, Faults(config, stats), stats)
    app.catalog_actions = loaders.build_actions(args, store, app.metadata.fields("catalog"))
    return app


def create_offerings(store: Store, names: Sequence[str], other_names: Sequence[str]) -> None:
    """The offerings of `--offering` and `--other-offering` (kept when the database has them)."""
    with store.writing() as conn:
        for owner, offering_names in ((PROVIDER, names), (OTHER_PROVIDER, other_names)):
            for name in offering_names:
                ensure_offering(conn, store.stamp(), name, owner)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tokens = (
        args.staff_token or DEFAULT_STAFF_TOKEN,
        args.user_token or DEFAULT_USER_TOKEN,
        args.owner_token or DEFAULT_OWNER_TOKEN,
    )
    if len(set(tokens)) < len(tokens):
        print("waldur-sim: the staff, user and owner tokens must differ", file=sys.stderr)
        return 2
    try:
        store = Store(args.db)
        create_offerings(store, args.offering, args.other_offering)
    except StoreError as exc:
        print(f"waldur-sim: {exc}", file=sys.stderr)
        return 1
    app = build_app(args, store)
    try:
        server = SimServer(args.host, args.port, app, verbose=args.verbose)
    except OSError as exc:
        store.close()
        print(f"waldur-sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    print(LISTENING.format(url=server.url), flush=True)
    stop.wait()
    server.stopping.set()
    if app.catalog_actions is not None:
        app.catalog_actions.worker.stop()
    server.shutdown()
    server.server_close()
    store.close()
    return 0
