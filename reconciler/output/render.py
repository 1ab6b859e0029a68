"""Render plans and apply results for people (text) and for machines (JSON).

Text is coloured only when asked (`use_colour`: a terminal, and no ``NO_COLOR``): ``+``
green, ``~`` yellow, ``-`` red, failures red, catalogs and the summary bold. Without colour
the text is byte-for-byte the same minus the escape codes (the golden files check it).
Markdown, for merge-request comments, is in `render_markdown`.

Every text that comes from the server or the files (names, paths, values, messages, notes) is
shown with its control characters escaped (`escape.terminal`): a name holding ``ESC[2K`` and a
carriage return shows as ``\x1b[2K\r``, and cannot erase its own line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from reconciler.core.model import LOADERS, Key, Kind, format_key, key_json, version_label
from reconciler.core.plan import Action, Change, Plan
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output.escape import terminal

FORMAT_VERSION = "1"
SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.LOAD: "↻"}


_ANSI = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "dim": "2"}
ACTION_COLOUR = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.LOAD: "green",
}


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for a terminal only, unless NO_COLOR is set (https://no-color.org) or the
    terminal is dumb."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def _short(value: Any, limit: int = 80) -> str:
    text = terminal(json.dumps(value, ensure_ascii=False, default=str))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _own_label(key: Key, names: Mapping[str, str] | None = None) -> str:
    return terminal(_label(key, names))


def _label(key: Key, names: Mapping[str, str] | None = None) -> str:
    p = key.parts
    if key.kind is Kind.OFFERING_LINK:
        return f"{format_key(key.catalog)} → {(names or {}).get(p[3], p[3])}"
    if key.kind is Kind.CATALOG:
        return format_key(key)
    if key.kind is Kind.PACKAGE:
        return p[3]
    if key.kind is Kind.VERSION:
        return version_label(key)
    return f"{p[6]}/{p[7]}"


def kind_label(kind: Kind) -> str:
    """How text and Markdown name a kind ("link" for an offering link)."""
    return "link" if kind is Kind.OFFERING_LINK else kind.label


def change_lines(
    change: Change,
    status: ChangeResult | None,
    paint: Paint,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    colour = ACTION_COLOUR[change.action]
    label = _own_label(change.key, names)
    what = "load" if change.action is Action.LOAD else kind_label(change.kind)
    head = paint(f"{SYMBOL[change.action]} {what} {label}", colour)
    if change.action is Action.CREATE and change.kind is Kind.TARGET and change.after:
        path = change.after.get("path")
        if path:
            head += f"  path={terminal(str(path))}"
    if change.action is Action.CREATE and change.kind is Kind.OFFERING_LINK and change.after:
        families = terminal(", ".join(change.after.get("enabled_cpu_family") or []))
        micros = terminal(", ".join(change.after.get("enabled_cpu_microarchitectures") or []))
        head += f"  families=[{families}] microarchitectures=[{micros}]"
    if change.cascade:
        head += f"  (and {change.cascade} object{'s' if change.cascade != 1 else ''} below it)"
    if change.action is Action.LOAD:
        loader = str((change.after or {}).get("loader", ""))
        head += f"  (Waldur's {LOADERS.get(loader, (loader,))[0]} loader; {change.reason})"
    if status is not None:
        why = f": {terminal(status.message)}" if status.message else ""
        text = f"[{status.status.value}{why}]"
        head += "  " + paint(text, "green" if status.status is Status.DONE else "red")
    lines = [head]
    if status is not None:
        lines += [paint(f"    expectation unmet: {gap}", "red") for gap in status.gaps]
    for f in change.fields:
        old, new = paint(_short(f.old), "red"), paint(_short(f.new), "green")
        lines.append(f"    {terminal(f.name)}: {old} → {new}")
    return lines


_AFTER_THE_TREE = ("\U0010ffff",)


def _render_order(change: Change) -> tuple[tuple[str, ...], ...]:
    """Catalog, then package, then version with its targets right under it; the catalog's
    offering links after its tree."""
    p = change.key.parts
    if change.kind is Kind.OFFERING_LINK:
        return p[:3], _AFTER_THE_TREE, (), p[3:]
    return p[:3], p[3:4], p[4:6], p[6:]


def render_text(plan: Plan, result: ApplyResult | None = None, *, colour: bool = False) -> str:
    paint = Paint(colour)
    statuses = {id(r.change): r for r in result.results} if result else {}
    out = [
        paint(
            terminal(
                f"API dialect: {plan.dialect} ({plan.dialect_reason}); read via {plan.read_path}."
            ),
            "dim",
        )
    ]
    if plan.capabilities:
        out.append(paint(capabilities_line(plan), "dim"))
    out += [paint(f"Loader: {terminal(line)}", "dim") for line in plan.loaders.values()]
    out += [paint(f"Note: {terminal(note)}", "yellow") for note in plan.notes]
    out += [paint(terminal(line), "red") for line in gap_lines(plan)]
    catalog: tuple[str, ...] | None = None
    package: tuple[str, ...] | None = None
    version: tuple[str, ...] | None = None
    for change in sorted((c for c in plan.changes if c.applicable), key=_render_order):
        p = change.key.parts
        if p[:3] != catalog:
            catalog, package, version = p[:3], None, None
            out += ["", paint(terminal(format_key(change.key.catalog)), "bold")]
        if change.kind is Kind.OFFERING_LINK:
            lines = change_lines(change, statuses.get(id(change)), paint, plan.offering_names)
            out += ["  " + line for line in lines]
            continue
        if change.kind >= Kind.PACKAGE and p[:4] != package:
            package, version = p[:4], None
            out.append(f"  {terminal(p[3])}")
        if change.kind is Kind.TARGET and p[:6] != version:
            version = p[:6]
            out.append(f"      {_own_label(Key(Kind.VERSION, p[:6]))}")
        if change.kind is Kind.VERSION:
            version = p[:6]
        indent = "  " * (int(change.kind) + 1)
        lines = change_lines(change, statuses.get(id(change)), paint)
        out += [indent + line for line in lines]
    out += not_applicable_lines(plan, paint)
    out.append("")
    out.append(paint(plan_summary(plan), "bold"))
    if result is not None:
        ok = result.exit_code == 0
        out.append(paint(result_summary(result), "green" if ok else "red"))
        out += [
            paint(terminal(f"Refused by the server ({label}): {why}"), "red")
            for label, why in sorted(result.refused.items())
        ]
    text = "\n".join(out) + "\n"
    return text if colour else terminal(text, newlines=True)  # anything missed: still inert


NOT_APPLICABLE_EXAMPLES = 5


def gap_lines(plan: Plan) -> list[str]:
    """The loaded catalogs' unmet expectations (exit 3), one line per gap."""
    return [
        f"Expectation unmet: {format_key(key)}: {gap}"
        for key, found in sorted(plan.gaps.items())
        for gap in found
    ]


def capabilities_line(plan: Plan) -> str:
    if plan.capabilities == "checked":
        return "Server capabilities: read from OPTIONS; changes it will not take are set apart."
    return (
        f"Server capabilities: {plan.capabilities}; a write the server refuses is found by "
        "sending it (at most one per kind)."
    )


def not_applicable_lines(plan: Plan, paint: Paint) -> list[str]:
    """The changes the server will not take, apart: counts by kind, their reasons, and a few
    examples (`-o json` lists every one)."""
    apart = [c for c in plan.changes if not c.applicable]
    if not apart:
        return []
    out = ["", paint(f"Not applicable on this server ({len(apart)}, never sent):", "bold")]
    reasons: dict[str, list[Change]] = {}
    for change in apart:
        reasons.setdefault(change.reason, []).append(change)
    for reason, changes in reasons.items():
        counts: dict[tuple[Action, Kind], int] = {}
        for change in changes:
            counts[(change.action, change.kind)] = counts.get((change.action, change.kind), 0) + 1
        what = ", ".join(
            f"{SYMBOL[a]} {n} {k.label}{'s' if n != 1 else ''}" for (a, k), n in counts.items()
        )
        out.append(f"  {what}: {terminal(reason)}")
        for change in changes[:NOT_APPLICABLE_EXAMPLES]:
            example = (
                f"    {SYMBOL[change.action]} {kind_label(change.kind)} {terminal(str(change.key))}"
            )
            out.append(paint(example, "dim"))
        if len(changes) > NOT_APPLICABLE_EXAMPLES:
            more = len(changes) - NOT_APPLICABLE_EXAMPLES
            out.append(paint(f"    … and {more} more (-o json lists every one)", "dim"))
    return out


def plan_summary(plan: Plan) -> str:
    if plan.empty:
        return "No changes."
    s = plan.summary()
    text = f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete"
    if s.get("load"):
        text += f", {s['load']} to load"
    if s["not_applicable"]:
        return text + f"; {s['not_applicable']} not applicable on this server."
    return text + "."


def result_summary(result: ApplyResult) -> str:
    s = result.summary()
    text = (
        f"Apply: {s['done']} done, {s['failed']} failed, {s['skipped']} skipped, "
        f"{s['not_attempted']} not attempted"
    )
    if s["not_applicable"]:
        text += f", {s['not_applicable']} not applicable"
    if s.get("loading"):
        text += f", {s['loading']} still loading"
    if s.get("unmet"):
        text += f", {s['unmet']} loaded with expectations unmet"
    return text + "." + (" Interrupted." if result.interrupted else "")


def change_json(
    change: Change, result: ChangeResult | None = None, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
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
    if change.kind is Kind.OFFERING_LINK and names is not None:
        data["offering_name"] = names.get(change.key.parts[3], "")
    data["applicable"] = change.applicable
    if not change.applicable or change.action is Action.LOAD:
        data["reason"] = change.reason
    if change.action is Action.LOAD:
        data["running"] = change.running
    if result is not None:
        data["status"] = result.status.value
        if result.message:
            data["message"] = result.message
        if result.gaps:
            data["gaps"] = list(result.gaps)
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
        "capabilities": plan.capabilities or "not needed",
        "notes": list(plan.notes),
        "loaders": list(plan.loaders.values()),
        "expectations_unmet": {
            format_key(key): list(found) for key, found in sorted(plan.gaps.items())
        },
        "changes": [
            change_json(c, r, plan.offering_names)
            for c, r in zip(plan.changes, results, strict=True)
        ],
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
