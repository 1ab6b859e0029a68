"""The floor: the listing pages a no-op run needs, fetched with a plain httpx loop.

    WALDUR_API_URL=… python bench/floor.py [--no-embed] NAME@VERSION…

Sequential, one keep-alive connection, JSON parsing and nothing else: the catalog listing, then
for each named catalog its package pages (`page_size=300`, versions and targets embedded) or,
with `--no-embed`, its package pages, its version pages and one target listing per version.
Prints the number of objects read and of requests sent, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any

import httpx

PAGE = {"page_size": 300}


class Floor:
    """Counts every object and request of the listings it reads."""

    def __init__(self, client: httpx.Client, api_url: str) -> None:
        self.client = client
        self.api_url = api_url
        self.requests = 0
        self.objects: Counter[str] = Counter()

    def pages(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self.client.get(
                f"{self.api_url}marketplace-software-{collection}/",
                params={**params, **PAGE, "page": page},
            )
            self.requests += 1
            response.raise_for_status()
            items.extend(response.json())
            if "next" not in response.links:
                return items
            page += 1

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


def read_floor(api_url: str, catalogs: list[tuple[str, str]], embedded: bool) -> Floor:
    with httpx.Client(timeout=60) as client:
        floor = Floor(client, api_url)
        floor.read(catalogs, embedded)
    return floor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogs", nargs="+", metavar="NAME@VERSION")
    parser.add_argument("--no-embed", action="store_true", help="the server does not embed")
    args = parser.parse_args()
    catalogs = [(name, version) for name, _, version in (c.partition("@") for c in args.catalogs)]
    floor = read_floor(os.environ["WALDUR_API_URL"], catalogs, not args.no_embed)
    json.dump({"requests": floor.requests, "objects": dict(floor.objects)}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
