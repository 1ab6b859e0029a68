"""The Waldur HTTP client: auth, pagination, retries, status codes → typed errors.

This is the only place that retries (see the README's "Safety" section):

- connection errors, timeouts, 429, 502, 503 and 504 are retried with exponential backoff and
  full jitter, honouring ``Retry-After``, within `max_attempts` and `max_retry_seconds`;
- a 500 is retried at most twice;
- 4xx answers are never retried;
- a POST whose outcome is unknown (the request went out, no answer came back, or a gateway
  answered 502/504) is *not* resent here: `OutcomeUnknown` goes up to the caller, which looks
  the object up by its natural key before sending it again.

The token lives in a `Secret` and goes only into the ``Authorization`` header; no message,
log line or repr built here contains it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
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
    NotFound,
    OutcomeUnknown,
    TransportError,
)
from reconciler.core.log import get_logger
from reconciler.core.model import Kind
from reconciler.core.secret import Secret
from reconciler.remote.responses import (
    check_transport_security,
    detail,
    json_body,
    last_page,
    normalise_api_url,
    readable,
    result_count,
    retry_after_seconds,
)

log = get_logger("reconciler.http")

PAGE_SIZE = 300
ENDPOINTS: dict[Kind, str] = {
    Kind.CATALOG: "marketplace-software-catalogs/",
    Kind.PACKAGE: "marketplace-software-packages/",
    Kind.VERSION: "marketplace-software-versions/",
    Kind.TARGET: "marketplace-software-targets/",
}
_GATEWAY = {502, 504}
_BUSY = {429, 503}
_MAX_500_ATTEMPTS = 3
_LIST_ATTEMPTS = 3


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

    def __repr__(self) -> str:  # the token never shows, even masked differently by pydantic
        return f"ClientConfig(api_url={self.api_url!r}, token={'***' if self.token else None})"


@dataclass
class Listing:
    """Every item of a collection, and whether the read was complete and consistent."""

    items: list[dict[str, Any]]
    total: int
    complete: bool = True
    reason: str = ""
    requests: int = 0


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
        self.stats = ClientStats()
        # At most `concurrency` requests in flight, however many threads read or write.
        self._slots = threading.BoundedSemaphore(max(config.concurrency, 1))
        # Pages of one listing only; callers that run listings or writes concurrently use
        # pools of their own, so a task waiting on its pages can never starve them.
        self._pool = ThreadPoolExecutor(max_workers=max(config.concurrency, 1))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> WaldurClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- URLs -----------------------------------------------------------------------------
    def collection_url(self, kind: Kind) -> str:
        return self._collections[kind]

    def detail_url(self, kind: Kind, uuid: str) -> str:
        return f"{self._collections[kind]}{uuid.replace('-', '')}/"

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
        applier's word that the server already refused a write of this kind)."""
        failures_500 = 0

        def should_retry(exc: BaseException) -> bool:
            nonlocal failures_500
            if not isinstance(exc, ApiError) or not exc.retryable:
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
            return min(hinted, 60.0) if hinted is not None else backoff

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
        started = time.monotonic()
        ctx = {"method": method, "path": path}
        try:
            with self._slots:
                response = self._http.request(method, url, params=params, json=json)
        except httpx.ConnectError as exc:
            self.stats.count(method, "connect-error")
            raise TransportError(
                f"cannot connect to {urlsplit(url).netloc}: {exc}", retryable=True, **ctx
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
            reason = f"{method} {path}: no answer ({type(exc).__name__})"
            if method == "POST":
                raise OutcomeUnknown(reason, **ctx) from None
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
    def list_all(self, kind: Kind, params: Mapping[str, Any] | None = None) -> Listing:
        return self.list_url(self.collection_url(kind), params)

    def list_url(self, url: str, params: Mapping[str, Any] | None = None) -> Listing:
        """Read every page of a collection: the first page, then the rest concurrently.

        The result is complete only if every page agreed on ``X-Result-Count`` and the items
        add up to it with no uuid twice; otherwise the listing is read again (the server
        changed meanwhile), up to three times, and then returned marked incomplete.
        """
        base = {**(params or {}), "page_size": PAGE_SIZE}
        requests = 0
        reason = ""
        listing = Listing(items=[], total=0)
        for _ in range(_LIST_ATTEMPTS):
            listing, sent = self._list_once(url, base)
            requests += sent
            if listing.complete:
                break
            reason = listing.reason
            log.info(
                "listing changed while being read; reading it again",
                path=self._path(url),
                reason=reason,
            )
        listing.requests = requests
        return listing

    def _list_once(self, url: str, params: dict[str, Any]) -> tuple[Listing, int]:
        first = self.request("GET", url, params=params)
        total = result_count(first)
        items: list[dict[str, Any]] = list(json_body(first))
        last = last_page(first)
        sent = 1
        totals = {total}
        if last > 1:
            pages = range(2, last + 1)
            futures = [self._pool.submit(self._page, url, params, page) for page in pages]
            for future in futures:
                try:
                    page_total, page_items = future.result()
                except NotFound:  # "Invalid page.": the collection shrank meanwhile
                    return Listing(
                        items, total, False, "a page vanished while listing"
                    ), sent + len(pages)
                totals.add(page_total)
                items.extend(page_items)
            sent += len(pages)
        uuids = {item.get("uuid") for item in items}
        if len(totals) > 1:
            return Listing(items, total, False, "the result count changed while listing"), sent
        if total is not None and (len(items) != total or len(uuids) != len(items)):
            return Listing(
                items,
                total,
                False,
                f"read {len(items)} items ({len(uuids)} distinct), server counts {total}",
            ), sent
        return Listing(items, total if total is not None else len(items)), sent

    def _page(self, url: str, params: dict[str, Any], page: int) -> tuple[int | None, list[Any]]:
        response = self.request("GET", url, params={**params, "page": page})
        return result_count(response), list(json_body(response))
