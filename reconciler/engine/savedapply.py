"""Apply a saved plan: check that it still holds, then apply exactly its changes.

The checks, each reported with what changed (every difference, not just the first):

1. the desired-state files: same files, same bytes (sha256);
2. the server: the same API URL; under the apply lock, a fresh observation that is complete,
   in the same API dialect, in which every object a change touches is as it was saved —
   still absent for a create (and its live parent still the same object), the same uuid and
   the same fields for an update or delete, and as many objects below a delete.

Then the safety guards run again on the saved changes with today's settings, and the
changes are applied with uuids and parent URLs taken from the fresh observation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

from reconciler.core import dialect as dialects
from reconciler.core.errors import GuardRefused
from reconciler.core.model import Key, Kind, ObservedState, Record, format_key
from reconciler.core.plan import Action, Plan, live_counts
from reconciler.core.urls import public_url
from reconciler.engine import locks
from reconciler.engine.runner import NO_HOOKS, Hooks, Outcome, RunOptions, guard_and_apply, load
from reconciler.engine.savedplan import ABSENT, SavedChange, SavedPlan, file_digest, plain
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import observe
from reconciler.remote.offerings import link_state

SHOW = 50


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
    if change.action is Action.LOAD:  # the row as the plan saw it (its load state may move)
        if saved.observed == ABSENT:
            return [] if key in created else [f"{_what(key)} exists now"] if have else []
        if have is None or have.uuid != change.uuid:
            return [f"{_what(key)}, which the plan loads, was deleted or replaced"]
        return []
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


def rebuild(saved: SavedPlan, fresh: ObservedState, counts: dict[Key, int]) -> Plan:
    """The saved changes as a `Plan` for the Applier, with today's uuids and parent URLs."""
    changes = []
    for item in saved.changes:
        change = item.change
        if change.action is Action.CREATE:
            parent = fresh.records.get(change.key.parent) if change.key.parent else None
            changes.append(replace(change, parent_url=parent.url if parent else None))
        elif change.action is Action.LOAD and change.key not in fresh.records:
            changes.append(change)  # the plan creates the row first
        else:
            live = fresh.records[change.key]
            changes.append(replace(change, uuid=live.uuid, url=live.url))
    dialect = saved.dialect if saved.dialect in dialects.DIALECTS else fresh.dialect
    return Plan(
        changes=tuple(changes),
        dialect=dialect,
        dialect_reason=f"from the saved plan {saved.path.name}",
        read_path=fresh.read_path,
        live_counts=counts,
    )


def _refuse(saved: SavedPlan, problems: list[str]) -> GuardRefused:
    shown = problems[:SHOW] + (
        [f"… and {len(problems) - SHOW} more"] if len(problems) > SHOW else []
    )
    return GuardRefused(
        f"the saved plan {saved.path} no longer holds, so nothing was written; "
        "plan again and review the new plan:\n" + "\n".join(f"  - {p}" for p in shown)
    )


def apply_saved(
    options: RunOptions, client: WaldurClient, saved: SavedPlan, hooks: Hooks = NO_HOOKS
) -> Outcome:
    """Check `saved` against the files and the server, then apply it (see the module doc)."""
    problems = check_files(saved)
    if public_url(client.api_url) != saved.api_url:
        problems.append(f"the plan was made for {saved.api_url}, not {public_url(client.api_url)}")
    if problems:
        raise _refuse(saved, problems)
    desired = load(saved.inputs)
    problems = check_files(saved, desired.sources)
    if problems:
        raise _refuse(saved, problems)
    with locks.exclusive(client.api_url, wait=options.lock_wait, directory=options.lock_dir):
        fresh = observe(client, desired, options.api_dialect)
        desired, fresh = link_state(client, desired, fresh)
        problems = check_server(saved, fresh)
        if problems:
            raise _refuse(saved, problems)
        plan = rebuild(saved, fresh, live_counts(fresh))
        return guard_and_apply(options, client, desired, plan, write=True, hooks=hooks)
