"""Apply a plan: the only module that writes.

Level by level with a barrier between levels (catalogs, packages, versions, targets, then
offering links, for creates and updates; then deletes bottom-up), at most `concurrency`
requests in flight, one result per change: `done`, `failed`, `skipped` (its parent was not
created), `not_attempted` (the server refused this kind of write, or the run was interrupted)
or `not_applicable` (the plan says the server will not take it: never sent).

Writes of a kind (its creates and updates together; its deletes apart) start with canaries,
one request at a time: a server that refuses them (current upstream Waldur answers a POST of a
version with HTTP 500 and ignores its PATCH) is found by its first refusal — only where the
plan could not read the server's capabilities — and no new write of that kind starts after
it; the rest are reported `not_attempted` with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.errors import ApiError, ExitCode, NotFound, OutcomeUnknown
from reconciler.core.log import get_logger
from reconciler.core.model import PARENT_FIELD, Key, Kind
from reconciler.core.plan import Action, Change, Plan, same
from reconciler.core.urls import uuid_of
from reconciler.engine.loads import LoadOptions, run_load
from reconciler.remote.client import WaldurClient
from reconciler.remote.lookup import find
from reconciler.remote.offerings import LINK_FIELDS, action_url, offering_url

log = get_logger("reconciler.apply")

#: Refusals of a kind's writes after which no new write of that kind starts in this run.
REFUSE_AFTER = 1
_RESENDS = 2


class Status(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_ATTEMPTED = "not_attempted"
    NOT_APPLICABLE = "not_applicable"  # the server said it will not take it: never sent
    LOADING = "loading"  # a load still running when the wait ended: the next run checks it
    UNMET = "unmet"  # loaded, but the file's expectations are not met


@dataclass(frozen=True, slots=True)
class ChangeResult:
    change: Change
    status: Status
    message: str = ""
    gaps: tuple[str, ...] = ()  # a load's unmet expectations


@dataclass
class ApplyResult:
    results: list[ChangeResult]
    interrupted: bool = False
    refused: dict[str, str] = field(default_factory=dict)  # "create version" → why

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    def summary(self) -> dict[str, int]:
        """Counts by status; a load's own statuses (loading, unmet) only when they occur."""
        counts = {s.value: self.count(s) for s in Status}
        for status in (Status.LOADING, Status.UNMET):
            if not counts[status.value]:
                del counts[status.value]
        return counts

    @property
    def exit_code(self) -> ExitCode:
        if any(r.status is Status.FAILED and r.change.action is Action.LOAD for r in self.results):
            return ExitCode.ERROR  # the server's loader failed: its text is in the message
        ok = all(r.status is Status.DONE for r in self.results) and not self.interrupted
        return ExitCode.OK if ok else ExitCode.PARTIAL


INTERRUPTED = "interrupted before it was sent"
OUT_OF_TIME = "not sent: the run's deadline (--run-timeout) passed"


class Refused(Exception):
    """The server took the request but will not make the change (500 every time, 405, or a
    200 whose body does not show the change)."""


@dataclass
class _Group:
    """The writes of one kind (creates and updates), or its deletes: whether the server
    refuses them."""

    label: str
    refusals: int = 0
    successes: int = 0
    reason: str = ""

    @property
    def disabled(self) -> bool:
        return self.successes == 0 and self.refusals >= REFUSE_AFTER


class Applier:
    def __init__(
        self,
        client: WaldurClient,
        plan: Plan,
        *,
        concurrency: int = 8,
        stop: threading.Event | None = None,
        on_result: Callable[[ChangeResult], None] | None = None,
        loads: LoadOptions | None = None,
    ) -> None:
        self.client = client
        self.loads = loads or LoadOptions()
        self.plan = plan
        self.concurrency = max(concurrency, 1)
        self.stop = stop or threading.Event()
        self.on_result = on_result
        self.dialect = plan.dialect
        self._urls: dict[Key, str] = {}
        self._failed: set[Key] = set()
        self._lock = threading.Lock()
        self._groups: dict[tuple[Kind, Action], _Group] = {}

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> ApplyResult:
        results: dict[int, ChangeResult] = {}
        indexed = list(enumerate(self.plan.changes))
        ups = [(i, c) for i, c in indexed if c.action is not Action.DELETE]
        downs = [(i, c) for i, c in indexed if c.action is Action.DELETE]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for kind in Kind:
                self._level(pool, [x for x in ups if x[1].kind is kind], results)
            for kind in reversed(Kind):
                self._level(pool, [x for x in downs if x[1].kind is kind], results)
        refused = {g.label: g.reason for g in self._groups.values() if g.refusals}
        ordered = [results[i] for i, _ in indexed]
        interrupted = any(r.message in (INTERRUPTED, OUT_OF_TIME) for r in ordered)
        return ApplyResult(ordered, interrupted=interrupted, refused=refused)

    def _level(
        self,
        pool: ThreadPoolExecutor,
        items: list[tuple[int, Change]],
        results: dict[int, ChangeResult],
    ) -> None:
        for action in Action:
            group = [x for x in items if x[1].action is action]
            if not group:
                continue
            # Canaries first, one at a time, while the server keeps refusing this write and
            # until it is judged refused; then the rest concurrently.
            rest = list(group)
            tracker = self._group(group[0][1])
            while rest and not tracker.disabled:
                refusals = tracker.refusals
                index, change = rest.pop(0)
                results[index] = self._one(change)
                if tracker.refusals == refusals:
                    break
            for (index, _), result in zip(
                rest, pool.map(lambda x: self._one(x[1]), rest), strict=True
            ):
                results[index] = result

    def _group(self, change: Change) -> _Group:
        """Creates and updates of a kind share one group (a server that refuses one refuses
        the other: both write the same read-only fields); deletes have their own."""
        action = change.action if change.action is not Action.UPDATE else Action.CREATE
        key = (change.kind, action)
        with self._lock:
            if key not in self._groups:
                verb = {Action.DELETE: "delete", Action.LOAD: "load"}.get(action, "write")
                label = f"{verb} {change.kind.label}"
                self._groups[key] = _Group(label)
            return self._groups[key]

    # -- one change ------------------------------------------------------------------------------
    def _one(self, change: Change) -> ChangeResult:
        result = self._attempt(change)
        if result.status is not Status.DONE and change.action is Action.CREATE:
            with self._lock:
                self._failed.add(change.key)  # its children cannot be created under it
        log.info(
            "change",
            kind=change.kind.label,
            key=str(change.key),
            action=change.action.value,
            status=result.status.value,
            message=result.message or None,
        )
        if self.on_result:
            self.on_result(result)
        return result

    def _attempt(self, change: Change) -> ChangeResult:
        group = self._group(change)
        if not change.applicable:
            return ChangeResult(change, Status.NOT_APPLICABLE, change.reason)
        if self.stop.is_set():
            return ChangeResult(change, Status.NOT_ATTEMPTED, INTERRUPTED)
        if self.client.out_of_time():
            return ChangeResult(change, Status.NOT_ATTEMPTED, OUT_OF_TIME)
        if group.disabled:
            return ChangeResult(change, Status.NOT_ATTEMPTED, group.reason)
        parent = change.key.parent
        if change.action is Action.CREATE and parent is not None and parent in self._failed:
            return ChangeResult(change, Status.SKIPPED, f"its {parent.kind.label} was not created")
        if change.action is Action.LOAD:
            return self._load(change)
        try:
            message = self._send(change, give_up=lambda: group.refusals > 0)
        except Refused as exc:
            with self._lock:
                group.refusals += 1
                group.reason = str(exc)
            return ChangeResult(change, Status.FAILED, str(exc))
        except ApiError as exc:
            return ChangeResult(change, Status.FAILED, str(exc))
        with self._lock:
            group.successes += 1
        return ChangeResult(change, Status.DONE, message)

    def _send(self, change: Change, give_up: Callable[[], bool]) -> str:
        if change.kind is Kind.OFFERING_LINK:
            return self._link(change)
        if change.action is Action.CREATE:
            return self._create(change, give_up)
        if change.action is Action.UPDATE:
            return self._update(change, give_up)
        assert change.url
        try:
            self.client.delete(change.url)
        except ApiError as exc:
            raise self._refusal(change, exc) from None
        return ""

    def _load(self, change: Change) -> ChangeResult:
        if change.key in self._failed:
            return ChangeResult(change, Status.SKIPPED, "its catalog was not created")
        with self._lock:
            url = self._urls.get(change.key) or change.url
        if not url:
            return ChangeResult(change, Status.FAILED, "no url known for the catalog")
        outcome = run_load(self.client, change, url, self.loads, self.stop)
        return ChangeResult(change, Status(outcome.status), outcome.message, outcome.gaps)

    def _parent_url(self, change: Change) -> str | None:
        parent = change.key.parent
        if parent is None:
            return None
        with self._lock:
            return self._urls.get(parent) or change.parent_url

    def _body(self, change: Change, fields: Mapping[str, Any], parent_url: str | None) -> dict:
        if change.kind is Kind.TARGET:
            body = dialects.target_to_wire(fields, self.dialect)
        else:
            body = dict(fields)
        if change.action is Action.CREATE and parent_url:
            body[PARENT_FIELD[change.kind]] = parent_url
        return body

    def _create(self, change: Change, give_up: Callable[[], bool]) -> str:
        parent_url = self._parent_url(change)
        assert change.after is not None
        if change.kind is not Kind.CATALOG and not parent_url:
            raise ApiError(f"no url known for its {change.kind.parent.label}")  # type: ignore[union-attr]
        body = self._body(change, change.after, parent_url)
        note = ""
        for _ in range(_RESENDS + 1):
            try:
                created = self.client.create(change.kind, body, give_up_500=give_up)
                break
            except OutcomeUnknown as exc:
                found = find(self.client, change.key, parent_url)
                if found is not None:
                    created, note = found, f"adopted after an unanswered create ({exc})"
                    break
            except ApiError as exc:
                if _is_duplicate(exc):
                    found = find(self.client, change.key, parent_url)
                    if found is not None:
                        created, note = found, "adopted: it existed already"
                        break
                raise self._refusal(change, exc) from None
        else:
            raise ApiError(f"create was never answered after {_RESENDS + 1} tries")
        self._learn_dialect(change, created)
        self._check_stored(change, created, change.after)
        with self._lock:
            self._urls[change.key] = self.client.detail_url(change.kind, str(created.get("uuid")))
        return note

    def _update(self, change: Change, give_up: Callable[[], bool]) -> str:
        assert change.url
        wanted = {f.name: f.new for f in change.fields}
        try:
            answer = self.client.patch(
                change.url, self._body(change, wanted, None), give_up_500=give_up
            )
        except ApiError as exc:
            raise self._refusal(change, exc) from None
        self._check_stored(change, answer, wanted)
        return ""

    def _link(self, change: Change) -> str:
        """add_software_catalog / update_software_catalog / remove_software_catalog, always
        through the offering the link belongs to (the key's offering; for updates and
        deletes the offering it was read from)."""
        offering = change.key.parts[3]
        wanted = {name: list((change.after or {}).get(name) or []) for name in LINK_FIELDS}
        try:
            if change.action is Action.CREATE:
                catalog_url = self._parent_url(change)
                if not catalog_url:
                    raise ApiError("no url known for its catalog")
                body = {"catalog": uuid_of(catalog_url), **wanted}
                return self._add_link(change, offering, body)
            assert change.uuid
            if change.action is Action.UPDATE:
                fields = {f.name: list(f.new) for f in change.fields}
                body = {"offering_catalog_uuid": change.uuid, **fields}
                url = action_url(self.client, offering, "update_software_catalog")
                answer = self.client.request("PATCH", url, json=body).json()
                self._check_stored(change, answer, fields)
                return ""
            url = action_url(self.client, offering, "remove_software_catalog")
            try:
                self.client.request(
                    "POST", url, json={"offering_catalog_uuid": change.uuid}, expect=(204,)
                )
            except NotFound:
                return "it was gone already"
            return ""
        except ApiError as exc:
            raise self._refusal(change, exc) from None

    def _add_link(self, change: Change, offering: str, body: Mapping[str, Any]) -> str:
        url = action_url(self.client, offering, "add_software_catalog")
        try:
            self.client.request("POST", url, json=dict(body), expect=(201,))
        except OutcomeUnknown:
            if not self._link_exists(offering, str(body["catalog"])):
                self.client.request("POST", url, json=dict(body), expect=(201,))
                return "sent again after an unanswered add"
            return "adopted after an unanswered add"
        except ApiError as exc:
            if _is_duplicate(exc) and self._link_exists(offering, str(body["catalog"])):
                return "adopted: the offering links the catalog already"
            raise
        return ""

    def _link_exists(self, offering: str, catalog_uuid: str) -> bool:
        detail = self.client.get_json(
            offering_url(self.client, offering), {"field": ["uuid", "software_catalogs"]}
        )
        links = detail.get("software_catalogs") or [] if isinstance(detail, dict) else []
        return any(str((link.get("catalog") or {}).get("uuid")) == catalog_uuid for link in links)

    def _learn_dialect(self, change: Change, answer: Mapping[str, Any]) -> None:
        if change.kind is Kind.TARGET and self.dialect == dialects.UNDETERMINED:
            found = dialects.dialect_of(answer)
            if found:
                self.dialect = found
                log.info("api dialect learnt from the server's answer", dialect=found)

    def _check_stored(
        self, change: Change, answer: Mapping[str, Any], wanted: Mapping[str, Any]
    ) -> None:
        """A 2xx whose body does not show the requested values is a refused change."""
        stored = dialects.target_from_wire(answer) if change.kind is Kind.TARGET else answer
        wrong = [name for name, value in wanted.items() if not same(name, stored.get(name), value)]
        if wrong:
            raise Refused(
                f"the server answered {'201' if change.action is Action.CREATE else '200'} but "
                f"did not store {', '.join(sorted(wrong))}: it does not accept writes of "
                f"{change.kind.label}s (current upstream Waldur makes versions and targets "
                "read-only)"
            )

    def _refusal(self, change: Change, exc: ApiError) -> Exception:
        if exc.status not in (500, 405, 501):
            return exc
        hint = ""
        if change.kind in (Kind.VERSION, Kind.TARGET) and change.action is not Action.DELETE:
            hint = (
                " (current upstream Waldur makes versions and targets read-only through "
                "its API and fills them only with its own EESSI/Spack loaders)"
            )
        return Refused(
            f"the server refused to {change.action.value} a {change.kind.label}: {exc}{hint}"
        )


def _is_duplicate(exc: ApiError) -> bool:
    body = exc.body
    if exc.status != 400 or not isinstance(body, dict):
        return False
    errors = body.get("non_field_errors") or []
    return any("unique" in str(e) for e in errors)


def apply_plan(client: WaldurClient, plan: Plan, **kwargs: Any) -> ApplyResult:
    return Applier(client, plan, **kwargs).run()
