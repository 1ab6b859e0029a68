"""How many pages a listing has, and whether the server's word on it can be true.

A listing's pages are read by number (``?page=N``), never by following the server's ``next``
links, and their number comes from the first page: ``X-Result-Count`` over the page's size.
Nothing else the server says is trusted beyond what the count allows:

- a count above `cap` (``--max-list-objects``) is refused: no real catalog comes near it,
  and it would mean reading without end;
- a page holding more items than were asked for is refused;
- a ``last`` link to another page than the count gives is refused (a `last` page the count
  cannot reach);
- an empty first page of a non-empty count is refused.

A refusal is an `ApiError` that ends the run before anything is written (exit 1): the listing
is incomplete, and deletes are only ever made from complete ones.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from reconciler.core.errors import ApiError

DEFAULT_MAX_OBJECTS = 1_000_000


def result_count(response: httpx.Response) -> int | None:
    value = response.headers.get("x-result-count", "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def link_page(response: httpx.Response, rel: str) -> int | None:
    """The page number of the `rel` link (None: no such link; 1: a link without a page)."""
    url = response.links.get(rel, {}).get("url")
    if not url:
        return None
    page = parse_qs(urlsplit(url).query).get("page", ["1"])[-1]
    return int(page) if page.isdigit() and len(page) < 19 else 0


def refused(path: str, why: str) -> ApiError:
    return ApiError(
        f"GET {path}: the server's listing cannot be true ({why}); the listing is "
        "incomplete, so the run stops here and nothing was written",
        method="GET",
        path=path,
    )


def page_count(
    path: str, response: httpx.Response, items: list[Any], asked: int, cap: int
) -> tuple[int, int]:
    """(pages, page size) of the listing whose first page is `response` with `items`, or
    an `ApiError` when the server's answer contradicts itself or exceeds `cap` objects."""
    size = len(items)
    if size > asked:
        raise refused(path, f"a page of {size} items, but {asked} were asked for")
    total = result_count(response)
    last = link_page(response, "last")
    if total is None:  # not Waldur; trust the links only as far as the cap goes
        if last is None:
            last = 1 if link_page(response, "next") is None else 0
        if last < 1 or last * max(size, 1) > cap:
            raise refused(path, f"no X-Result-Count, and a last page {last} of {size} items")
        return last, max(size, 1)
    if total > cap:
        raise refused(
            path,
            f"X-Result-Count {total} is more than --max-list-objects {cap}; "
            "raise it if the catalog really is that large",
        )
    if total > 0 and size == 0:
        raise refused(path, f"X-Result-Count {total}, but the first page is empty")
    pages = max(1, math.ceil(total / size)) if size else 1
    if last is not None and last != pages:
        count = (
            f"X-Result-Count {total} fits on the first page"
            if pages == 1
            else f"X-Result-Count {total} in pages of {size} makes {pages} pages"
        )
        raise refused(path, f'a "last" link to page {last}, but {count}')
    return pages, max(size, 1)


def check_page(path: str, items: list[Any], size: int, page: int) -> None:
    if len(items) > size:
        raise refused(path, f"page {page} holds {len(items)} items, pages hold {size}")
