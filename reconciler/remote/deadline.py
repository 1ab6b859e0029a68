"""Total deadlines and prompt interrupts for every request, below httpx.

httpx's timeouts bound each socket operation, not a request: a server that sends one byte a
second never trips a 30 s read timeout and keeps a request alive for hours. So the client
wraps httpcore's network backend (`install`): every connect, TLS handshake, write and read
of a request is given at most the time left until the request's deadline, and reads are cut
into short slices while the request may be interrupted, so a stop (SIGTERM) ends a blocked
read within `SLICE` seconds.

The deadline and the stop event of a request are the calling thread's (`budget`): the client
sets them around each request, in whichever thread sends it. Outside a `budget`, the backend
behaves as httpcore's own.
"""

from __future__ import annotations

import math
import socket
import threading
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import httpcore
import httpx

#: The longest a read blocks before it looks at the stop event again.
SLICE = 0.25

T = typing.TypeVar("T")


class Interrupted(Exception):
    """The request's stop event was set while it waited for the server."""


@dataclass(frozen=True, slots=True)
class Budget:
    deadline: float  # time.monotonic() by which the request must be over
    stop: threading.Event | None = None  # set: give up at once (reads only)


_local = threading.local()


@contextmanager
def budget(deadline: float, stop: threading.Event | None = None) -> Iterator[None]:
    """Requests sent by this thread inside the block end by `deadline` (and at `stop`)."""
    previous = getattr(_local, "budget", None)
    _local.budget = Budget(deadline, stop)
    try:
        yield
    finally:
        _local.budget = previous


def _current() -> Budget | None:
    return getattr(_local, "budget", None)


def _left(own: float | None, started: float, current: Budget | None) -> float:
    """Seconds left for an operation that httpx gave `own` seconds (None: no limit)."""
    end = started + own if own is not None else math.inf
    if current is not None:
        end = min(end, current.deadline)
    return end - time.monotonic()


def _check_stop(current: Budget | None) -> None:
    if current is not None and current.stop is not None and current.stop.is_set():
        raise Interrupted("stopped")


def _bounded(
    operation: Callable[[float | None], T],
    own: float | None,
    timeout_error: type[Exception],
    *,
    sliced: bool = False,
) -> T:
    """Run `operation(timeout)` within what is left of `own` and of the thread's budget;
    when `sliced`, in slices of at most `SLICE` seconds, checking the stop event between."""
    current = _current()
    started = time.monotonic()
    while True:
        _check_stop(current)
        left = _left(own, started, current)
        if left <= 0:
            raise timeout_error("the request's deadline passed")
        wait: float | None = None if math.isinf(left) else left
        if sliced and current is not None and current.stop is not None:
            wait = SLICE if wait is None else min(wait, SLICE)
        try:
            return operation(wait)
        except timeout_error:
            if not sliced:
                raise
            # a slice ended: look at the stop event and the time left again


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(
            lambda wait: self._stream.read(max_bytes, wait),
            timeout,
            httpcore.ReadTimeout,
            sliced=True,
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda wait: self._stream.write(buffer, wait), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """The handshake is many reads inside the ssl module: bounded by a watchdog that
        shuts the socket down when the time is up."""
        with _watchdog(self._stream, _left(timeout, time.monotonic(), _current())):
            tls = _bounded(
                lambda wait: self._stream.start_tls(ssl_context, server_hostname, wait),
                timeout,
                httpcore.ConnectTimeout,
            )
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


@contextmanager
def _watchdog(stream: httpcore.NetworkStream, seconds: float) -> Iterator[None]:
    sock = stream.get_extra_info("socket")
    if sock is None or math.isinf(seconds):
        yield
        return

    def cut() -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(seconds, 0.0), cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, with every operation inside the thread's budget."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda wait: self._inner.connect_tcp(host, port, wait, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda wait: self._inner.connect_unix_socket(path, wait, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client) -> bool:
    """Give every connection pool of `client` (its transport and any proxy mounts, as httpx
    built them from the environment) the deadline backend; False when a pool does not look
    as expected (a test's mock transport), which is then left alone."""
    transports = [client._transport, *client._mounts.values()]
    installed = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = DeadlineBackend(pool._network_backend)
            installed = True
    return installed
