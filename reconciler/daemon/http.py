"""The daemon's HTTP endpoints (stdlib server): /healthz, /readyz, /metrics, POST /sync, and
the status page: `GET /` (HTML, `statuspage`) and `GET /status.json` (the same data)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST

from reconciler.core.urls import is_loopback
from reconciler.output.page import policy


class Daemon(Protocol):
    """What the endpoints ask of the daemon (the loop implements it)."""

    def healthy(self) -> bool: ...

    def ready(self) -> tuple[bool, str]: ...

    def request_sync(self) -> bool: ...

    def metrics_text(self) -> bytes: ...

    def status(self) -> dict[str, Any]: ...


class StatusServer:
    def __init__(self, daemon: Daemon, listen: tuple[str, int], allow_remote_sync: bool) -> None:
        handler = _handler(daemon, allow_remote_sync)
        self.httpd = ThreadingHTTPServer(listen, handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="status-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(daemon: Daemon, allow_remote_sync: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "reconcile-daemon"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: scrapes are frequent
            return

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict[str, Any]) -> None:
            self._send(status, json.dumps(data).encode() + b"\n", "application/json")

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                ok = daemon.healthy()
                self._json(200 if ok else 503, {"status": "ok" if ok else "stopping"})
            elif path == "/readyz":
                ok, reason = daemon.ready()
                self._json(200 if ok else 503, {"ready": ok, "reason": reason})
            elif path == "/metrics":
                self._send(200, daemon.metrics_text(), CONTENT_TYPE_LATEST)
            elif path in ("/", "/status.json"):
                self._status(path)
            else:
                self._json(404, {"detail": "Not found."})

        def _status(self, path: str) -> None:
            from reconciler.daemon.statuspage import render_status

            data = daemon.status()
            if path == "/status.json":
                body = json.dumps(data, indent=2).encode() + b"\n"
                content_type = "application/json"
            else:
                body = render_status(data).encode("utf-8")
                content_type = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", policy())
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/sync":
                self._json(404, {"detail": "Not found."})
                return
            if not allow_remote_sync and not is_loopback(self.client_address[0]):
                self._json(403, {"detail": "POST /sync is allowed from loopback only"})
                return
            if daemon.request_sync():
                self._json(202, {"detail": "run requested"})
            else:
                self._json(409, {"detail": "a run is in progress"})

    return Handler
