"""The naive baseline: the sync script an operator would write by hand.

    WALDUR_API_URL=… WALDUR_API_TOKEN=… python bench/naive.py -f desired.yaml

Sequential, one keep-alive connection, no embedded trees, one request per object. It walks the
desired tree depth-first (catalog, then each package, its versions, their targets). For every
object it asks the server whether it exists (one GET with the natural-key filters), then
creates it (POST) or, if a managed field differs, changes it (PATCH). Under a parent that
existed before the run it first lists the parent's children once (GET with the parent's
filter, every page) and deletes those the file does not declare (DELETE; the server removes
their subtrees). Legacy target field names (waldur-sim's default). Prints the requests it sent
by method, as JSON.

It reads the file with the reconciler's loader and compares values with the reconciler's
normalisation, so that it ends in the same server state (`run.py` checks that with a
`reconcile plan` afterwards); everything that talks to the server is its own.

`predicted_requests` is the same walk counted on paper: `run.py` checks it against the
requests a subset run really sent, then uses it to extrapolate to the whole catalog.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from reconciler.core.model import DesiredState, Key, Kind
from reconciler.core.plan import normalise
from reconciler.desired.loader import load_desired

PAGE_SIZE = 300
COLLECTION = {
    Kind.CATALOG: "catalogs",
    Kind.PACKAGE: "packages",
    Kind.VERSION: "versions",
    Kind.TARGET: "targets",
}
PARENT_FIELD = {Kind.PACKAGE: "catalog", Kind.VERSION: "package", Kind.TARGET: "version"}
PARENT_FILTER = {
    Kind.PACKAGE: "catalog_uuid",
    Kind.VERSION: "package_uuid",
    Kind.TARGET: "version_uuid",
}


def _children(desired: DesiredState) -> dict[Key, list[Key]]:
    children: dict[Key, list[Key]] = defaultdict(list)
    for key in desired.records:
        if key.parent is not None:
            children[key.parent].append(key)
    return children


def _key_of(kind: Kind, parent: Key | None, obj: dict[str, Any]) -> Key:
    """The natural key of a server object of `kind` under `parent`."""
    if kind is Kind.CATALOG:
        return Key(kind, (obj["name"], obj["version"], obj.get("catalog_type") or "binary_runtime"))
    assert parent is not None
    if kind is Kind.PACKAGE:
        return parent.child(obj["name"])
    if kind is Kind.VERSION:
        return parent.child(obj["version"], obj.get("module_version") or "")
    return parent.child(obj["cpu_family"], obj["cpu_microarchitecture"])


def _lookup(key: Key, parent_uuid: str | None) -> dict[str, str]:
    own = key.own()
    if key.kind is Kind.CATALOG:
        return {"name": own["name"], "version": own["version"]}
    if key.kind is Kind.PACKAGE:
        return {"catalog_uuid": str(parent_uuid), "name_exact": own["name"]}
    if key.kind is Kind.VERSION:
        return {"package_uuid": str(parent_uuid), "version_exact": own["version"]}
    return {"version_uuid": str(parent_uuid), **own}


class Naive:
    def __init__(self, client: httpx.Client, api_url: str, desired: DesiredState) -> None:
        self.client = client
        self.api_url = api_url
        self.desired = desired
        self.children = _children(desired)
        self.requests: Counter[str] = Counter()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.requests[method] += 1
        response = self.client.request(method, url, **kwargs)
        response.raise_for_status()
        return response

    def collection(self, kind: Kind) -> str:
        return f"{self.api_url}marketplace-software-{COLLECTION[kind]}/"

    def listing(self, kind: Kind, params: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            query = {**params, "page_size": PAGE_SIZE, "page": page}
            response = self.send("GET", self.collection(kind), params=query)
            items.extend(response.json())
            if "next" not in response.links:
                return items
            page += 1

    def run(self) -> None:
        for catalog in self.desired.catalogs():
            found = self.find(catalog, None)
            if self.desired.policies[catalog].absent:
                if found is not None:
                    self.send("DELETE", found["url"])
                continue
            self.sync(catalog, found, None)

    def find(self, key: Key, parent_uuid: str | None) -> dict[str, Any] | None:
        for obj in self.listing(key.kind, _lookup(key, parent_uuid)):
            if _key_of(key.kind, key.parent, obj) == key:
                return obj
        return None

    def sync(self, key: Key, found: dict[str, Any] | None, parent_url: str | None) -> None:
        record = self.desired.records[key]
        if found is None:
            body = {**key.own(), **record.fields}
            if parent_url is not None:
                body[PARENT_FIELD[key.kind]] = parent_url
            found = self.send("POST", self.collection(key.kind), json=body).json()
        else:
            changed = {
                name: value
                for name, value in record.fields.items()
                if normalise(name, value) != normalise(name, found.get(name))
            }
            if changed:
                self.send("PATCH", found["url"], json=changed)
            if key.kind is not Kind.TARGET and self.desired.policies[key.catalog].prune:
                self.prune(key, found["uuid"])
        url, uuid = found["url"], found["uuid"]
        for child in self.children.get(key, []):
            self.sync(child, self.find(child, uuid), url)

    def prune(self, parent: Key, parent_uuid: str) -> None:
        kind = parent.kind.child
        assert kind is not None
        for obj in self.listing(kind, {PARENT_FILTER[kind]: parent_uuid}):
            if _key_of(kind, parent, obj) not in self.desired.records:
                self.send("DELETE", obj["url"])


def predicted_requests(
    existing: Iterable[Key], desired: DesiredState, writes: Counter[str]
) -> Counter[str]:
    """The requests `Naive.run` sends, counted without a server: one check per declared
    object, the listing pages of every declared parent that exists already (under `prune`),
    and `writes` (the plan's creates, updates and deletes, by method)."""
    before = Counter(key.parent for key in existing if key.parent is not None)
    live = set(existing)
    gets = 0
    for key in desired.records:
        gets += 1  # the check (every check fits in one page)
        if key.kind is Kind.TARGET or key not in live or desired.policies[key.catalog].absent:
            continue
        if desired.policies[key.catalog].prune:
            gets += max(1, math.ceil(before[key] / PAGE_SIZE))
    return Counter({"GET": gets}) + writes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--file", type=Path, required=True)
    args = parser.parse_args()
    desired = load_desired([args.file])
    headers = {"Authorization": f"Token {os.environ['WALDUR_API_TOKEN']}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        naive = Naive(client, os.environ["WALDUR_API_URL"], desired)
        naive.run()
    json.dump({"requests": dict(naive.requests)}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
