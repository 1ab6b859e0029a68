"""Waldur's link-header pagination: `page`/`page_size`, `X-Result-Count` and `Link`.

- `page_size`: default 10; a value that is not a positive integer → 10; above 300 → 300
  (DRF's `_positive_int(strict=True, cutoff=300)`).
- `page`: 1-based, or `last`; anything else that is not a page of the result (0, past the end,
  `abc`, empty) → 404 `Invalid page.` (Django's Paginator; an empty list still has page 1).
- `Link`: first and last always, prev/next when they exist, absolute URLs of the request with
  `page` replaced (removed for page 1) and the query re-encoded sorted by name, as DRF's
  `replace_query_param` / `remove_query_param` do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300


class InvalidPage(Exception):
    """The requested page does not exist (answered 404 `Invalid page.`)."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int
    count: int

    @property
    def pages(self) -> int:
        return _page_count(self.count, self.size)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_size(params: Mapping[str, Sequence[str]]) -> int:
    values = params.get("page_size")
    if not values:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(values[-1])
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)


def paginate(params: Mapping[str, Sequence[str]], count: int) -> Page:
    """The requested page of `count` results, or InvalidPage."""
    size = page_size(params)
    pages = _page_count(count, size)
    raw = params.get("page", ["1"])[-1]
    if raw == "last":
        return Page(pages, size, count)
    try:
        number = int(raw)
    except ValueError:
        raise InvalidPage(raw) from None
    if not 1 <= number <= pages:
        raise InvalidPage(raw)
    return Page(number, size, count)


def _page_count(count: int, size: int) -> int:
    return max(1, -(-count // size))  # an empty result still has its page 1


def link_header(base: str, path: str, query: str, page: Page) -> str:
    """`<url>; rel="first", …` for the request `base` + `path` + `?query`."""
    links = [("first", 1)]
    if page.number > 1:
        links.append(("prev", page.number - 1))
    if page.number < page.pages:
        links.append(("next", page.number + 1))
    links.append(("last", page.pages))
    return ", ".join(f'<{_page_url(base, path, query, n)}>; rel="{rel}"' for rel, n in links)


def _page_url(base: str, path: str, query: str, number: int) -> str:
    params = parse_qs(query, keep_blank_values=True)
    params.pop("page", None)
    if number > 1:
        params["page"] = [str(number)]
    encoded = urlencode(sorted(params.items()), doseq=True)
    return f"{base}{path}?{encoded}" if encoded else f"{base}{path}"
