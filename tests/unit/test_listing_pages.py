"""A listing's pages handed on as they arrive (`listing.PageSink`), against a scripted server.

What it shows: a catalog's records are built from its first page while its last page is still
held by the server (the read overlaps the server's work instead of following it); pages reach
the sink in page order whatever order the server answers them in; a listing that changes while
it is read is read again and the records are those of one whole read, never a mix of two; and
the raw trees are not kept (a sink's listing holds no items, each page is emptied once taken).
Nothing here waits on the clock: the server holds a page until an event, and a test that would
wait forever fails after `WAIT` seconds instead.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import httpx

from reconciler.core.model import CatalogPolicy, DesiredState, Kind, Record, catalog_key
from reconciler.remote.client import ClientConfig, WaldurClient
from reconciler.remote.listing import PAGE_SIZE
from reconciler.remote.observe import observe

WAIT = 30  # seconds a held answer waits for its event before the test fails (never hit)
CATALOG = catalog_key("Spack", "1", "source_package")


def uid(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def packages(count: int, prefix: str = "pkg") -> list[dict[str, Any]]:
    """`count` packages of two versions each (a Spack-like catalog: no targets)."""
    return [
        {
            "uuid": uid(f"{prefix}-{i}"),
            "name": f"{prefix}-{i:04d}",
            "versions": [
                {"uuid": uid(f"{prefix}-{i}-v{v}"), "version": f"{v}.0", "targets": []}
                for v in (1, 2)
            ],
        }
        for i in range(count)
    ]


class Server:
    """One catalog whose package listing is `listing(attempt, page)` (the pages and the count
    the server shows in that read, as it is when that page is asked for); `hold` maps a page
    number to an event its answer waits for. Counts the reads of each page."""

    def __init__(self, listing: Any, hold: dict[int, threading.Event] | None = None) -> None:
        self.listing = listing
        self.hold = hold or {}
        self.reads: dict[int, int] = {}
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if "catalogs" in request.url.path:
            body = [
                {
                    "uuid": uid("catalog"),
                    "name": CATALOG.parts[0],
                    "version": CATALOG.parts[1],
                    "catalog_type": CATALOG.parts[2],
                }
            ]
            return httpx.Response(200, json=body, headers={"X-Result-Count": "1"})
        page = int(request.url.params.get("page", "1"))
        with self.lock:
            self.reads[page] = self.reads.get(page, 0) + 1
            attempt = self.reads[1]
        if page in self.hold:
            assert self.hold[page].wait(WAIT), f"page {page} was held and never released"
        pages, total = self.listing(attempt, page)
        if page > len(pages):
            return httpx.Response(404, json={"detail": "Invalid page."})
        headers = {"X-Result-Count": str(total)}
        if page < len(pages):
            headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, json=pages[page - 1], headers=headers)


def paged(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i : i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)]


def desired() -> DesiredState:
    state = DesiredState()
    state.policies[CATALOG] = CatalogPolicy()
    state.records[CATALOG] = Record(CATALOG)
    return state


def client_for(server: Server, concurrency: int = 8) -> WaldurClient:
    config = ClientConfig(api_url="http://127.0.0.1:9/api/", concurrency=concurrency)
    return WaldurClient(config, transport=httpx.MockTransport(server.handle))


def names(records: Any, kind: Kind) -> list[str]:
    return [key.parts[-1] if kind is Kind.PACKAGE else key.parts[4] for key in records]


def test_records_are_built_from_the_first_pages_while_the_last_page_is_still_held():
    items = packages(3 * PAGE_SIZE)
    last_released = threading.Event()
    server = Server(lambda attempt, page: (paged(items), len(items)), hold={3: last_released})
    seen_before_last: list[int] = []

    from reconciler.remote import observe as module

    original = module._PackagePages.take

    def take(self: Any, page: list[dict[str, Any]]) -> None:
        original(self, page)
        if not last_released.is_set():
            seen_before_last.append(len(self.reader.build.records))
            if len(self.reader.build.records) >= 2 * PAGE_SIZE * 3:  # pages 1 and 2 are records
                last_released.set()  # only now may the server answer the last page

    module._PackagePages.take = take  # type: ignore[method-assign]
    try:
        with client_for(server) as client:
            observed = observe(client, desired())
    finally:
        module._PackagePages.take = original  # type: ignore[method-assign]
    # without pages turned into records as they arrive, the last page would never be released
    assert seen_before_last == [PAGE_SIZE * 3, 2 * PAGE_SIZE * 3]
    assert observed.complete and observed.requests == 1 + 3
    packages_read = [k for k in observed.records if k.kind is Kind.PACKAGE]
    assert len(packages_read) == 3 * PAGE_SIZE


def test_pages_reach_the_records_in_page_order_whatever_order_they_are_answered_in():
    items = packages(4 * PAGE_SIZE)
    fourth_answered = threading.Event()

    class Late(Server):
        def handle(self, request: httpx.Request) -> httpx.Response:
            response = super().handle(request)
            if request.url.params.get("page") == "4":
                fourth_answered.set()
            return response

    # page 2 is answered only after page 4: the answers come 3, 4, 2 (or 4, 3, 2)
    server = Late(lambda attempt, page: (paged(items), len(items)), hold={2: fourth_answered})
    with client_for(server) as client:
        observed = observe(client, desired())
    read = [k.parts[3] for k in observed.records if k.kind is Kind.PACKAGE]
    assert read == [p["name"] for p in items]  # the server's order, page by page
    versions = [k for k in observed.records if k.kind is Kind.VERSION]
    assert len(versions) == 2 * len(items)


def test_a_listing_that_changes_while_read_is_read_again_and_gives_one_whole_read():
    before = packages(2 * PAGE_SIZE, "old")  # the first read: two pages …
    after = packages(PAGE_SIZE + 5, "new")  # … the server changed: a later read sees these

    def listing(attempt: int, page: int) -> tuple[list[list[dict[str, Any]]], int]:
        if attempt == 1 and page == 1:  # the server changes between the first two pages
            return paged(before), len(before)
        return paged(after), len(after)

    server = Server(listing)
    with client_for(server, concurrency=1) as client:
        observed = observe(client, desired())
    assert server.reads == {1: 2, 2: 2}  # read twice
    assert observed.complete
    read = {k.parts[3] for k in observed.records if k.kind is Kind.PACKAGE}
    assert read == {p["name"] for p in after}  # none of the first read's "old-…" packages
    assert not observed.duplicates


def test_a_sinks_listing_keeps_no_items_and_each_page_is_emptied_once_taken():
    items = packages(PAGE_SIZE + 1)
    server = Server(lambda attempt, page: (paged(items), len(items)))
    taken: list[list[dict[str, Any]]] = []

    class Sink:
        def restart(self) -> None:
            taken.clear()

        def take(self, page: list[dict[str, Any]]) -> None:
            taken.append(page)

    with client_for(server) as client:
        listing = client.list_all(Kind.PACKAGE, {"catalog_uuid": uid("catalog")}, Sink())
    assert listing.items == [] and listing.complete and listing.total == len(items)
    assert [len(page) for page in taken] == [PAGE_SIZE, 1]

    from reconciler.remote.observe import _PackagePages, _Reader
    from reconciler.remote.records import Builder

    with client_for(server) as client:
        reader = _Reader(client, Builder({}, {kind: "u/" for kind in Kind}))
        pages = _PackagePages(reader, CATALOG)
        pages.take(taken[0])
    assert taken[0] == []  # the raw trees are the sink's to drop, and it drops them
    assert len(reader.build.records) == PAGE_SIZE * 3
