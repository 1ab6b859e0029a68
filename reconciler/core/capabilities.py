"""What the server says it accepts, and which planned changes it will therefore not take.

Django REST Framework answers ``OPTIONS`` on a list endpoint with the serializer's fields
under ``actions.POST`` (staff only): per field ``read_only``, ``required``, ``max_length`` and
``choices``. `KindRules.parse` reads one such answer; `Capabilities` holds the four kinds'.

- `mark` splits a plan: a create or update that would write a field the server declares
  read-only (or does not list at all, e.g. the parent link of a version on current upstream
  Waldur) is **not applicable**: it is kept in the plan, marked with the reason, and never
  sent. A create that is not applicable makes its children's creates not applicable too.
  Deletes are never affected (DELETE works on every server seen).
- `field_problems` finds values that break the server's own limits (``max_length``,
  ``choices``, ``required``) in the changes that will be sent, so that a run is refused
  before its first write rather than half-applied.

Without capabilities (no token, a non-staff token, a proxy that blocks OPTIONS, an older
server) nothing is marked and the plan says the capabilities were not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.model import PARENT_FIELD, DesiredState, Key, Kind
from reconciler.core.plan import Action, Change, Plan

LOADERS_NOTE = "Waldur fills them with its own loaders"


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One field of a serializer, as OPTIONS describes it."""

    name: str
    read_only: bool
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class KindRules:
    """The writable fields of one kind and their limits."""

    fields: Mapping[str, FieldRule]

    @classmethod
    def parse(cls, answer: Any) -> KindRules | None:
        """`answer`'s ``actions.POST``, or None when the answer has none (non-staff)."""
        if not isinstance(answer, dict):
            return None
        post = (answer.get("actions") or {}).get("POST")
        if not isinstance(post, dict):
            return None
        rules = {}
        for name, spec in post.items():
            if not isinstance(spec, dict):
                continue
            choices = spec.get("choices")
            length = spec.get("max_length")
            rules[name] = FieldRule(
                name=name,
                read_only=bool(spec.get("read_only")),
                required=bool(spec.get("required")),
                max_length=length if isinstance(length, int) else None,
                choices=tuple(str(c.get("value")) for c in choices if isinstance(c, dict))
                if isinstance(choices, list)
                else None,
            )
        return cls(rules)

    def writable(self, name: str) -> bool:
        rule = self.fields.get(name)
        return rule is not None and not rule.read_only

    @property
    def read_only(self) -> bool:
        """Nothing of this kind can be written (current upstream: versions and targets)."""
        return not any(not rule.read_only for rule in self.fields.values())


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The server's write rules by kind (read from OPTIONS), or why they are unknown."""

    kinds: Mapping[Kind, KindRules] = field(default_factory=dict)
    unchecked: str = ""  # why the capabilities could not be read ("" when they were)
    server_version: str = ""

    @property
    def checked(self) -> bool:
        return not self.unchecked


def wire_fields(change: Change, dialect: str) -> dict[str, Any]:
    """The fields a change writes, in the server's names (a create's whole body, with the
    parent link; an update's changed fields)."""
    if change.action is Action.CREATE:
        values = dict(change.after or {})
    else:
        values = {f.name: f.new for f in change.fields}
    if change.kind is Kind.TARGET:
        values = dialects.target_to_wire(values, dialect)
    if change.action is Action.CREATE and change.kind in PARENT_FIELD:
        values[PARENT_FIELD[change.kind]] = change.parent_url or ""
    return values


def refusal(change: Change, rules: KindRules, dialect: str) -> str:
    """Why the server will not take `change` ("" when it will)."""
    if change.action is Action.DELETE:
        return ""
    if rules.read_only:
        return (
            f"{change.kind.label}s are read-only through this server's API "
            f"(OPTIONS: every field read_only); {LOADERS_NOTE}"
        )
    values = wire_fields(change, dialect)
    blocked = sorted(
        name
        for name in values
        # read-only, or (for the parent link) not a field at all; other unknown fields are
        # ignored by DRF, as the other dialect's target fields are
        if (name in rules.fields and rules.fields[name].read_only)
        or (name == PARENT_FIELD.get(change.kind) and name not in rules.fields)
    )
    if not blocked:
        return ""
    return f"this server does not accept {', '.join(blocked)} of {change.kind.label}s (read-only)"


def mark(plan: Plan, capabilities: Capabilities) -> Plan:
    """`plan` with each change the server will not take marked not applicable."""
    if not capabilities.checked:
        return plan
    blocked: dict[Key, str] = {}  # creates that cannot happen → the kind label
    changes = []
    for change in plan.changes:
        if change.action is Action.LOAD:  # the loader actions: `mark_loads`
            changes.append(change)
            continue
        reason = ""
        parent = change.key.parent
        if change.action is Action.CREATE and parent is not None and parent in blocked:
            reason = f"its {parent.kind.label} cannot be created on this server"
        rules = capabilities.kinds.get(change.kind)
        if not reason and rules is not None:
            reason = refusal(change, rules, plan.dialect)
        if reason:
            if change.action is Action.CREATE:
                blocked[change.key] = reason
            change = replace(change, applicable=False, reason=reason)
        changes.append(change)
    return replace(plan, changes=tuple(changes), capabilities="checked")


def mark_loads(plan: Plan, reason: str) -> Plan:
    """`plan` with its loads not applicable for `reason` (the server has no loader actions);
    a loader catalog that does not exist yet is then not created either (nor linked): an
    empty row nothing can fill would only be a doomed write."""
    loads = {c.key for c in plan.changes if c.action is Action.LOAD and not c.running}
    fresh = {c.key for c in plan.changes if c.action is Action.CREATE and c.key in loads}
    changes = []
    for change in plan.changes:
        if change.action is Action.LOAD and change.key in loads:
            why = f"{reason} (it would load: {change.reason})"
            change = replace(change, applicable=False, reason=why)
        elif change.action is Action.CREATE and change.key.catalog in fresh:
            why = f"its catalog is created only to be loaded by Waldur, and {reason}"
            change = replace(change, applicable=False, reason=why)
        changes.append(change)
    return replace(plan, changes=tuple(changes))


def field_problems(plan: Plan, desired: DesiredState, capabilities: Capabilities) -> list[str]:
    """``FILE:LINE: kind KEY: field: …`` for each value the server's stated limits refuse,
    in the changes that will be sent."""
    problems = []
    for change in plan.changes:
        rules = capabilities.kinds.get(change.kind)
        if rules is None or not change.applicable or change.action in (Action.DELETE, Action.LOAD):
            continue
        record = desired.records.get(change.key)
        where = f"{record.source}: " if record is not None and record.source else ""
        values = wire_fields(change, plan.dialect)
        for problem in _value_problems(values, rules, change.action is Action.CREATE):
            problems.append(f"{where}{change.kind.label} {change.key}: {problem}")
    return problems


def _value_problems(values: Mapping[str, Any], rules: KindRules, create: bool) -> Iterable[str]:
    for name, value in values.items():
        rule = rules.fields.get(name)
        if rule is None or rule.read_only:
            continue
        if rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length:
            yield (
                f"{name}: is {len(value)} characters long; this server allows at most "
                f"{rule.max_length}"
            )
        if rule.choices is not None and value not in rule.choices and value is not None:
            allowed = ", ".join(rule.choices)
            yield f"{name}: {value!r} is not one of this server's choices: {allowed}"
    if create:
        for rule in rules.fields.values():
            if rule.required and not rule.read_only and rule.name not in values:
                yield f"{rule.name}: this server requires it and the file does not give it"
