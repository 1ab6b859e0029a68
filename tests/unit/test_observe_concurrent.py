"""Several catalogs read at once, against a scripted server that holds the catalogs' package
listings until all of them have arrived and then answers them in a chosen order.

What it shows: the package listings of the declared catalogs are in flight together (the
server's barrier only opens when every one has arrived), never more requests at once than
`--concurrency`, the observed state is the same whatever order the answers come in (records,
their order, problems, duplicates, dialect), and a catalog whose listing is incomplete keeps
the whole read incomplete (its deletes withheld) while the other catalogs are read in full.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.core.errors import AuthError
from reconciler.core.model import (
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    ObservedState,
    Record,
    catalog_key,
)
from reconciler.core.plan import make_plan
from reconciler.remote.client import ClientConfig, WaldurClient
from reconciler.remote.listing import PAGE_SIZE
from reconciler.remote.observe import observe

NAMES = ("Alpha", "Beta", "Gamma", "Delta")
WAIT = 30  # seconds a held request waits for the others before the test fails (never hit)


def uid(text: str) -> str:
    """A well-formed uuid (hex) named by `text`: the client refuses malformed ones."""
    return hashlib.md5(text.encode()).hexdigest()


def catalog(name: str) -> dict[str, Any]:
    uuid = uid(f"c-{name.lower()}")
    return {
        "uuid": uuid,
        "url": f"http://x/api/marketplace-software-catalogs/{uuid}/",
        "name": name,
        "version": "1",
        "catalog_type": "binary_runtime",
    }


def target(uuid: str, micro: str, current: bool = False) -> dict[str, Any]:
    if current:
        return {
            "uuid": uid(uuid),
            "target_type": "cpu_architecture",
            "target_name": "x86_64",
            "target_subtype": micro,
            "location": f"/p/{micro}",
        }
    return {"uuid": uid(uuid), "cpu_family": "x86_64", "cpu_microarchitecture": micro, "path": "/p"}


def packages_of(name: str, count: int) -> list[dict[str, Any]]:
    """`count` packages, one version each with two targets; Gamma's speak the current dialect,
    and Beta's first package holds a target twice under one key (a duplicate)."""
    out = []
    for i in range(count):
        uuid = f"{name.lower()}-p{i}"
        targets = [
            target(f"{uuid}-t1", "generic", current=name == "Gamma"),
            target(f"{uuid}-t2", "amd/zen3", current=name == "Gamma"),
        ]
        if name == "Beta" and i == 0:
            targets.append(target(f"{uuid}-t3", "generic"))
        version = {"uuid": uid(f"{uuid}-v"), "version": "1.0", "targets": targets}
        version["module_version"] = ""
        out.append({"uuid": uid(uuid), "name": f"pkg-{i:03d}", "versions": [version]})
    return out


class Reordering:
    """A scripted server. Each catalog's first package page is held until the first pages of
    all `held` catalogs have arrived, then answered one at a time in `order`. Counts the most
    requests in flight at once."""

    def __init__(
        self,
        sizes: dict[str, int],
        order: tuple[str, ...],
        *,
        short: str | None = None,
        forbidden: str | None = None,
    ) -> None:
        self.packages = {name: packages_of(name, n) for name, n in sizes.items()}
        self.order = list(order)
        self.together = len(order)
        self.short = short  # this catalog's listing counts one package more than it holds
        self.forbidden = forbidden  # this catalog's listing answers 403
        self.turn = threading.Condition()
        self.arrived: set[str] = set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "catalogs" in request.url.path:
            body = [catalog(name) for name in self.packages]
            return httpx.Response(200, json=body, headers={"X-Result-Count": str(len(body))})
        name = next(n for n in self.packages if catalog(n)["uuid"] == params["catalog_uuid"])
        page = int(params.get("page", "1"))
        if page == 1 and name not in self.arrived:  # held once; a re-read is not
            self._wait_for_turn(name)
        if name == self.forbidden:
            return httpx.Response(403, json={"detail": "You do not have permission."})
        items = self.packages[name]
        total = len(items) + (1 if name == self.short else 0)
        size = int(params["page_size"])
        chunk = items[(page - 1) * size : page * size]
        headers = {"X-Result-Count": str(total)}
        if page * size < total:
            headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)

    def _wait_for_turn(self, name: str) -> None:
        with self.turn:
            self.arrived.add(name)
            self.turn.notify_all()
            ready = self.turn.wait_for(lambda: len(self.arrived) >= self.together, WAIT)
            assert ready, f"only {sorted(self.arrived)} arrived together"
            assert self.turn.wait_for(lambda: self.order[0] == name, WAIT)
            self.order.pop(0)
            self.turn.notify_all()


def desired(sizes: dict[str, int]) -> DesiredState:
    """Every catalog declared, and of each only its first package (so the rest would go)."""
    state = DesiredState()
    for name in sizes:
        key = catalog_key(name, "1")
        state.policies[key] = CatalogPolicy()
        state.records[key] = Record(key)
        state.records[key.child("pkg-000")] = Record(key.child("pkg-000"))
    return state


def read(server: Reordering, sizes: dict[str, int], concurrency: int = 8) -> ObservedState:
    config = ClientConfig(api_url="http://127.0.0.1:9/api/", concurrency=concurrency)
    with WaldurClient(config, transport=httpx.MockTransport(server.handle)) as client:
        return observe(client, desired(sizes))


def summary(observed: ObservedState) -> tuple[Any, ...]:
    records = [(k, r.fields, r.uuid, r.url) for k, r in observed.records.items()]
    return (
        records,
        observed.complete,
        observed.incomplete_reason,
        observed.duplicates,
        observed.dialect,
        observed.requests,
    )


SIZES = {"Alpha": 3, "Beta": PAGE_SIZE + 2, "Gamma": 1, "Delta": 5}


def test_the_catalogs_package_listings_are_in_flight_together_and_read_in_full():
    server = Reordering(SIZES, NAMES)
    observed = read(server, SIZES)
    assert server.max_in_flight >= len(NAMES)  # the barrier passed: all four first pages held
    assert observed.complete
    # 1 catalog page, 1 first page per catalog, and Beta's second page: the floor
    assert observed.requests == 1 + len(NAMES) + 1
    for name, count in SIZES.items():
        below = [k for k in observed.records if k.parts[0] == name and k.kind is Kind.PACKAGE]
        assert len(below) == count


@pytest.mark.parametrize("order", list(itertools.permutations(NAMES))[::5])
def test_the_observed_state_is_the_same_whatever_order_the_answers_come_in(order):
    reference = summary(read(Reordering(SIZES, NAMES), SIZES))
    assert summary(read(Reordering(SIZES, order), SIZES)) == reference
    records, _, _, duplicates, dialect, _ = reference
    # the catalogs first, then each catalog's subtree, in the server's catalog order
    kinds = [k.kind for k, *_ in records]
    assert kinds[: len(NAMES)] == [Kind.CATALOG] * len(NAMES)
    names = [k.parts[0] for k, *_ in records]
    assert names[: len(NAMES)] == list(NAMES)
    subtrees = [NAMES.index(n) for n in names[len(NAMES) :]]
    assert subtrees == sorted(subtrees) and set(subtrees) == set(range(len(NAMES)))
    assert len(duplicates) == 1 and uid("beta-p0-t3") in duplicates[0]
    assert dialect == "legacy"  # Alpha's, the first catalog listed, not the first answered


def test_never_more_requests_in_flight_than_the_concurrency():
    sizes = {"Alpha": 2 * PAGE_SIZE + 1, "Beta": 2 * PAGE_SIZE + 1}
    server = Reordering(sizes, ("Beta", "Alpha"))
    observed = read(server, sizes, concurrency=2)
    assert observed.complete and observed.requests == 1 + 2 * 3
    assert server.max_in_flight == 2


def test_a_catalog_whose_listing_is_incomplete_withholds_the_deletes_the_others_are_read():
    server = Reordering(SIZES, NAMES, short="Gamma")
    observed = read(server, SIZES)
    assert not observed.complete
    gamma = uid("c-gamma")
    assert f"package listing {{'catalog_uuid': '{gamma}'}}" in observed.incomplete_reason
    for name in ("Alpha", "Beta", "Delta"):  # the others are read in full
        below = [k for k in observed.records if k.parts[0] == name and k.kind is Kind.PACKAGE]
        assert len(below) == SIZES[name]
    plan = make_plan(desired(SIZES), observed)
    assert plan.withheld_deletes > 0 and not any(c.action.name == "DELETE" for c in plan.changes)
    assert any(gamma in note for note in plan.notes)


def test_a_catalog_whose_listing_is_refused_fails_the_read_after_the_others_end():
    ended: list[str] = []
    server = Reordering(SIZES, NAMES, forbidden="Beta")
    original: Callable[[httpx.Request], httpx.Response] = server.handle

    def handle(request: httpx.Request) -> httpx.Response:
        response = original(request)
        ended.append(request.url.params.get("catalog_uuid", "catalogs"))
        return response

    server.handle = handle  # type: ignore[method-assign]
    with pytest.raises(AuthError, match="permission"):
        read(server, SIZES)
    others = {uid(f"c-{name}") for name in ("alpha", "gamma", "delta")}
    assert others <= set(ended)  # no read left running behind


def test_one_key_object_for_both_states_also_when_read_concurrently():
    want = desired(SIZES)
    config = ClientConfig(api_url="http://127.0.0.1:9/api/")
    server = Reordering(SIZES, tuple(reversed(NAMES)))
    with WaldurClient(config, transport=httpx.MockTransport(server.handle)) as client:
        observed = observe(client, want)
    shared: dict[Key, Key] = {k: k for k in want.records}
    for key in observed.records:
        if key in shared:
            assert key is shared[key]
