"""`--timeout` is a total deadline, also while the server drips its status line and headers,
and a stop ends a waiting read: against a raw loopback socket that sends a byte at a time."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from reconciler.core.errors import ApiError, Interrupted, RunTimeout
from reconciler.core.model import Kind
from reconciler.remote.client import ClientConfig, WaldurClient
from tests.waiting import wait_until


class Dripper:
    """Accepts connections and sends an endless status line, one byte every `pause` s."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                if self.done.wait(self.pause):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                self.sent += 1

    def close(self) -> None:
        self.done.set()
        self.listener.close()


@pytest.fixture
def dripper() -> Iterator[Dripper]:
    server = Dripper(0.05)
    yield server
    server.close()


def client(port: int, timeout: float) -> WaldurClient:
    config = ClientConfig(api_url=f"http://127.0.0.1:{port}/api/", timeout=timeout, max_attempts=1)
    return WaldurClient(config)


def test_a_server_dripping_its_headers_meets_the_total_deadline(dripper):
    with client(dripper.port, 0.5) as waldur, pytest.raises(ApiError) as info:
        waldur.get_json(waldur.collection_url(Kind.CATALOG))
    assert "no answer within --timeout 0.5s" in str(info.value)
    assert dripper.sent > 1  # the server was sending all along: no read timeout would fire


def test_a_stop_ends_a_waiting_read(dripper):
    stop = threading.Event()
    with client(dripper.port, 3600) as waldur, waldur.running(stop=stop):
        threading.Thread(
            target=lambda: (wait_until(lambda: dripper.sent > 2, "bytes sent"), stop.set()),
            daemon=True,
        ).start()
        with pytest.raises(Interrupted, match="stopped while waiting for the answer"):
            waldur.get_json(waldur.collection_url(Kind.CATALOG))


def test_the_runs_deadline_ends_a_waiting_read_and_no_request_starts_after_it(dripper):
    with client(dripper.port, 3600) as waldur:
        with (
            waldur.running(timeout=0.3),
            pytest.raises(RunTimeout, match=r"longer than --run-timeout 0\.3s"),
        ):
            waldur.get_json(waldur.collection_url(Kind.CATALOG))
        with waldur.running(timeout=0.3):
            assert wait_until(waldur.out_of_time, "the run's deadline")
            with pytest.raises(RunTimeout, match="not sent"):
                waldur.get_json(waldur.collection_url(Kind.CATALOG))
