"""The Waldur HTTP client: auth, pagination, retries, status codes → typed errors.

This is the only place that retries (see the README's "Safety" section):

- connection errors, timeouts, 429, 502, 503 and 504 are retried with exponential backoff and
  full jitter, honouring ``Retry-After``, within `max_attempts` and `max_retry_seconds`;
- a 500 is retried at most twice;
- 4xx answers are never retried;
- a POST whose outcome is unknown (the request went out, no answer came back, or a gateway
  answered 502/504) is *not* resent here: `OutcomeUnknown` goes up to the caller, which looks
  the object up by its natural key before sending it again.

And the only place that decides where requests go and how long they may take (see
docs/explanation/safety.md):

- every request goes under the configured API URL: the same scheme, host, port and path
  prefix, or it is refused before anything is sent (`confine`); callers build their URLs
  from the API URL and uuids, never from the server's ``url`` fields or ``next`` links;
- ``--timeout`` is a total deadline per request (connect, send, every read: `deadline`), an
  answer is read streamed and refused past ``--max-body-mib``, and a run may give a deadline
  for all its requests and a stop event that ends every read at once (`running`);
- a listing reads as many pages as its count allows, checked (`paging`).

The token lives in a `Secret` and goes only into the ``Authorization`` header; no message,
log line or repr built here contains it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from reconciler.core.errors import (
    ApiError,
    AuthError,
    Interrupted,
    NotFound,
    OutcomeUnknown,
    RunTimeout,
    TransportError,
)
from reconciler.core.log import get_logger
from reconciler.core.model import Kind
from reconciler.core.secret import Secret
from reconciler.core.urls import public_url
from reconciler.remote import deadline
from reconciler.remote.listing import Listing, PageSink, read_listing
from reconciler.remote.paging import DEFAULT_MAX_OBJECTS
from reconciler.remote.records import checked_url
from reconciler.remote.responses import (
    MIB,
    check_transport_security,
    detail,
    normalise_api_url,
    readable,
    receive,
    retry_after_seconds,
    under,
)

log = get_logger("reconciler.http")


ENDPOINTS: dict[Kind, str] = {
    Kind.CATALOG: "marketplace-software-catalogs/",
    Kind.PACKAGE: "marketplace-software-packages/",
    Kind.VERSION: "marketplace-software-versions/",
    Kind.TARGET: "marketplace-software-targets/",
}
_GATEWAY = {502, 504}
_BUSY = {429, 503}
_MAX_500_ATTEMPTS = 3
_READS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class ClientConfig:
    api_url: str
    token: Secret | None = None
    timeout: float = 30.0
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    backoff_seconds: float = 0.5
    verify: bool | str = True
    allow_insecure_http: bool = False
    concurrency: int = 8
    max_list_objects: int = DEFAULT_MAX_OBJECTS
    max_body_bytes: int = 64 * MIB

    def __repr__(self) -> str:  # the token never shows, even masked differently by pydantic
        return f"ClientConfig(api_url={self.api_url!r}, token={'***' if self.token else None})"


@dataclass
class ClientStats:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str, status: str) -> None:
        with self.lock:
            self.requests[(method, status)] += 1

    def total(self, method: str | None = None) -> int:
        with self.lock:
            return sum(n for (m, _), n in self.requests.items() if method in (None, m))


class WaldurClient:
    """A thread-safe client of Waldur's software-catalog API."""

    def __init__(self, config: ClientConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api_url = normalise_api_url(config.api_url)
        check_transport_security(self.api_url, config.allow_insecure_http)
        # Joined once: observe builds a detail URL for every embedded version and target.
        self._collections = {kind: urljoin(self.api_url, path) for kind, path in ENDPOINTS.items()}
        headers = {"Accept": "application/json", "User-Agent": "waldur-catalog-reconciler"}
        if config.token is not None:
            headers["Authorization"] = f"Token {config.token.get_secret_value()}"
        limits = httpx.Limits(max_connections=max(config.concurrency, 1) + 2)
        self._http = httpx.Client(
            headers=headers,
            timeout=config.timeout,
            verify=config.verify,
            follow_redirects=False,
            limits=limits,
            transport=transport,
        )
        deadline.install(self._http)
        self._run_deadline = math.inf
        self._run_timeout = 0.0
        self._stop: threading.Event | None = None
        self.stats = ClientStats()
        # At most `concurrency` requests in flight, however many threads read or write.
        self._slots = threading.BoundedSemaphore(max(config.concurrency, 1))
        # Pages of one listing only; callers that run listings or writes concurrently use
        # pools of their own, so a task waiting on its pages can never starve them.
        self.pool = ThreadPoolExecutor(max_workers=max(config.concurrency, 1))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> WaldurClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- one run --------------------------------------------------------------------------
    @contextmanager
    def running(
        self, *, stop: threading.Event | None = None, timeout: float = 0.0
    ) -> Iterator[None]:
        """A run's bounds: no request starts after `timeout` seconds (0: no deadline) and
        reads end within a fraction of a second once `stop` is set (writes in flight finish)."""
        saved = (self._run_deadline, self._run_timeout, self._stop)
        self._run_deadline = time.monotonic() + timeout if timeout > 0 else math.inf
        self._run_timeout, self._stop = timeout, stop
        try:
            yield
        finally:
            self._run_deadline, self._run_timeout, self._stop = saved

    def out_of_time(self) -> bool:
        """Whether the run's deadline has passed (then no request is sent any more)."""
        return time.monotonic() >= self._run_deadline

    def _check_run(self, method: str, path: str) -> None:
        if self._stop is not None and self._stop.is_set():
            raise Interrupted(f"{method} {path}: not sent: the run was stopped")
        if self.out_of_time():
            raise RunTimeout(
                f"{method} {path}: not sent: the run took longer than --run-timeout "
                f"{self._run_timeout:g}s",
                method=method,
                path=path,
            )

    # -- URLs -----------------------------------------------------------------------------
    def collection_url(self, kind: Kind) -> str:
        return self._collections[kind]

    def detail_url(self, kind: Kind, uuid: str) -> str:
        """The object's URL, built from the API URL and its uuid (never the server's `url`):
        an `ApiError` when the uuid is not one (32 hex digits, hyphens allowed)."""
        return checked_url(self._collections[kind], kind, str(uuid))

    def confine(self, url: str) -> None:
        """Refuse (`ApiError`, nothing sent) a URL that is not under the configured API URL."""
        if not under(url, self.api_url):
            raise ApiError(
                f"refusing to send a request to {public_url(url)}: it is not under the "
                f"configured API URL {public_url(self.api_url)} (scheme, host, port and path "
                "must match); nothing was sent"
            )

    def _path(self, url: str) -> str:
        return urlsplit(url).path

    # -- one request, with retries ------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect: tuple[int, ...] = (200,),
        give_up_500: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        """Send a request, retrying what is safe to retry; raise a typed `ApiError` otherwise.

        A 500 is retried at most twice, and not at all once `give_up_500()` is true (the
        applier's word that the server already refused a write of this kind). A URL outside
        the API URL is refused before anything is sent."""
        self.confine(url)
        failures_500 = 0

        def should_retry(exc: BaseException) -> bool:
            nonlocal failures_500
            if not isinstance(exc, ApiError) or not exc.retryable:
                return False
            if self.out_of_time() or (self._stop is not None and self._stop.is_set()):
                return False
            if exc.status == 500:
                failures_500 += 1
                gave_up = give_up_500 is not None and give_up_500()
                return failures_500 < _MAX_500_ATTEMPTS and not gave_up
            return True

        exponential = wait_exponential_jitter(
            multiplier=self.config.backoff_seconds, max=30, jitter=self.config.backoff_seconds
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = exc.retry_after if isinstance(exc, ApiError) else None
            backoff = exponential(state)
            pause = min(hinted, 60.0) if hinted is not None else backoff
            return max(0.0, min(pause, self._run_deadline - time.monotonic()))

        def sleep(seconds: float) -> None:
            if self._stop is not None:
                self._stop.wait(seconds)  # a stop ends the pause at once
            else:
                time.sleep(seconds)

        def before_sleep(state: RetryCallState) -> None:
            with self.stats.lock:
                self.stats.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "http retry",
                method=method,
                path=self._path(url),
                attempt=state.attempt_number,
                reason=str(exc),
                sleep_s=round(state.upcoming_sleep, 3),
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_attempts)
            | stop_after_delay(self.config.max_retry_seconds),
            wait=wait,
            retry=retry_if_exception(should_retry),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )
        return retrying(self._send_once, method, url, params, json, expect)

    def _send_once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        expect: tuple[int, ...],
    ) -> httpx.Response:
        path = self._path(url)
        self._check_run(method, path)
        started = time.monotonic()
        ctx = {"method": method, "path": path}
        reading = method in _READS
        # A read also ends with the run; a write in flight gets its whole --timeout.
        ends = started + self.config.timeout
        try:
            with deadline.budget(
                min(ends, self._run_deadline) if reading else ends,
                self._stop if reading else None,
            ):
                request = self._http.build_request(method, url, params=params, json=json)
                with self._slots:
                    response = receive(self._http, request, self.config.max_body_bytes)
        except deadline.Interrupted:
            self.stats.count(method, "interrupted")
            raise Interrupted(
                f"{method} {path}: stopped while waiting for the answer", **ctx
            ) from None
        except httpx.ConnectError as exc:
            self.stats.count(method, "connect-error")
            raise TransportError(
                f"cannot connect to {urlsplit(url).netloc.rpartition('@')[2]}: {exc}",
                retryable=True,
                **ctx,
            ) from None
        except httpx.ConnectTimeout:
            self.stats.count(method, "connect-timeout")
            raise TransportError(
                f"timed out connecting to {urlsplit(url).netloc}", retryable=True, **ctx
            ) from None
        except (
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ) as exc:
            self.stats.count(method, "no-answer")
            timed_out = isinstance(exc, httpx.TimeoutException)
            why = (
                f"no answer within --timeout {self.config.timeout:g}s" if timed_out else "no answer"
            )
            reason = f"{method} {path}: {why} ({type(exc).__name__})"
            if method == "POST":
                raise OutcomeUnknown(reason, **ctx) from None
            self._check_run(method, path)  # the run's deadline, not the request's, ended it
            raise ApiError(reason, retryable=True, **ctx) from None
        except httpx.HTTPError as exc:
            self.stats.count(method, "error")
            raise TransportError(f"{method} {path}: {type(exc).__name__}", **ctx) from None
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        status = response.status_code
        self.stats.count(method, str(status))
        log.debug("http", method=method, path=path, status=status, duration_ms=elapsed_ms)
        if status in expect:
            return response
        raise self._error(response, method, path)

    def _error(self, response: httpx.Response, method: str, path: str) -> ApiError:
        status = response.status_code
        ctx: dict[str, Any] = {"status": status, "method": method, "path": path}
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            return ApiError(
                f"{method} {path}: server redirected ({status}) to {where}; "
                "not followed (check --api-url)",
                **ctx,
            )
        body = detail(response)
        ctx["body"] = body
        message = f"{method} {path}: HTTP {status}: {readable(body)}"
        if status == 401:
            what = (
                "the server rejected the token"
                if self.config.token is not None
                else "the server wants a token"
            )
            return AuthError(
                f"{what} (HTTP 401: {readable(body)}); check WALDUR_API_TOKEN or --token-file",
                **ctx,
            )
        if status == 403:
            return AuthError(message, **ctx)
        if status == 404:
            return NotFound(message, **ctx)
        if status in _GATEWAY and method == "POST":
            return OutcomeUnknown(message, **ctx)
        if status in _BUSY or status in _GATEWAY or status == 500:
            hint = retry_after_seconds(response.headers.get("retry-after"))
            return ApiError(message, retryable=True, retry_after=hint, **ctx)
        return ApiError(message, **ctx)

    # -- verbs ---------------------------------------------------------------------------------
    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", url, params=params).json()

    def me(self) -> dict[str, Any]:
        """The token's user. The body also holds the user's token: never log or print it."""
        body = self.get_json(urljoin(self.api_url, "users/me/"))
        return {k: body.get(k) for k in ("uuid", "username", "is_staff") if k in body}

    def create(
        self,
        kind: Kind,
        body: Mapping[str, Any],
        give_up_500: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        url = self.collection_url(kind)
        answer = self.request("POST", url, json=dict(body), expect=(201,), give_up_500=give_up_500)
        return answer.json()

    def patch(
        self, url: str, body: Mapping[str, Any], give_up_500: Callable[[], bool] | None = None
    ) -> dict[str, Any]:
        return self.request("PATCH", url, json=dict(body), give_up_500=give_up_500).json()

    def delete(self, url: str) -> None:
        """DELETE; a 404 on a retried delete means an earlier attempt already succeeded."""
        try:
            self.request("DELETE", url, expect=(204, 200))
        except NotFound:
            return

    # -- lists ---------------------------------------------------------------------------------
    def list_all(
        self, kind: Kind, params: Mapping[str, Any] | None = None, sink: PageSink | None = None
    ) -> Listing:
        return self.list_url(self.collection_url(kind), params, sink)

    def list_url(
        self, url: str, params: Mapping[str, Any] | None = None, sink: PageSink | None = None
    ) -> Listing:
        """Every page of a collection (`listing.read_listing`); given a `sink`, each page is
        handed to it as it arrives, in page order, instead of being kept."""
        return read_listing(self, url, params, sink)
