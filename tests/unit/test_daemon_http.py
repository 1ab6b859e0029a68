"""The daemon's HTTP server: POST /sync's Host, Origin and token checks, and a server that
idle connections cannot fill with threads."""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx
import pytest

from reconciler.daemon.http import StatusServer
from reconciler.daemon.syncguard import SyncGuard, split_host
from tests.waiting import wait_until

TOKEN = "sync-token-0123456789"


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("127.0.0.1:9090", ("127.0.0.1", "9090")),
        ("[::1]:80", ("::1", "80")),
        ("Reconciler.NS.svc", ("reconciler.ns.svc", "")),
        ("::1", ("::1", "")),
    ],
)
def test_split_host(value, parts):
    assert split_host(value) == parts


def test_own_hosts_of_a_loopback_listener():
    guard = SyncGuard("127.0.0.1", ("reconciler", "proxy.example:8443"))
    for host in ("127.0.0.1:9090", "localhost:9090", "[::1]:9090", "reconciler:80"):
        assert guard.own_host(host), host
    for host in (None, "", "attacker.example", "10.0.0.5:9090", "proxy.example:80"):
        assert not guard.own_host(host), host
    assert guard.own_host("proxy.example:8443")


def test_own_hosts_of_a_wildcard_listener():
    guard = SyncGuard("0.0.0.0")
    assert guard.own_host("10.1.2.3:9090") and guard.own_host("[fd00::1]:9090")
    assert not guard.own_host("rebound.attacker.example:9090")


def test_cross_site_requests_are_refused():
    guard = SyncGuard("127.0.0.1")
    host = {"Host": "127.0.0.1:9090"}
    assert guard.check(host) is None
    assert guard.check({**host, "Origin": "http://127.0.0.1:9090"}) is None
    for extra in (
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        refusal = guard.check({**host, **extra})
        assert refusal is not None and refusal.status == 403


def test_the_sync_token():
    guard = SyncGuard("127.0.0.1", token=TOKEN)
    host = {"Host": "localhost:9090"}
    missing = guard.check(host)
    assert missing is not None and missing.status == 401
    wrong = guard.check({**host, "Authorization": "Bearer not-the-token-at-all"})
    assert wrong is not None and wrong.status == 403 and TOKEN not in wrong.detail
    assert guard.check({**host, "Authorization": f"Bearer {TOKEN}"}) is None


class _Daemon:
    def __init__(self) -> None:
        self.syncs = 0

    def healthy(self) -> bool:
        return True

    def ready(self) -> tuple[bool, str]:
        return True, "ok"

    def request_sync(self) -> bool:
        self.syncs += 1
        return True

    def metrics_text(self) -> bytes:
        return b"# nothing\n"

    def status(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def served():
    daemon = _Daemon()
    server = StatusServer(daemon, ("127.0.0.1", 0), False, SyncGuard("127.0.0.1", token=TOKEN))
    server.httpd.timeout = 1.0  # idle connections closed after a second here
    server.start()
    yield server, daemon
    server.stop()


def test_idle_connections_hold_no_thread_and_block_nothing(served):
    server, _ = served
    # Not closed for idleness while they are being opened (300 connects take more than the
    # fixture's one second on a loaded machine); closing them is the next test's subject.
    server.httpd.timeout = 120.0
    threads = threading.active_count()
    idle = [socket.create_connection(server.httpd.server_address[:2]) for _ in range(300)]
    try:
        wait_until(
            lambda: len(server.httpd.waiting) >= server.httpd.max_connections - 1,
            "the server to take the idle connections",
        )
        assert httpx.get(server.url + "healthz", timeout=10).json() == {"status": "ok"}
        assert threading.active_count() <= threads + 4  # the worker pool, nothing per connection
        assert len(server.httpd.waiting) <= server.httpd.max_connections
    finally:
        for sock in idle:
            sock.close()


def test_an_idle_connection_is_closed(served):
    server, _ = served
    with socket.create_connection(server.httpd.server_address[:2]) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head that never ends
        sock.settimeout(30)
        assert sock.recv(100) == b""  # closed by the server, nothing answered


def test_post_sync_through_the_server(served):
    server, daemon = served
    url = server.url + "sync"
    assert httpx.post(url, headers={"Host": "attacker.example"}).status_code == 403
    origin = {"Origin": "https://attacker.example", "Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(url, headers=origin).status_code == 403
    missing = httpx.post(url)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert daemon.syncs == 0
    assert httpx.post(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 202
    assert daemon.syncs == 1
