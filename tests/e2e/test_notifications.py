"""Notifications end to end: `reconcile daemon --notify json://…` (Apprise) posts to a local
receiver once per change of state — drift found, back in sync — and never on a quiet run; a
service that cannot be reached is counted, never fatal; the URL's secret is never printed."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import yaml

from tests.waiting import wait_until

from .harness import ROOT

SECRET = "notify-secret-never-printed"


class Receiver:
    """A webhook on loopback that keeps every JSON message it is sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = base64.b64encode(f"bot:{SECRET}".encode()).decode()
                assert self.headers.get("Authorization") == f"Basic {expected}"
                with receiver.lock:
                    receiver.messages.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        with self.lock:
            return [m["title"] for m in self.messages]


def test_one_message_per_change_of_state_none_on_a_quiet_run(sim, daemons, tmp_path):
    server = sim("--offering", "HPC cluster staging")
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "project", root)
    doc = yaml.safe_load((root / "reconcile.yaml").read_text())
    doc["environments"]["staging"]["api_url"] = server.api_url
    (root / "reconcile.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    receiver = Receiver()
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    dead_port = closed.server_address[1]
    closed.server_close()  # a service that is down
    urls = f"json://bot:{SECRET}@127.0.0.1:{receiver.port}/hook, json://127.0.0.1:{dead_port}/x"

    d = daemons(
        server.api_url,
        server.staff_token,
        [],
        "--interval", "1h",
        "--env", "staging",
        "--project", str(root / "reconcile.yaml"),
        "--status-url", "https://reconcile-staging.example.org/",
        env={"WALDUR_STAGING_TOKEN": server.staff_token, "RECONCILE_NOTIFY": urls},
    )  # fmt: skip
    d.wait_runs(1)  # drift found (an empty server) and applied
    wait_until(lambda: receiver.titles() == ["[reconcile staging] drift found"], "drift found")
    first = receiver.messages[0]["message"]
    assert "Environment: staging" in first and f"Server: {server.api_url}" in first
    assert "Plan: 6 to create · 0 to update · 0 to delete" in first
    assert "Status: https://reconcile-staging.example.org/" in first

    def sync() -> None:
        before = len(d.runs_ended())
        assert httpx.post(d.url + "sync", timeout=5).status_code == 202
        d.wait_runs(before + 1)

    sync()  # in sync now
    wait_until(lambda: len(receiver.titles()) == 2, "back in sync")
    assert receiver.titles()[1] == "[reconcile staging] back in sync"
    sync()  # quiet: nothing to say

    # Drift behind the daemon's back: one more message, and none came from the quiet run.
    headers = {"Authorization": f"Token {server.staff_token}"}
    pkg = httpx.get(
        server.api_url + "marketplace-software-packages/", headers=headers, timeout=5
    ).json()[0]
    assert httpx.delete(pkg["url"], headers=headers, timeout=5).status_code == 204
    sync()
    wait_until(lambda: len(receiver.titles()) == 3, "drift found again")
    assert receiver.titles() == [
        "[reconcile staging] drift found",
        "[reconcile staging] back in sync",
        "[reconcile staging] drift found",
    ]
    # The service that is down: counted, logged, never fatal.
    wait_until(lambda: d.metric("reconcile_notifications_total", result="failed", env="staging")
               == 3, "failures counted")  # fmt: skip
    assert d.metric("reconcile_notifications_total", result="sent", env="staging") == 3
    assert all(e["result"] == "success" for e in d.runs_ended())
    assert d.get("status.json").json()["environment"] == "staging"
    assert all(e.get("env") == "staging" for e in d.snapshot())  # every log line
    assert "staging" in d.get("/").text
    assert SECRET not in "".join(d.raw) + d.get("/").text + d.get("status.json").text
