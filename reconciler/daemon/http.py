"""The daemon's HTTP endpoints: /healthz, /readyz, /metrics, POST /sync, and the status page:
`GET /` (HTML, `statuspage`) and `GET /status.json` (the same data).

Served by `server.BoundedHTTPServer` (idle and slow connections cost no thread and are closed
after 10 s). Every answer passes the redactor (`reconciler.core.redact`) on its way out, so no
secret in force reaches a page, a JSON document or a metric, whatever text holds it. POST
/sync is checked by `syncguard.SyncGuard` (Host, Origin, the optional bearer token).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST

from reconciler.core.redact import redact
from reconciler.core.urls import is_loopback
from reconciler.daemon.server import BoundedHTTPServer, Request
from reconciler.daemon.syncguard import SyncGuard
from reconciler.output.page import policy


class Daemon(Protocol):
    """What the endpoints ask of the daemon (the loop implements it)."""

    def healthy(self) -> bool: ...

    def ready(self) -> tuple[bool, str]: ...

    def request_sync(self) -> bool: ...

    def metrics_text(self) -> bytes: ...

    def status(self) -> dict[str, Any]: ...


class StatusServer:
    def __init__(
        self,
        daemon: Daemon,
        listen: tuple[str, int],
        allow_remote_sync: bool,
        guard: SyncGuard | None = None,
    ) -> None:
        guard = guard or SyncGuard(listen[0])
        self.httpd = BoundedHTTPServer(listen, _handler(daemon, allow_remote_sync, guard))
        host, port = self.httpd.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"http://{host}:{port}/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="status-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_PAGE_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


def _handler(daemon: Daemon, allow_remote_sync: bool, guard: SyncGuard) -> type[Request]:
    class Handler(Request):
        server_version = "reconcile-daemon"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: scrapes are frequent
            return

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: tuple[tuple[str, str], ...] = (),
        ) -> None:
            body = redact(body.decode("utf-8", "replace")).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(
            self, status: int, data: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
        ) -> None:
            self._send(status, json.dumps(data).encode() + b"\n", "application/json", headers)

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
            csp = ("Content-Security-Policy", policy())
            self._send(200, body, content_type, (*_PAGE_HEADERS, csp))

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/sync":
                self._json(404, {"detail": "Not found."})
                return
            if not allow_remote_sync and not is_loopback(self.client_address[0]):
                self._json(403, {"detail": "POST /sync is allowed from loopback only"})
                return
            refusal = guard.check(self.headers)
            if refusal is not None:
                challenge = (("WWW-Authenticate", "Bearer"),) if refusal.status == 401 else ()
                self._json(refusal.status, {"detail": refusal.detail}, challenge)
                return
            if daemon.request_sync():
                self._json(202, {"detail": "run requested"})
            else:
                self._json(409, {"detail": "a run is in progress"})

    return Handler
