"""Read a whole listing: the first page, then the rest by number, a few at a time.

The number of pages comes from the first page's count (`paging.page_count`, which refuses an
answer that cannot be true); at most `concurrency` pages are in flight, so what is held is
what the server really sent. The result is complete only if every page agreed on
``X-Result-Count`` and the items add up to it with no uuid twice; otherwise the listing is
read again (the server changed meanwhile), up to three times, and then returned marked
incomplete (deletes are then withheld).

A reader that turns objects into something else can take each page as it arrives (a
`PageSink`), in page order, while the later pages are still in flight: the work on a page then
overlaps the server's work on the next ones, and no raw page outlives its turn. A new attempt
starts the sink again, so what it holds is always one whole read of the listing.
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


class PageSink(Protocol):
    """Takes a listing's items page by page, in page order (first page first)."""

    def restart(self) -> None:
        """A new read of the listing begins: forget every page taken so far."""

    def take(self, items: list[dict[str, Any]]) -> None:
        """One page's items; they are the sink's now (it may empty the list)."""


class _Keep:
    """The sink of a plain listing: every item, kept."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def restart(self) -> None:
        self.items = []

    def take(self, items: list[dict[str, Any]]) -> None:
        self.items.extend(items)


class _Tally:
    """What a read's completeness is judged by: the items counted and their uuids."""

    def __init__(self) -> None:
        self.count = 0
        self.uuids: set[Any] = set()

    def add(self, items: list[dict[str, Any]]) -> None:
        self.count += len(items)
        self.uuids.update(item.get("uuid") for item in items)


@dataclass
class Listing:
    """Every item of a collection, and whether the read was complete and consistent."""

    items: list[dict[str, Any]]  # empty when a `PageSink` took them
    total: int
    complete: bool = True
    reason: str = ""
    requests: int = 0


def read_listing(
    client: WaldurClient,
    url: str,
    params: Mapping[str, Any] | None = None,
    sink: PageSink | None = None,
) -> Listing:
    """Every item of the listing at `url`, in `Listing.items` or, page by page, in `sink`."""
    base = {**(params or {}), "page_size": PAGE_SIZE}
    keep = _Keep()
    target: PageSink = keep if sink is None else sink
    requests = 0
    listing = Listing(items=[], total=0)
    for _ in range(ATTEMPTS):
        listing, sent = _read_once(client, url, base, target)
        requests += sent
        if listing.complete:
            break
        log.info(
            "listing changed while being read; reading it again",
            path=urlsplit(url).path,
            reason=listing.reason,
        )
    listing.requests = requests
    listing.items = keep.items
    return listing


def _read_once(
    client: WaldurClient, url: str, params: dict[str, Any], sink: PageSink
) -> tuple[Listing, int]:
    path = urlsplit(url).path
    sink.restart()
    tally = _Tally()
    first = client.request("GET", url, params=params)
    items = _items(path, json_body(first))
    pages, size = page_count(path, first, items, PAGE_SIZE, client.config.max_list_objects)
    total = result_count(first)
    totals = {total}
    tally.add(items)
    sink.take(items)
    window: deque[_Page] = deque()
    width = max(client.config.concurrency, 1)
    try:
        for page in range(2, pages + 1):
            window.append(client.pool.submit(_page, client, url, params, page, size))
            if len(window) >= width:
                totals.add(_collect(window.popleft(), sink, tally))
        while window:
            totals.add(_collect(window.popleft(), sink, tally))
    except NotFound:  # "Invalid page.": the collection shrank meanwhile
        return Listing([], total or 0, False, "a page vanished while listing"), pages
    finally:
        for future in window:
            future.cancel()
    if len(totals) > 1:
        return Listing([], total or 0, False, "the result count changed while listing"), pages
    if total is not None and (tally.count != total or len(tally.uuids) != tally.count):
        why = f"read {tally.count} items ({len(tally.uuids)} distinct), server counts {total}"
        return Listing([], total, False, why), pages
    return Listing([], total if total is not None else tally.count), pages


def _collect(future: _Page, sink: PageSink, tally: _Tally) -> int | None:
    page_total, page_items = future.result()
    tally.add(page_items)
    sink.take(page_items)
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
