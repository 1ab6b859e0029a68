"""The floor: the listing pages a no-op run needs, fetched with a plain httpx loop.

    WALDUR_API_URL=… python bench/floor.py [--no-embed] [--concurrent N] NAME@VERSION…

Sequential, one keep-alive connection, JSON parsing and nothing else: the catalog listing, then
for each named catalog its package pages (`page_size=300`, versions and targets embedded) or,
with `--no-embed`, its package pages, its version pages and one target listing per version.
With `--concurrent N`, a listing's first page gives the count (`X-Result-Count`) and its other
pages are fetched N at a time (the loop a many-page catalog is compared with); the catalogs
are still read one after another. Prints the number of objects read and of requests sent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

PAGE = {"page_size": 300}


class Floor:
    """Counts every object and request of the listings it reads."""

    def __init__(self, client: httpx.Client, api_url: str, concurrent: int = 0) -> None:
        self.client = client
        self.api_url = api_url
        self.requests = 0
        self.objects: Counter[str] = Counter()
        self.pool = ThreadPoolExecutor(concurrent) if concurrent > 1 else None

    def page(self, collection: str, params: dict[str, Any], page: int) -> httpx.Response:
        response = self.client.get(
            f"{self.api_url}marketplace-software-{collection}/",
            params={**params, **PAGE, "page": page},
        )
        response.raise_for_status()
        return response

    def pages(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        response = self.page(collection, params, 1)
        self.requests += 1
        items: list[dict[str, Any]] = response.json()
        if self.pool is not None and "next" in response.links:
            last = math.ceil(int(response.headers["X-Result-Count"]) / PAGE["page_size"])
            rest = range(2, last + 1)
            for later in self.pool.map(lambda n: self.page(collection, params, n).json(), rest):
                items.extend(later)
            self.requests += len(rest)
            return items
        page = 1
        while "next" in response.links:
            page += 1
            response = self.page(collection, params, page)
            self.requests += 1
            items.extend(response.json())
        return items

    def read(self, catalogs: list[tuple[str, str]], embedded: bool) -> None:
        wanted = set(catalogs)
        for catalog in self.pages("catalogs"):
            if (catalog["name"], catalog["version"]) not in wanted:
                continue
            self.objects["catalog"] += 1
            packages = self.pages("packages", catalog_uuid=catalog["uuid"])
            self.objects["package"] += len(packages)
            if embedded:
                versions = [v for p in packages for v in p["versions"]]
                self.objects["version"] += len(versions)
                self.objects["target"] += sum(len(v["targets"]) for v in versions)
                continue
            versions = self.pages("versions", catalog_uuid=catalog["uuid"])
            self.objects["version"] += len(versions)
            for version in versions:
                self.objects["target"] += len(self.pages("targets", version_uuid=version["uuid"]))


def read_floor(
    api_url: str, catalogs: list[tuple[str, str]], embedded: bool, concurrent: int = 0
) -> Floor:
    limits = httpx.Limits(max_connections=max(concurrent, 1))
    with httpx.Client(timeout=60, limits=limits) as client:
        floor = Floor(client, api_url, concurrent)
        floor.read(catalogs, embedded)
        if floor.pool is not None:
            floor.pool.shutdown()
    return floor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogs", nargs="+", metavar="NAME@VERSION")
    parser.add_argument("--no-embed", action="store_true", help="the server does not embed")
    parser.add_argument("--concurrent", type=int, default=0, metavar="N", help="pages N at once")
    args = parser.parse_args()
    catalogs = [(name, version) for name, _, version in (c.partition("@") for c in args.catalogs)]
    floor = read_floor(os.environ["WALDUR_API_URL"], catalogs, not args.no_embed, args.concurrent)
    json.dump({"requests": floor.requests, "objects": dict(floor.objects)}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
