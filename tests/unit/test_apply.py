"""The applier against a scripted Waldur: a real `WaldurClient` over `httpx.MockTransport`.

`FakeWaldur` keeps the four collections in memory, answers creates, patches, deletes and the
filtered listings that `lookup.find` sends, records every request in order, and lets a test
script what goes wrong with a request: an answer instead of handling it (nothing is stored), or
an answer, a dropped connection or a timeout after a write was stored.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.core.errors import ExitCode
from reconciler.core.model import (
    TREE,
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    ObservedState,
    Record,
    catalog_key,
)
from reconciler.core.plan import Plan, make_plan
from reconciler.core.urls import uuid_of
from reconciler.engine.apply import ApplyResult, Status, apply_plan
from reconciler.remote.client import ENDPOINTS, ClientConfig, WaldurClient

API = "http://127.0.0.1:9/api/"
KIND_OF_SEGMENT = {path.rstrip("/"): kind for kind, path in ENDPOINTS.items()}
PARENT_FIELD = {Kind.PACKAGE: "catalog", Kind.VERSION: "package", Kind.TARGET: "version"}
#: The listing filters `lookup.find` sends: query parameter → the field it matches exactly.
FILTERS = {
    "name": "name",
    "version": "version",
    "name_exact": "name",
    "version_exact": "version",
    "cpu_family": "cpu_family",
    "cpu_microarchitecture": "cpu_microarchitecture",
    "catalog_uuid": "catalog",
    "package_uuid": "package",
    "version_uuid": "version",
}

#: What a fault hook returns: None (no fault), or the answer: a Response or an exception.
Outcome = httpx.Response | Exception | None


@dataclass(frozen=True)
class Sent:
    """One request as the server saw it."""

    method: str
    kind: Kind
    body: dict[str, Any] | None
    params: dict[str, str]
    uuid: str | None  # of a detail URL

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def label(self) -> str:
        return f"{self.method} {self.kind.label}"


class FakeWaldur:
    def __init__(self) -> None:
        self.objects: dict[Kind, dict[str, dict[str, Any]]] = {kind: {} for kind in Kind}
        self.sent: list[Sent] = []
        self.lock = threading.Lock()
        self.serial = 0
        #: Asked before a request is handled: an outcome is answered instead (nothing stored).
        self.before: Callable[[Sent], Outcome] = lambda sent: None
        #: Asked after a write was stored: an outcome is answered instead of the real answer.
        self.after: Callable[[Sent], Outcome] = lambda sent: None

    # -- set-up -----------------------------------------------------------------------------
    def put(self, key: Key, **fields: Any) -> Record:
        """Store an object as if it had been there before the run; return its observed record."""
        body = {**key.own(), **fields}
        if key.parent is not None:
            parent = self.find(key.parent)
            assert parent is not None, f"put {key.parent} first"
            body[PARENT_FIELD[key.kind]] = parent["url"]
        with self.lock:
            obj = self._store(key.kind, body)
        return Record(key, fields, uuid=obj["uuid"], url=obj["url"])

    # -- what a test reads ------------------------------------------------------------------
    def all(self, key: Key) -> list[dict[str, Any]]:
        """Every stored object with this natural key (under the one parent with its key)."""
        parent = None if key.parent is None else self.find(key.parent)
        own = key.own()
        return [
            obj
            for obj in self.objects[key.kind].values()
            if all(obj.get(k) == v for k, v in own.items())
            and (parent is None or obj[PARENT_FIELD[key.kind]] == parent["url"])
        ]

    def find(self, key: Key) -> dict[str, Any] | None:
        matches = self.all(key)
        assert len(matches) <= 1, f"{key} is held {len(matches)} times"
        return matches[0] if matches else None

    def writes(self) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.write]

    # -- the transport ----------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = urlsplit(str(request.url)).path.strip("/").split("/")  # api, collection[, uuid]
        sent = Sent(
            request.method,
            KIND_OF_SEGMENT[parts[1]],
            json.loads(request.content) if request.content else None,
            dict(request.url.params),
            parts[2] if len(parts) > 2 else None,
        )
        with self.lock:
            self.sent.append(sent)
        outcome = self.before(sent)
        if outcome is None:
            with self.lock:
                response = self._handle(sent)
            outcome = self.after(sent) if sent.write else None
            if outcome is None:
                return response
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _handle(self, sent: Sent) -> httpx.Response:
        if sent.method == "GET" and sent.uuid is None:
            items = [
                obj
                for obj in self.objects[sent.kind].values()
                if all(_filter(obj, name, value) for name, value in sent.params.items())
            ]
            return httpx.Response(200, json=items, headers={"X-Result-Count": str(len(items))})
        if sent.method == "POST":
            assert sent.body is not None
            return httpx.Response(201, json=self._store(sent.kind, sent.body))
        obj = self.objects[sent.kind].get(sent.uuid or "")
        if obj is None:
            return httpx.Response(404, json={"detail": "Not found."})
        if sent.method == "PATCH":
            obj.update(sent.body or {})
            return httpx.Response(200, json=obj)
        if sent.method == "DELETE":
            del self.objects[sent.kind][obj["uuid"]]
            return httpx.Response(204)
        return httpx.Response(200, json=obj)

    def _store(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        self.serial += 1
        uuid = f"{self.serial:032x}"
        obj = {**body, "uuid": uuid, "url": f"{API}{ENDPOINTS[kind]}{uuid}/"}
        if kind is Kind.CATALOG:
            obj.setdefault("catalog_type", "binary_runtime")
        self.objects[kind][uuid] = obj
        return obj


def _filter(obj: dict[str, Any], name: str, value: str) -> bool:
    if name in ("page_size", "page"):
        return True
    field = FILTERS[name]  # a filter the fake does not know fails the test (KeyError)
    if name.endswith("_uuid"):
        return uuid_of(obj.get(field) or "") == value
    return obj.get(field) == value


# -- plans and runs ---------------------------------------------------------------------------

CAT = catalog_key("EESSI", "2023.06")
NEW_CAT = catalog_key("New", "1")
GONE_CAT = catalog_key("Gone", "1")


def desired(*records: Record, policies: dict[Key, CatalogPolicy] | None = None) -> DesiredState:
    cats = policies or {r.key: CatalogPolicy() for r in records if r.kind is Kind.CATALOG}
    return DesiredState(records={r.key: r for r in records}, policies=cats)


def observed(*records: Record) -> ObservedState:
    return ObservedState(records={r.key: r for r in records})


def tree(package: Key) -> list[Record]:
    """Desired records of a package with one version and one target."""
    version = package.child("1.0", "")
    name = package.parts[3]
    return [
        Record(package, {"description": f"{name} package"}),
        Record(version, {"release_date": "2024-01-01"}),
        Record(version.child("x86_64", "generic"), {"path": f"/cvmfs/{name}/1.0"}),
    ]


def run(fake: FakeWaldur, plan: Plan, **kwargs: Any) -> ApplyResult:
    config = ClientConfig(api_url=API, backoff_seconds=0.001, max_retry_seconds=5)
    with WaldurClient(config, transport=fake.transport()) as client:
        return apply_plan(client, plan, **kwargs)


def statuses(result: ApplyResult) -> dict[Key, Status]:
    return {r.change.key: r.status for r in result.results}


# -- ordering ---------------------------------------------------------------------------------


def test_creates_go_top_down_level_by_level_then_deletes_bottom_up() -> None:
    fake = FakeWaldur()
    live_cat = fake.put(CAT, description="old")
    kept_pkg = fake.put(CAT.child("Kept"))
    kept_ver = fake.put(kept_pkg.key.child("1", ""))
    kept_tgt = fake.put(kept_ver.key.child("x86_64", "generic"), path="/p")
    stale_tgt = fake.put(kept_ver.key.child("aarch64", "generic"), path="/q")
    stale_ver = fake.put(kept_pkg.key.child("0.9", ""))
    fake.put(stale_ver.key.child("x86_64", "generic"), path="/old")  # goes with its version
    stale_pkg = fake.put(CAT.child("Stale"))
    fake.put(stale_pkg.key.child("1", ""))  # goes with its package
    gone = fake.put(GONE_CAT)
    new = [*tree(NEW_CAT.child("A")), *tree(NEW_CAT.child("B")), *tree(CAT.child("C"))]
    want = desired(
        Record(CAT, {"description": "new"}),
        Record(kept_pkg.key),
        Record(kept_ver.key),
        Record(kept_tgt.key, {"path": "/p"}),
        Record(NEW_CAT),
        Record(GONE_CAT),
        *new,
        policies={
            CAT: CatalogPolicy(prune=True),
            NEW_CAT: CatalogPolicy(),
            GONE_CAT: CatalogPolicy(absent=True),
        },
    )
    have = observed(live_cat, kept_pkg, kept_ver, kept_tgt, stale_tgt, stale_ver, stale_pkg, gone)
    plan = make_plan(want, have)

    result = run(fake, plan)

    # Creates and updates by level, top down; then deletes by level, bottom up. Inside a level
    # the order is free (requests run concurrently), so each write is mapped to its phase.
    phases = [*((m, k) for k in TREE for m in ("POST", "PATCH")), *(("DELETE", k) for k in TREE)]
    phases[8:] = reversed(phases[8:])
    sent = [(s.method, s.kind) for s in fake.writes()]
    assert sent == sorted(sent, key=phases.index), sent
    assert [s.label for s in fake.writes()] == [
        "POST catalog",
        "PATCH catalog",
        *["POST package"] * 3,
        *["POST version"] * 3,
        *["POST target"] * 3,
        "DELETE target",
        "DELETE version",
        "DELETE package",
        "DELETE catalog",
    ]
    assert [s.uuid for s in fake.writes() if s.method == "DELETE"] == [
        stale_tgt.uuid,
        stale_ver.uuid,
        stale_pkg.uuid,
        gone.uuid,
    ]
    # Every child was posted under the url its parent's create (or the plan) gave.
    for s in fake.writes():
        if s.method == "POST" and s.kind is not Kind.CATALOG:
            parent_url = (s.body or {})[PARENT_FIELD[s.kind]]
            assert uuid_of(parent_url) in fake.objects[Kind(s.kind - 1)], s
    assert result.summary() == {
        "done": 15,
        "failed": 0,
        "skipped": 0,
        "not_attempted": 0,
        "not_applicable": 0,
    }
    assert result.exit_code is ExitCode.OK and not result.interrupted
    assert [r.change for r in result.results] == list(plan.changes)  # in the plan's order
    assert all(fake.find(r.key) is not None for r in new)
    assert fake.find(CAT)["description"] == "new"  # type: ignore[index]
    assert not any(fake.all(stale.key) for stale in (stale_tgt, stale_ver, stale_pkg, gone))


# -- a failed parent --------------------------------------------------------------------------


def test_a_failed_create_skips_its_children_and_sends_nothing_for_them() -> None:
    fake = FakeWaldur()
    live_cat = fake.put(CAT)
    broken, fine = CAT.child("Broken"), CAT.child("Fine")

    def refuse_broken(sent: Sent) -> Outcome:
        if sent.method == "POST" and (sent.body or {}).get("name") == "Broken":
            return httpx.Response(400, json={"name": ["This name is not allowed."]})
        return None

    fake.before = refuse_broken
    plan = make_plan(desired(Record(CAT), *tree(broken), *tree(fine)), observed(live_cat))

    result = run(fake, plan)

    got = statuses(result)
    broken_ver = broken.child("1.0", "")
    assert got[broken] is Status.FAILED
    assert got[broken_ver] is Status.SKIPPED
    assert got[broken_ver.child("x86_64", "generic")] is Status.SKIPPED
    assert {got[r.key] for r in tree(fine)} == {Status.DONE}  # the unrelated tree is applied
    assert result.exit_code is ExitCode.PARTIAL
    assert "HTTP 400" in result.results[0].message  # Broken sorts first
    skipped = [r for r in result.results if r.status is Status.SKIPPED]
    assert all("was not created" in r.message for r in skipped)
    # One POST for Broken (a 400 is not retried); nothing for its version and target.
    posts = fake.writes()
    assert [(s.label, (s.body or {}).get("name")) for s in posts[:2]] == [
        ("POST package", "Broken"),
        ("POST package", "Fine"),
    ]
    assert [s.label for s in posts[2:]] == ["POST version", "POST target"]
    fine_pkg, fine_ver = fake.find(fine), fake.find(fine.child("1.0", ""))
    assert fine_pkg is not None and fine_ver is not None
    assert (posts[2].body or {})["package"] == fine_pkg["url"]
    assert (posts[3].body or {})["version"] == fine_ver["url"]
    assert fake.find(broken) is None


# -- a create whose outcome is unknown ----------------------------------------------------------

#: The ways a POST goes unanswered; the client reports each as `OutcomeUnknown`.
NO_ANSWER: dict[str, Callable[[], Exception | httpx.Response]] = {
    "dropped": lambda: httpx.RemoteProtocolError("Server disconnected without a response."),
    "timeout": lambda: httpx.ReadTimeout("timed out"),
    "502": lambda: httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"),
}


def first_post_of(kind: Kind, answer: str) -> Callable[[Sent], Outcome]:
    """A hook that answers the first POST of `kind` with `NO_ANSWER[answer]`."""
    hit: list[Sent] = []

    def hook(sent: Sent) -> Outcome:
        if sent.method == "POST" and sent.kind is kind and not hit:
            hit.append(sent)
            return NO_ANSWER[answer]()
        return None

    return hook


@pytest.mark.parametrize("kind", list(TREE), ids=lambda k: k.label)
@pytest.mark.parametrize("answer", list(NO_ANSWER))
def test_an_unanswered_create_that_was_stored_is_adopted_not_sent_again(
    kind: Kind, answer: str
) -> None:
    fake = FakeWaldur()
    fake.after = first_post_of(kind, answer)  # stored, but the answer never comes
    records = [Record(NEW_CAT), *tree(NEW_CAT.child("GROMACS"))]
    plan = make_plan(desired(*records), observed())

    result = run(fake, plan)

    assert [r.status for r in result.results] == [Status.DONE] * 4, result.results
    assert result.results[kind].message.startswith("adopted after an unanswered create")
    # Each POST once (no duplicate), and one lookup, of the unanswered kind, after its POST.
    labels = [f"POST {k.label}" for k in TREE]
    labels.insert(kind + 1, f"GET {kind.label}")
    assert [s.label for s in fake.sent] == labels
    assert all(len(fake.all(r.key)) == 1 for r in records)
    if kind is not Kind.TARGET:  # the child went under the adopted object
        child = fake.sent[kind + 2]
        adopted = fake.find(records[kind].key)
        assert adopted is not None
        assert (child.body or {})[PARENT_FIELD[child.kind]] == adopted["url"]


@pytest.mark.parametrize("answer", list(NO_ANSWER))
def test_an_unanswered_create_that_was_not_stored_is_sent_again(answer: str) -> None:
    fake = FakeWaldur()
    fake.before = first_post_of(Kind.PACKAGE, answer)  # lost before it was stored
    records = [Record(NEW_CAT), *tree(NEW_CAT.child("GROMACS"))]
    plan = make_plan(desired(*records), observed())

    result = run(fake, plan)

    assert [r.status for r in result.results] == [Status.DONE] * 4
    assert result.results[1].message == ""  # created, not adopted
    assert [s.label for s in fake.sent] == [
        "POST catalog",
        "POST package",  # unanswered
        "GET package",  # looked up by its natural key: not there
        "POST package",  # so sent again
        "POST version",
        "POST target",
    ]
    lookup = fake.sent[2].params
    assert lookup["name_exact"] == "GROMACS"
    assert lookup["catalog_uuid"] == fake.find(NEW_CAT)["uuid"]  # type: ignore[index]
    assert all(len(fake.all(r.key)) == 1 for r in records)


def test_a_create_never_answered_fails_after_three_tries_and_skips_its_children() -> None:
    fake = FakeWaldur()
    fake.before = lambda sent: (
        httpx.Response(504, text="gateway timeout") if sent.label == "POST package" else None
    )
    plan = make_plan(desired(Record(NEW_CAT), *tree(NEW_CAT.child("X"))), observed())

    result = run(fake, plan)

    assert [r.status for r in result.results] == [
        Status.DONE,
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
    ]
    assert "never answered after 3 tries" in result.results[1].message
    assert [s.label for s in fake.sent] == ["POST catalog"] + ["POST package", "GET package"] * 3
    assert not fake.objects[Kind.PACKAGE]


# -- the stop event ---------------------------------------------------------------------------


@pytest.mark.parametrize("writes", [1, 3])
def test_the_stop_event_lets_the_write_in_flight_finish_and_sends_no_more(writes: int) -> None:
    fake = FakeWaldur()
    stop = threading.Event()

    def stop_during_write(sent: Sent) -> Outcome:
        if sent.write and len(fake.writes()) == writes:
            stop.set()  # as the CLI's SIGTERM handler does, while this write is in flight
        return None

    fake.before = stop_during_write
    records = [Record(NEW_CAT), *tree(NEW_CAT.child("A")), *tree(NEW_CAT.child("B"))]
    plan = make_plan(desired(*records), observed())

    result = run(fake, plan, stop=stop, concurrency=1)

    assert len(fake.writes()) == writes
    not_sent = len(plan.changes) - writes
    assert [r.status for r in result.results] == (
        [Status.DONE] * writes + [Status.NOT_ATTEMPTED] * not_sent
    )
    assert {r.message for r in result.results[writes:]} == {"interrupted before it was sent"}
    assert result.interrupted and result.exit_code is ExitCode.PARTIAL
    assert all(fake.find(r.change.key) for r in result.results[:writes])  # report = truth
    assert sum(map(len, fake.objects.values())) == writes


def test_a_stop_before_the_run_sends_nothing() -> None:
    fake = FakeWaldur()
    stop = threading.Event()
    stop.set()
    plan = make_plan(desired(Record(NEW_CAT), *tree(NEW_CAT.child("A"))), observed())

    result = run(fake, plan, stop=stop)

    assert fake.sent == []
    assert [r.status for r in result.results] == [Status.NOT_ATTEMPTED] * 4
    assert result.interrupted and result.exit_code is ExitCode.PARTIAL
