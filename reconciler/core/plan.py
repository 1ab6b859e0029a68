"""Pair desired and observed records by natural key, diff the managed fields, order the changes.

Pure: plain values in, a `Plan` value out; no I/O, no clock, no logging. Render and apply both
read the same `Plan`.

- A field the desired state leaves out is not managed and never shows in a diff.
- Values are compared after normalisation (surrounding whitespace, ``null`` vs ``""``, a
  trailing slash on URLs), so a plan right after an apply is empty.
- Deletes happen only in declared catalogs with ``prune: true`` (or ``state: absent``), only
  from a complete observation, and only for the topmost undeclared object: the server deletes
  its children with it (they are counted in the change's `cascade`).
- Order: creates and updates top-down (catalog, package, version, target), then deletes
  bottom-up; inside a level, by key.
- A catalog that Waldur's loader fills (``loader:``) has no packages in the desired state and
  none are read: its contents are never planned. It gets a ``load`` change when it is absent,
  never loaded, failed, or older than its refresh (`plan_loads`, `core.loaders`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Any

from reconciler.core import loaders
from reconciler.core.model import (
    KEY_LENGTH,
    URL_FIELDS,
    VALUE_FIELDS,
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    ObservedState,
    Record,
    format_key,
)

NULLABLE_TEXT = frozenset({"description", "homepage", "source_url", "path", "release_date"})
#: Length of the parent's key parts, per kind: the loops below look parents and catalogs up by
#: slices of `Key.parts` (plain tuples) instead of building a `Key` per record.
_PARENT_LENGTH = {kind: KEY_LENGTH[kind.parent] for kind in Kind if kind.parent is not None}
#: List fields whose order means nothing (compared as sets): an offering link's CPU lists.
UNORDERED = frozenset(VALUE_FIELDS[Kind.OFFERING_LINK])


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOAD = "load"  # let Waldur's loader fill a catalog (update_catalog), and wait for it


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    old: Any
    new: Any
    detail: str = ""  # for nested values (metadata): what inside changed


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    key: Key
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    fields: tuple[FieldChange, ...] = ()
    uuid: str | None = None
    url: str | None = None
    cascade: int = 0  # objects the server deletes with this one (deletes only)
    parent_url: str | None = None  # creates: the live parent's url, when it exists already
    applicable: bool = True  # False: the server says it will not take it (never sent)
    reason: str = ""  # why not applicable; for a load: why it loads
    running: bool = False  # a load already running on the server: wait for it, send nothing

    @property
    def kind(self) -> Kind:
        return self.key.kind


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    dialect: str = "legacy"
    dialect_reason: str = ""
    complete: bool = True
    withheld_deletes: int = 0
    notes: tuple[str, ...] = ()
    read_path: str = "embedded"
    live_counts: Mapping[Key, int] = field(default_factory=dict)
    #: "" (not needed: nothing to create or update), "checked", or "not checked: WHY"
    capabilities: str = ""
    #: offering uuid → name, for showing links
    offering_names: Mapping[str, str] = field(default_factory=dict)
    #: per declared loader catalog: who fills it and what is there (one line), and its
    #: load phase on the server ("absent", or a `loaders.LoadPhase` value)
    loaders: Mapping[Key, str] = field(default_factory=dict)
    load_phases: Mapping[Key, str] = field(default_factory=dict)
    #: loaded loader catalogs → the expectations they miss (unmet: exit 3)
    gaps: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)

    def count(self, action: Action) -> int:
        """Changes of `action` that will be sent (not-applicable ones are counted apart)."""
        return sum(1 for c in self.changes if c.action is action and c.applicable)

    @property
    def not_applicable(self) -> int:
        return sum(1 for c in self.changes if not c.applicable)

    def summary(self) -> dict[str, int]:
        """Counts by action; "load" only when the plan has loads."""
        counts = {a.value: self.count(a) for a in Action}
        if not any(c.action is Action.LOAD for c in self.changes):
            del counts[Action.LOAD.value]
        return {**counts, "not_applicable": self.not_applicable}

    @property
    def empty(self) -> bool:
        """No change at all: the server matches the files."""
        return not self.changes

    @property
    def actionable(self) -> bool:
        """Some change will be sent."""
        return any(c.applicable for c in self.changes)


def normalise(name: str, value: Any) -> Any:
    """The form in which a value is compared (never the form that is sent)."""
    if isinstance(value, str):
        value = value.strip()
        if name in URL_FIELDS:
            value = value.rstrip("/")
    if value is None and name in NULLABLE_TEXT:
        return ""
    if name in UNORDERED:
        return sorted({str(item) for item in value or ()})
    return value


def same(name: str, a: Any, b: Any) -> bool:
    """True when the server would consider two values of field `name` equal."""
    return normalise(name, a) == normalise(name, b)


def diff_fields(desired: Record, observed: Record) -> tuple[FieldChange, ...]:
    changes = []
    for name, want in desired.fields.items():
        have = observed.fields.get(name)
        if want == have or same(name, want, have):  # equal values normalise alike: no-op fast
            continue
        detail = ""
        if isinstance(want, dict | list) and isinstance(have, dict | list):
            from deepdiff import DeepDiff  # only for nested values (metadata): 20 ms to import

            detail = DeepDiff(have, want, verbose_level=2).pretty()
        changes.append(FieldChange(name, have, want, detail))
    return tuple(changes)


def _values(record: Record) -> dict[str, Any]:
    """A record as a change shows it: its own key fields and its value fields."""
    return {**record.key.own(), **record.fields}


def _policies(desired: DesiredState) -> dict[tuple[str, ...], CatalogPolicy]:
    """Each declared catalog's policy, by the catalog's key parts (`key.parts[:3]`)."""
    return {key.parts: policy for key, policy in desired.policies.items()}


def make_plan(desired: DesiredState, observed: ObservedState) -> Plan:
    live = observed.records
    policies = _policies(desired)
    ups: list[Change] = []
    for key, want in desired.records.items():
        if policies[key.parts[:3]].absent:
            continue
        have = live.get(key)
        if have is None:
            parent_key = key.parent
            parent = live.get(parent_key) if parent_key is not None else None
            ups.append(
                Change(
                    Action.CREATE,
                    key,
                    after=_values(want),
                    parent_url=parent.url if parent else None,
                )
            )
            continue
        fields = diff_fields(want, have)
        if fields:
            ups.append(
                Change(
                    Action.UPDATE,
                    key,
                    before=_values(have),
                    after=_values(want),
                    fields=fields,
                    uuid=have.uuid,
                    url=have.url,
                )
            )
    gone, cascades = _deletes(desired, observed)
    notes: list[str] = []
    withheld = 0
    if gone and not observed.complete:
        withheld = len(gone)
        notes.append(
            f"{withheld} delete(s) withheld: the server could not be read completely "
            f"({observed.incomplete_reason})"
        )
        gone = []
    deletes = [
        Change(
            Action.DELETE,
            record.key,
            before=_values(record),
            uuid=record.uuid,
            url=record.url,
            cascade=cascades.get(record.key, 0),
        )
        for record in gone
    ]
    ups.sort(key=lambda c: (c.kind, c.key.parts))
    deletes.sort(key=lambda c: (-c.kind, c.key.parts))
    loads = plan_loads(desired, observed, notes)
    for key, sign in sorted(observed.loader_signs.items()):
        if policies[key.parts].loader is None:
            notes.append(loader_warning(key, sign))
    notes.extend(link_warnings(desired, observed.offering_names))
    if observed.duplicates:
        notes.append(
            "the server holds objects twice under one natural key (left alone): "
            + "; ".join(observed.duplicates[:5])
        )
    return Plan(
        changes=tuple(ups + loads + deletes),
        dialect=observed.dialect,
        dialect_reason=observed.dialect_reason,
        complete=observed.complete,
        withheld_deletes=withheld,
        notes=tuple(notes),
        read_path=observed.read_path,
        live_counts=live_counts(observed),
        offering_names=observed.offering_names,
        loaders={
            key: loaders.header(key, loader.loader, observed.loads.get(key))
            for key, loader in sorted(desired.loaders().items())
        },
        load_phases={
            key: state.phase.value if (state := observed.loads.get(key)) else "absent"
            for key in sorted(desired.loaders())
        },
        gaps={k: tuple(v) for k, v in loaders.expectation_gaps(desired, observed).items()},
    )


def plan_loads(desired: DesiredState, observed: ObservedState, notes: list[str]) -> list[Change]:
    """A load for each declared loader catalog that needs one (`loaders.load_reason`), and a
    note for each load that may delete (a sync of a catalog that holds packages)."""
    changes = []
    for key, loader in sorted(desired.loaders().items()):
        state = observed.loads.get(key)
        reason = loaders.load_reason(state, loader.refresh, observed.observed_at)
        if not reason:
            continue
        running = state is not None and state.phase is loaders.LoadPhase.LOADING
        changes.append(
            Change(
                Action.LOAD,
                key,
                before=state.row() if state else None,
                after={"loader": loader.loader, "version": key.parts[1]},
                uuid=state.uuid if state else None,
                url=state.url if state else None,
                reason=reason,
                running=running,
            )
        )
        if state is not None and state.packages and not running:
            notes.append(loaders.sync_note(key, state))
    return changes


def link_warnings(desired: DesiredState, names: Mapping[str, str]) -> list[str]:
    """A link that offers a family or microarchitecture none of the catalog's declared
    targets has promises users builds that do not exist (the server stores anything).
    Catalogs that declare no targets (filled by Waldur's loaders) are not judged."""
    links = [(k, r) for k, r in desired.records.items() if k.kind is Kind.OFFERING_LINK]
    if not links:
        return []
    families: dict[tuple[str, ...], set[str]] = {}
    micros: dict[tuple[str, ...], set[str]] = {}
    for key in desired.records:
        if key.kind is Kind.TARGET:
            families.setdefault(key.parts[:3], set()).add(key.parts[6])
            micros.setdefault(key.parts[:3], set()).add(key.parts[7])
    notes = []
    for key, record in links:
        catalog = key.parts[:3]
        if catalog not in families:
            continue
        missing = [
            f for f in record.fields.get("enabled_cpu_family", []) if f not in families[catalog]
        ]
        missing += [
            m
            for m in record.fields.get("enabled_cpu_microarchitectures", [])
            if m not in micros[catalog]
        ]
        if missing:
            offering = names.get(key.parts[3], key.parts[3])
            notes.append(
                f"warning: the link of {format_key(key.catalog)} to {offering} offers "
                f"{', '.join(missing)}, which none of the catalog's declared targets has "
                f"({record.source})"
            )
    return notes


def loader_warning(key: Key, sign: str) -> str:
    return (
        f"warning: catalog {key} shows the hand of a Waldur loader ({sign}). Waldur's EESSI "
        "and Spack loaders pick the catalog to fill by name and type, whatever "
        "auto_update_enabled says, and add or rewrite objects in it; the next plan may then "
        "delete what they added. Keep a catalog that a loader fills out of your files (or "
        "export it and stop the loader), or give yours a name or version no loader uses."
    )


_KIND = attrgetter("kind")


def _deletes(desired: DesiredState, observed: ObservedState) -> tuple[list[Record], dict[Key, int]]:
    """The topmost live objects that must go, and how many descendants go with each."""
    wanted = desired.records
    policies = _policies(desired)
    top_of: dict[tuple[str, ...], Key] = {}  # a deleted object's parts → the delete removing it
    cascades: dict[Key, int] = {}
    gone: list[Record] = []
    for key in sorted(observed.records, key=_KIND):
        if not top_of and key in wanted and key.kind is not Kind.CATALOG:
            continue  # declared, and under no delete: a no-op's every object
        record = observed.records[key]
        policy = policies.get(key.parts[:3])
        if policy is None:
            continue  # a catalog the files do not declare: never touched, whatever it holds
        if key.kind is Kind.CATALOG:
            if policy.absent:
                gone.append(record)
                cascades[key] = observed.catalog_sizes.get(key, 0)
            continue
        top = top_of.get(key.parts[: _PARENT_LENGTH[key.kind]])
        if top is not None:
            top_of[key.parts] = top
            cascades[top] = cascades.get(top, 0) + 1
            continue
        if key in wanted or not policy.prune or policy.absent:
            continue
        top_of[key.parts] = key
        gone.append(record)
    return gone, cascades


def live_counts(observed: ObservedState) -> dict[Key, int]:
    """Objects held below each live declared catalog, for the mass-deletion guard."""
    counts: dict[Key, int] = dict(observed.catalog_sizes)
    seen = Counter(key.parts[:3] for key in observed.records if key.kind is not Kind.CATALOG)
    counts.update({Key(Kind.CATALOG, parts): n for parts, n in seen.items()})
    return counts
