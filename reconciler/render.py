"""Render plans and apply results for people (text) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .apply import ApplyResult, ChangeResult
from .model import KEY_LENGTH, Key, Kind, format_key
from .plan import Action, Change, Plan

FORMAT_VERSION = "1"
SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
KEY_NAMES = (
    "catalog",
    "catalog_version",
    "catalog_type",
    "package",
    "version",
    "module_version",
    "cpu_family",
    "cpu_microarchitecture",
)


def key_json(key: Key) -> dict[str, str]:
    return dict(zip(KEY_NAMES[: KEY_LENGTH[key.kind]], key.parts, strict=True))


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _own_label(key: Key) -> str:
    p = key.parts
    if key.kind is Kind.CATALOG:
        return format_key(key)
    if key.kind is Kind.PACKAGE:
        return p[3]
    if key.kind is Kind.VERSION:
        return p[4] + (f" ({p[5]})" if p[5] else "")
    return f"{p[6]}/{p[7]}"


def _change_lines(change: Change, status: ChangeResult | None) -> list[str]:
    head = f"{SYMBOL[change.action]} {change.kind.label} {_own_label(change.key)}"
    if change.action is Action.CREATE and change.kind is Kind.TARGET and change.after:
        path = change.after.get("path")
        if path:
            head += f"  path={path}"
    if change.cascade:
        head += f"  (and {change.cascade} object{'s' if change.cascade != 1 else ''} below it)"
    if status is not None:
        head += f"  [{status.status.value}{': ' + status.message if status.message else ''}]"
    lines = [head]
    for f in change.fields:
        lines.append(f"    {f.name}: {_short(f.old)} → {_short(f.new)}")
    return lines


def _render_order(change: Change) -> tuple[tuple[str, ...], ...]:
    """Catalog, then package, then version with its targets right under it."""
    p = change.key.parts
    return p[:3], p[3:4], p[4:6], p[6:]


def render_text(plan: Plan, result: ApplyResult | None = None) -> str:
    statuses = {id(r.change): r for r in result.results} if result else {}
    out = [f"API dialect: {plan.dialect} ({plan.dialect_reason}); read via {plan.read_path}."]
    out += [f"Note: {note}" for note in plan.notes]
    catalog: tuple[str, ...] | None = None
    package: tuple[str, ...] | None = None
    version: tuple[str, ...] | None = None
    for change in sorted(plan.changes, key=_render_order):
        p = change.key.parts
        if p[:3] != catalog:
            catalog, package, version = p[:3], None, None
            out += ["", format_key(change.key.catalog)]
        if change.kind >= Kind.PACKAGE and p[:4] != package:
            package, version = p[:4], None
            out.append(f"  {p[3]}")
        if change.kind is Kind.TARGET and p[:6] != version:
            version = p[:6]
            out.append(f"      {_own_label(Key(Kind.VERSION, p[:6]))}")
        if change.kind is Kind.VERSION:
            version = p[:6]
        indent = "  " * (int(change.kind) + 1)
        out += [indent + line for line in _change_lines(change, statuses.get(id(change)))]
    out.append("")
    out.append(plan_summary(plan))
    if result is not None:
        out.append(result_summary(result))
        out += [
            f"Refused by the server ({label}): {why}"
            for label, why in sorted(result.refused.items())
        ]
    return "\n".join(out) + "\n"


def plan_summary(plan: Plan) -> str:
    if plan.empty:
        return "No changes."
    s = plan.summary()
    return f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete."


def result_summary(result: ApplyResult) -> str:
    s = result.summary()
    text = (
        f"Apply: {s['done']} done, {s['failed']} failed, {s['skipped']} skipped, "
        f"{s['not_attempted']} not attempted."
    )
    return text + (" Interrupted." if result.interrupted else "")


def change_json(change: Change, result: ChangeResult | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": change.action.value,
        "kind": change.kind.label,
        "key": key_json(change.key),
        "before": dict(change.before) if change.before is not None else None,
        "after": dict(change.after) if change.after is not None else None,
        "fields": {f.name: {"old": f.old, "new": f.new} for f in change.fields},
    }
    if change.cascade:
        data["cascade"] = change.cascade
    if result is not None:
        data["status"] = result.status.value
        if result.message:
            data["message"] = result.message
    return data


def render_json(
    plan: Plan, result: ApplyResult | None = None, http: Mapping[str, Any] | None = None
) -> str:
    results: Iterable[ChangeResult | None] = (
        result.results if result is not None else [None] * len(plan.changes)
    )
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "api_dialect": plan.dialect,
        "summary": plan.summary(),
        "complete": plan.complete,
        "notes": list(plan.notes),
        "changes": [change_json(c, r) for c, r in zip(plan.changes, results, strict=True)],
    }
    if result is not None:
        doc["result"] = {
            "summary": result.summary(),
            "interrupted": result.interrupted,
            "refused": dict(sorted(result.refused.items())),
        }
    if http is not None:
        doc["http"] = dict(http)
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
