"""The HTTP server under the daemon's endpoints, bounded against idle and slow clients.

The standard library's threading server gives every connection a thread for as long as the
client keeps it open: a thousand idle connections held a thousand threads (and ~100 MB). Here:

- One thread (`serve_forever`) accepts connections and reads their request heads through a
  selector, without blocking. An idle or slow connection costs a socket and a small buffer,
  never a thread.
- A connection must deliver its whole request head (at most `MAX_HEAD` bytes) within
  `timeout` seconds of being accepted, else it is closed; the answer is sent with the same
  timeout (a client that does not read it is dropped).
- A complete request goes to a pool of `workers` threads, which answer it with the handler
  (a `BaseHTTPRequestHandler`); one request per connection (HTTP/1.0, then close).
- At most `max_connections` are open at once. A new connection beyond that closes the oldest
  one still waiting for its request, so a flood of idle connections cannot lock out the
  kubelet's probe: it only hurries the flood's own connections out.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from reconciler.core.log import get_logger

log = get_logger("reconciler.daemon.http")
MAX_HEAD = 16 * 1024
WORKERS = 4
MAX_CONNECTIONS = 256
TIMEOUT = 10.0
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


@dataclass
class _Waiting:
    address: Any
    accepted: float
    head: bytearray = field(default_factory=bytearray)


class _Writer(io.RawIOBase):
    """The handler's `wfile`: every write sent whole (bounded by the socket's timeout)."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.connection.sendall(data)
        return len(data)


class Request(BaseHTTPRequestHandler):
    """A handler fed a complete request head (``request`` is ``(socket, head)``)."""

    def setup(self) -> None:
        self.connection, head = self.request
        self.rfile = io.BytesIO(head)
        self.wfile = _Writer(self.connection)

    def finish(self) -> None:
        return None  # the server closes the connection


class BoundedHTTPServer:
    def __init__(
        self,
        address: tuple[str, int],
        handler: type[Request],
        *,
        workers: int = WORKERS,
        max_connections: int = MAX_CONNECTIONS,
        timeout: float = TIMEOUT,
    ) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.create_server(address, family=family, backlog=128)
        self.socket.setblocking(False)
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        self.handler = handler
        self.max_connections = max_connections
        self.timeout = timeout
        self.waiting: dict[socket.socket, _Waiting] = {}  # oldest first
        self.busy = 0  # handed to the pool, not yet closed
        self._busy_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="status-http")
        self._selector = selectors.DefaultSelector()
        self._wake, self._waker = socket.socketpair()
        self._stop = threading.Event()
        self._stopped = threading.Event()

    # -- the selector thread -------------------------------------------------------------------
    def serve_forever(self) -> None:
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._wake.setblocking(False)
        self._selector.register(self._wake, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=min(1.0, self.timeout)):
                    if key.fileobj is self.socket:
                        self._accept()
                    elif key.fileobj is not self._wake:
                        self._read(key.fileobj)  # type: ignore[arg-type]
                self._expire(time.monotonic())
        finally:
            for connection in list(self.waiting):
                self._drop(connection)
            self._stopped.set()

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time, then back to the readers
            try:
                connection, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # out of file descriptors, or the client gave up: try again later
            if len(self.waiting) + self.busy >= self.max_connections:
                if not self.waiting:
                    connection.close()  # every slot is being answered: come back later
                    continue
                self._drop(next(iter(self.waiting)))  # the oldest idle one makes room
            connection.setblocking(False)
            self.waiting[connection] = _Waiting(address, time.monotonic())
            self._selector.register(connection, selectors.EVENT_READ)

    def _read(self, connection: socket.socket) -> None:
        waiting = self.waiting.get(connection)
        if waiting is None:
            return
        try:
            data = connection.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(connection)
            return
        waiting.head += data
        if not any(end in waiting.head for end in _HEAD_ENDS):
            if len(waiting.head) > MAX_HEAD:
                self._drop(connection)
            return
        self._selector.unregister(connection)
        del self.waiting[connection]
        with self._busy_lock:
            self.busy += 1
        self._pool.submit(self._answer, connection, bytes(waiting.head), waiting.address)

    def _expire(self, now: float) -> None:
        for connection, waiting in list(self.waiting.items()):
            if now - waiting.accepted < self.timeout:
                return  # the rest came later
            self._drop(connection)

    def _drop(self, connection: socket.socket) -> None:
        self.waiting.pop(connection, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection)
        connection.close()

    # -- the workers ---------------------------------------------------------------------------
    def _answer(self, connection: socket.socket, head: bytes, address: Any) -> None:
        try:
            connection.setblocking(True)
            connection.settimeout(self.timeout)
            self.handler((connection, head), address, self)  # type: ignore[arg-type]
        except OSError:
            pass  # the client went away, or was too slow to send or take the answer
        except Exception as exc:  # a bug in an endpoint: say so, keep serving
            log.error("status endpoint failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
            with self._busy_lock:
                self.busy -= 1

    # -- lifecycle -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._waker.send(b"x")
        self._stopped.wait(5)

    def server_close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for sock in (self.socket, self._wake, self._waker):
            sock.close()
        self._selector.close()
