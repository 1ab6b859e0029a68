"""Read a whole listing: the first page, then the rest by number, a few at a time.

The number of pages comes from the first page's count (`paging.page_count`, which refuses an
answer that cannot be true); at most `concurrency` pages are in flight, so what is held is
what the server really sent. The result is complete only if every page agreed on
``X-Result-Count`` and the items add up to it with no uuid twice; otherwise the listing is
read again (the server changed meanwhile), up to three times, and then returned marked
incomplete (deletes are then withheld).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from reconciler.core.errors import ApiError, NotFound
from reconciler.core.log import get_logger
from reconciler.remote.paging import check_page, page_count, result_count
from reconciler.remote.responses import json_body

log = get_logger("reconciler.http")

PAGE_SIZE = 300
ATTEMPTS = 3

_Page = Future[tuple[int | None, list[Any]]]


class _Config(Protocol):
    @property
    def concurrency(self) -> int: ...

    @property
    def max_list_objects(self) -> int: ...


class WaldurClient(Protocol):
    """What a listing needs of `client.WaldurClient` (which calls it)."""

    config: _Config
    pool: Executor

    def request(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None
    ) -> httpx.Response: ...


@dataclass
class Listing:
    """Every item of a collection, and whether the read was complete and consistent."""

    items: list[dict[str, Any]]
    total: int
    complete: bool = True
    reason: str = ""
    requests: int = 0


def read_listing(
    client: WaldurClient, url: str, params: Mapping[str, Any] | None = None
) -> Listing:
    base = {**(params or {}), "page_size": PAGE_SIZE}
    requests = 0
    listing = Listing(items=[], total=0)
    for _ in range(ATTEMPTS):
        listing, sent = _read_once(client, url, base)
        requests += sent
        if listing.complete:
            break
        log.info(
            "listing changed while being read; reading it again",
            path=urlsplit(url).path,
            reason=listing.reason,
        )
    listing.requests = requests
    return listing


def _read_once(client: WaldurClient, url: str, params: dict[str, Any]) -> tuple[Listing, int]:
    path = urlsplit(url).path
    first = client.request("GET", url, params=params)
    items = _items(path, json_body(first))
    pages, size = page_count(path, first, items, PAGE_SIZE, client.config.max_list_objects)
    total = result_count(first)
    totals = {total}
    window: deque[_Page] = deque()
    width = max(client.config.concurrency, 1)
    try:
        for page in range(2, pages + 1):
            window.append(client.pool.submit(_page, client, url, params, page, size))
            if len(window) >= width:
                totals.add(_collect(window.popleft(), items))
        while window:
            totals.add(_collect(window.popleft(), items))
    except NotFound:  # "Invalid page.": the collection shrank meanwhile
        return Listing(items, total or 0, False, "a page vanished while listing"), pages
    finally:
        for future in window:
            future.cancel()
    uuids = {item.get("uuid") for item in items}
    if len(totals) > 1:
        return Listing(items, total or 0, False, "the result count changed while listing"), pages
    if total is not None and (len(items) != total or len(uuids) != len(items)):
        why = f"read {len(items)} items ({len(uuids)} distinct), server counts {total}"
        return Listing(items, total, False, why), pages
    return Listing(items, total if total is not None else len(items)), pages


def _collect(future: _Page, items: list[dict[str, Any]]) -> int | None:
    page_total, page_items = future.result()
    items.extend(page_items)
    return page_total


def _page(
    client: WaldurClient, url: str, params: dict[str, Any], page: int, size: int
) -> tuple[int | None, list[Any]]:
    path = urlsplit(url).path
    response = client.request("GET", url, params={**params, "page": page})
    items = _items(path, json_body(response))
    check_page(path, items, size, page)
    return result_count(response), items


def _items(path: str, body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ApiError(
            f"GET {path}: the server answered a listing with something else than a list of objects"
        )
    return body
