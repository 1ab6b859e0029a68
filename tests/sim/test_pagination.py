"""Pagination: bare arrays, page/page_size, X-Result-Count, Link, caps, 404 past the end, HEAD."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.sim.helpers import Api

TOTAL = 305  # more than the page-size cap of 300


@pytest.fixture(scope="module")
def scope(api: Api) -> dict[str, str]:
    """A version with TOTAL targets; listings are scoped to it with `version_uuid`."""
    version = api.version(api.package(api.catalog()))
    for i in range(TOTAL):
        api.target(version, cpu_microarchitecture=f"micro-{i:03d}")
    return {"version_uuid": version["uuid"]}


def get(api: Api, **params: Any) -> httpx.Response:
    return api.list("target", **params)


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """rel → the query of its URL, checking each URL is absolute and points at the collection."""
    result = {}
    for rel, link in response.links.items():
        url = urlsplit(link["url"])
        assert f"{url.scheme}://{url.netloc}" == api_base(response)
        assert url.path == urlsplit(str(response.url)).path
        result[rel] = parse_qs(url.query)
    return result


def api_base(response: httpx.Response) -> str:
    url = urlsplit(str(response.url))
    return f"{url.scheme}://{url.netloc}"


def test_first_page_defaults_to_ten_with_count_and_links(api: Api, scope: dict[str, str]) -> None:
    response = get(api, **scope)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 10
    assert [t["cpu_microarchitecture"] for t in body] == [f"micro-{i:03d}" for i in range(10)]
    assert response.headers["X-Result-Count"] == str(TOTAL)
    pages = math.ceil(TOTAL / 10)
    assert links(response) == {
        "first": {**_scope(scope)},
        "next": {**_scope(scope), "page": ["2"]},
        "last": {**_scope(scope), "page": [str(pages)]},
    }


def _scope(scope: dict[str, str]) -> dict[str, list[str]]:
    return {key: [value] for key, value in scope.items()}


def test_middle_page_has_all_four_links(api: Api, scope: dict[str, str]) -> None:
    response = get(api, page=2, page_size=100, **scope)
    query = {**_scope(scope), "page_size": ["100"]}
    assert links(response) == {
        "first": query,
        "prev": query,  # page 1 links carry no page=
        "next": {**query, "page": ["3"]},
        "last": {**query, "page": ["4"]},
    }
    assert response.json()[0]["cpu_microarchitecture"] == "micro-100"


def test_last_page_has_no_next(api: Api, scope: dict[str, str]) -> None:
    response = get(api, page=4, page_size=100, **scope)
    assert len(response.json()) == TOTAL - 300
    assert set(links(response)) == {"first", "prev", "last"}
    assert links(response)["prev"]["page"] == ["3"]


def test_link_urls_keep_the_query_sorted_by_name(api: Api, scope: dict[str, str]) -> None:
    response = api.request(
        "GET",
        api.collection("target") + f"?version_uuid={scope['version_uuid']}&page_size=5&o=created",
        None,
    )
    query = urlsplit(response.links["next"]["url"]).query
    assert query == f"o=created&page=2&page_size=5&version_uuid={scope['version_uuid']}"


def test_page_size_is_capped_at_300(api: Api, scope: dict[str, str]) -> None:
    response = get(api, page_size=1000, **scope)
    assert len(response.json()) == 300
    assert links(response)["last"]["page"] == ["2"]


@pytest.mark.parametrize("size", ["abc", "0", "-5", "", "2.5"])
def test_a_bad_page_size_means_ten(api: Api, scope: dict[str, str], size: str) -> None:
    assert len(get(api, page_size=size, **scope).json()) == 10


@pytest.mark.parametrize("page", ["32", "0", "-1", "abc", "", "1.0"])
def test_a_page_that_does_not_exist_is_404(api: Api, scope: dict[str, str], page: str) -> None:
    response = get(api, page=page, **scope)  # 305 / 10 → 31 pages
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


def test_page_last_is_the_last_page(api: Api, scope: dict[str, str]) -> None:
    assert get(api, page="last", **scope).json() == get(api, page=31, **scope).json()


def test_following_next_links_reads_every_object_once(api: Api, scope: dict[str, str]) -> None:
    seen: list[str] = []
    url: str | None = (
        api.collection("target") + f"?page_size=40&version_uuid={scope['version_uuid']}"
    )
    while url:
        response = api.request("GET", url, None)
        seen += [t["uuid"] for t in response.json()]
        url = response.links.get("next", {}).get("url")
    assert len(seen) == len(set(seen)) == TOTAL


def test_head_gives_the_same_headers_and_no_body(api: Api, scope: dict[str, str]) -> None:
    params = {"page": 2, "page_size": 7, **scope}
    head = api.request("HEAD", api.collection("target"), None, params=params)
    listing = get(api, **params)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["X-Result-Count"] == listing.headers["X-Result-Count"] == str(TOTAL)
    assert head.headers["Link"] == listing.headers["Link"]
    past = api.request("HEAD", api.collection("target"), None, params={**params, "page": 99})
    assert past.status_code == 404


def test_an_empty_list_is_an_empty_array_with_its_page_one(api: Api) -> None:
    catalog = api.catalog()
    response = api.list("package", catalog_uuid=catalog["uuid"])
    assert (response.status_code, response.json()) == (200, [])
    assert response.headers["X-Result-Count"] == "0"
    assert set(response.links) == {"first", "last"}
    assert api.list("package", catalog_uuid=catalog["uuid"], page=2).status_code == 404


def test_every_kind_lists_as_a_bare_array_with_a_count(api: Api, scope: dict[str, str]) -> None:
    for kind in ("catalog", "package", "version", "target"):
        response = api.list(kind, page_size=1)
        assert isinstance(response.json(), list)
        assert int(response.headers["X-Result-Count"]) >= 1
