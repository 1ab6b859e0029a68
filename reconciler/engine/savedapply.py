"""Apply a saved plan only as it was reviewed: recompute it, and apply it only if it is the
same plan.

The checks, each reported with what changed (every difference, not just the first):

1. the desired-state files: same files, same bytes (sha256); and the values of their
   ``{{ values.NAME }}`` placeholders: the environment's as the project file gives them now,
   which the plan file's must equal (its own are never used);
2. the server: the same API URL; under the apply lock, a fresh observation that is complete,
   in the same API dialect, in which every object a change touches is as it was saved —
   still absent for a create (and its live parent still the same object), the same uuid and
   the same fields for an update or delete, and as many objects below a delete;
3. the plan itself: recomputed from those files and that observation, it must be exactly the
   saved one — the same changes of the same kinds with the same values, nothing more and
   nothing less (`compare`). A plan file edited after review (a changed value, an added
   create, a widened delete) therefore never applies: exit 4, "the plan file does not match
   the plan its files give: re-plan", and nothing is written. Nor does a plan that the server
   has drifted away from since (re-plan and review again).

Then the safety guards run again with today's settings and the recomputed plan — the one
the files and the server give, equal to the saved one — is applied; its URLs are built from
the API URL and the fresh observation's uuids, never read from the file.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.errors import GuardRefused
from reconciler.core.model import Key, Kind, ObservedState, Record, format_key
from reconciler.core.plan import Action, Plan, make_plan
from reconciler.core.urls import public_url
from reconciler.engine import locks
from reconciler.engine.runner import (
    NO_HOOKS,
    Hooks,
    Outcome,
    RunOptions,
    bounded,
    guard_and_apply,
    load,
)
from reconciler.engine.savedplan import (
    ABSENT,
    SavedChange,
    SavedPlan,
    change_document,
    file_digest,
    plain,
)
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import observe
from reconciler.remote.offerings import link_state

SHOW = 50
MISMATCH = "the plan file does not match the plan its files give: re-plan"


def check_files(saved: SavedPlan, sources: tuple[str, ...] | None = None) -> list[str]:
    """Differences between the files the plan was made from and the files now; `sources` is
    what the plan's ``-f`` arguments expand to today (to notice added or removed files)."""
    problems = []
    for path, digest in saved.files:
        try:
            now = file_digest(Path(path))
        except OSError as exc:
            problems.append(f"desired file {path} cannot be read any more ({exc.strerror})")
            continue
        if now != digest:
            problems.append(f"desired file {path} changed since the plan was made")
    if sources is not None:
        then = [path for path, _ in saved.files]
        problems += [f"desired file {p} is new since the plan" for p in sources if p not in then]
        problems += [f"desired file {p} is no longer read" for p in then if p not in sources]
    return problems


def check_values(saved: SavedPlan, values: dict[str, str] | None) -> list[str]:
    """Differences between the values the plan file holds and `values`, its environment's as
    the project file gives them now (the ones the files are loaded with)."""
    then, now = saved.values or {}, values or {}
    where = (
        f"the environment {saved.environment}"
        if saved.environment
        else "this run's (no environment, no values)"
    )
    problems = []
    for name in sorted(set(then) | set(now)):
        if name not in now:
            problems.append(f"the value {name} is in the plan file, not in {where}")
        elif name not in then:
            problems.append(f"the value {name} is in {where} ({now[name]!r}), not in the plan file")
        elif then[name] != now[name]:
            problems.append(
                f"the value {name} is {then[name]!r} in the plan file, {now[name]!r} in {where}"
            )
    return problems


def _descendants(observed: ObservedState) -> Counter[Key]:
    below: Counter[Key] = Counter()
    for key in observed.records:
        for ancestor in key.ancestors():
            below[ancestor] += 1
    return below


def _what(key: Key) -> str:
    return f"{key.kind.label} {format_key(key)}"


def _check_change(
    saved: SavedChange, fresh: ObservedState, created: set[Key], below: Counter[Key]
) -> list[str]:
    change = saved.change
    key, have = change.key, fresh.records.get(change.key)
    if change.action is Action.CREATE:
        if have is not None:
            return [f"{_what(key)} was absent and now exists (uuid {have.uuid})"]
        parent = key.parent
        if parent is None or parent in created:
            return []
        live = fresh.records.get(parent)
        if live is None:
            return [
                f"{_what(parent)}, under which the plan creates {key.kind.label} "
                f"{key.own()}, no longer exists"
            ]
        if saved.parent_uuid and live.uuid != saved.parent_uuid:
            return [f"{_what(parent)} was replaced (uuid {saved.parent_uuid} → {live.uuid})"]
        return []
    if change.action is Action.LOAD:  # the row as the plan saw it (its load state may move)
        if saved.observed == ABSENT:
            return [] if key in created else [f"{_what(key)} exists now"] if have else []
        if have is None or have.uuid != change.uuid:
            return [f"{_what(key)}, which the plan loads, was deleted or replaced"]
        return []
    if have is None:
        return [f"{_what(key)} was deleted since the plan was made"]
    if have.uuid != change.uuid:
        return [f"{_what(key)} was replaced (uuid {change.uuid} → {have.uuid})"]
    problems = _field_changes(key, saved.observed["fields"], have)
    if change.action is Action.DELETE:
        now = fresh.catalog_sizes.get(key, 0) if key.kind is Kind.CATALOG else below[key]
        if now != change.cascade:
            problems.append(
                f"{_what(key)} now has {now} objects below it, not {change.cascade}: "
                "deleting it would take a different set with it"
            )
    return problems


def _field_changes(key: Key, then: dict[str, object], have: Record) -> list[str]:
    now = plain({**key.own(), **have.fields})
    return [
        f"{_what(key)}: {name} was {then.get(name)!r}, is now {now.get(name)!r}"
        for name in sorted(set(then) | set(now))
        if then.get(name) != now.get(name)
    ]


def check_server(saved: SavedPlan, fresh: ObservedState) -> list[str]:
    """Every way the server differs, for what the plan touches, from when it was saved."""
    if not fresh.complete:
        return [f"the server could not be read completely ({fresh.incomplete_reason})"]
    problems = []
    if (
        fresh.dialect in dialects.DIALECTS
        and saved.dialect in dialects.DIALECTS
        and fresh.dialect != saved.dialect
    ):
        problems.append(
            f"the server now speaks the {fresh.dialect} API dialect, not {saved.dialect}"
        )
    created = {s.change.key for s in saved.changes if s.change.action is Action.CREATE}
    below = _descendants(fresh)
    for item in saved.changes:
        problems += _check_change(item, fresh, created, below)
    return problems


def _identity(item: Mapping[str, Any]) -> str:
    return json.dumps([item.get("action"), item.get("kind"), item.get("key")], sort_keys=True)


def _name(item: Mapping[str, Any]) -> str:
    key = item.get("key")
    shown = "/".join(str(v) for v in key.values()) if isinstance(key, dict) else repr(key)
    return f"{item.get('action')} {item.get('kind')} {shown}"


def compare(saved: SavedPlan, plan: Plan) -> list[str]:
    """Every difference between the saved changes and `plan`'s, as the file holds them."""
    given: dict[str, list[Any]] = defaultdict(list)
    for change in plan.changes:
        item = plain(change_document(change))
        given[_identity(item)].append(item)
    problems = []
    for item in saved.documents:
        ident = _identity(item)
        if not given.get(ident):
            problems.append(f"the plan file has {_name(item)}, which the files do not give")
        elif item in given[ident]:
            given[ident].remove(item)
        else:
            theirs = given[ident].pop(0)
            fields = sorted(k for k in set(item) | set(theirs) if item.get(k) != theirs.get(k))
            problems.append(
                f"the plan file's {_name(item)} differs from the files' (in {', '.join(fields)})"
            )
    for items in given.values():
        problems += [f"the files give {_name(item)}, which the plan file lacks" for item in items]
    return problems


def _listed(problems: list[str]) -> str:
    shown = problems[:SHOW] + (
        [f"… and {len(problems) - SHOW} more"] if len(problems) > SHOW else []
    )
    return "\n".join(f"  - {p}" for p in shown)


def _refuse(saved: SavedPlan, problems: list[str]) -> GuardRefused:
    return GuardRefused(
        f"the saved plan {saved.path} no longer holds, so nothing was written; "
        "plan again and review the new plan:\n" + _listed(problems)
    )


def apply_saved(
    options: RunOptions,
    client: WaldurClient,
    saved: SavedPlan,
    values: dict[str, str] | None,
    hooks: Hooks = NO_HOOKS,
) -> Outcome:
    """Check `saved` against the files, the `values` of its environment (the project file's,
    now) and the server, then apply it (see the module doc)."""
    problems = check_files(saved) + check_values(saved, values)
    if public_url(client.api_url) != saved.api_url:
        problems.append(f"the plan was made for {saved.api_url}, not {public_url(client.api_url)}")
    if problems:
        raise _refuse(saved, problems)
    desired = load(saved.inputs, values)
    problems = check_files(saved, desired.sources)
    if problems:
        raise _refuse(saved, problems)
    lock = locks.exclusive(client.api_url, wait=options.lock_wait, directory=options.lock_dir)
    with bounded(options, client, hooks), lock:
        fresh = observe(client, desired, options.api_dialect)
        desired, fresh = link_state(client, desired, fresh)
        problems = check_server(saved, fresh)
        if not fresh.complete:
            raise _refuse(saved, problems)
        plan = make_plan(desired, fresh)
        problems += compare(saved, plan)  # what changed on the server, then in the plan
        if problems:
            raise GuardRefused(
                f"{MISMATCH} (nothing was written; {saved.path}):\n" + _listed(problems)
            )
        return guard_and_apply(options, client, desired, plan, write=True, hooks=hooks)
