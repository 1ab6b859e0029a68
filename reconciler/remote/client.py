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

import email.utils
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

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
    ConfigError,
    NotFound,
    OutcomeUnknown,
    TransportError,
)
from reconciler.core.log import get_logger
from reconciler.core.model import Kind
from reconciler.core.secret import Secret
from reconciler.core.urls import is_loopback

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


def normalise_api_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ConfigError(
            "no API URL: set --api-url or WALDUR_API_URL (e.g. https://waldur.example.org/api/)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"API URL {url!r} is not an http(s) URL")
    if not parts.path.rstrip("/").endswith("/api"):
        url = url.rstrip("/") + "/api/"
    return url if url.endswith("/") else url + "/"


def check_transport_security(api_url: str, allow_insecure_http: bool) -> None:
    parts = urlsplit(api_url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or "") and not allow_insecure_http:
        raise ConfigError(
            f"refusing to send the token over plain http to {parts.hostname}: use https, "
            "or pass --allow-insecure-http if you really mean it"
        )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _detail(response: httpx.Response) -> object:
    """The error body: JSON as is; anything else summarised on one line (an HTML page by its
    title), so that no page of markup lands in a message."""
    try:
        return response.json()
    except ValueError:
        text = response.text
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        summary = " ".join((title.group(1) if title else text).split())
        if len(summary) > 120:
            summary = summary[:119] + "…"
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return f"non-JSON body ({kind}): {summary}"


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
    ) -> httpx.Response:
        """Send a request, retrying what is safe to retry; raise a typed `ApiError` otherwise."""
        failures_500 = 0

        def should_retry(exc: BaseException) -> bool:
            nonlocal failures_500
            if not isinstance(exc, ApiError) or not exc.retryable:
                return False
            if exc.status == 500:
                failures_500 += 1
                return failures_500 < _MAX_500_ATTEMPTS
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
        body = _detail(response)
        ctx["body"] = body
        message = f"{method} {path}: HTTP {status}: {body}"
        if status in (401, 403):
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

    def create(self, kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", self.collection_url(kind), json=dict(body), expect=(201,)
        ).json()

    def patch(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", url, json=dict(body)).json()

    def delete(self, url: str) -> None:
        """DELETE; a 404 on a retried delete means an earlier attempt already succeeded."""
        try:
            self.request("DELETE", url, expect=(204, 200))
        except NotFound:
            return

    # -- lists ---------------------------------------------------------------------------------
    def list_all(self, kind: Kind, params: Mapping[str, Any] | None = None) -> Listing:
        """Read every page of a collection: the first page, then the rest concurrently.

        The result is complete only if every page agreed on ``X-Result-Count`` and the items
        add up to it with no uuid twice; otherwise the listing is read again (the server
        changed meanwhile), up to three times, and then returned marked incomplete.
        """
        url = self.collection_url(kind)
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
        total = _result_count(first)
        items: list[dict[str, Any]] = list(first.json())
        last = _last_page(first)
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
        return _result_count(response), list(response.json())


def _result_count(response: httpx.Response) -> int | None:
    value = response.headers.get("x-result-count")
    return int(value) if value and value.isdigit() else None


def _last_page(response: httpx.Response) -> int:
    """The page number of the `last` link, or, without one, a count-based estimate of 1."""
    last = response.links.get("last", {}).get("url")
    if not last:
        return 1 if "next" not in response.links else _pages_from_count(response)
    page = parse_qs(urlsplit(last).query).get("page", ["1"])[0]
    return int(page) if page.isdigit() else 1


def _pages_from_count(response: httpx.Response) -> int:
    total = _result_count(response) or 0
    per_page = max(len(response.json()), 1)
    return max(1, math.ceil(total / per_page))
