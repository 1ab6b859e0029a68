"""Render a plan (and its apply results) as Markdown for a merge-request comment.

Summary first (one heading line, the apply result, notes, a table per catalog), then the
changes grouped catalog → package in collapsible ``<details>`` sections, each package's
changes in a ``diff`` block (GitHub and GitLab colour ``+`` and ``-`` lines), versions and
targets indented as in the text output.

A plan of more than `LARGE` changes (a new EESSI release is thousands) would make an
unreadable comment, and forges cut comments at 64 KiB: it is summarised instead, per catalog,
in a table per package and a table per architecture (target changes), plus the catalog's own
change and, after an apply, every change that was not done, with its reason.

Names are shown, never obeyed (`reconciler.output.escape`): text in table cells, lists and
quotes is escaped for Markdown and HTML on one line, ``<summary>`` text with character
references, and code blocks are fenced with more backticks than any line inside holds, so a
package whose name holds backticks, a newline, ``</details>`` and a ``## heading`` renders as
that text: one line in its diff block, no heading, no fence opened or closed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from reconciler.core.model import Key, Kind, format_key, version_label
from reconciler.core.plan import Action, Change, Plan
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output.escape import fence, html_inline, md, terminal
from reconciler.output.render import (
    SYMBOL,
    Paint,
    capabilities_line,
    change_lines,
    gap_lines,
    not_applicable_lines,
    plan_summary,
    result_summary,
)

LARGE = 200
MAX_ROWS = 300
MAX_NOT_DONE = 50
_PLAIN = Paint(False)
_DEPTH = {Kind.CATALOG: 1, Kind.PACKAGE: 1, Kind.VERSION: 3, Kind.TARGET: 5, Kind.OFFERING_LINK: 1}
#: The kinds shown in a catalog's own block (not under a package).
_OWN = (Kind.CATALOG, Kind.OFFERING_LINK)


def _counts(changes: Iterable[Change]) -> str:
    found = Counter(c.action for c in changes)
    shown = [a for a in Action if a is not Action.LOAD or found[a]]
    return " ".join(f"{SYMBOL[a]}{found[a]}" for a in shown)


def _diff_lines(
    change: Change, status: ChangeResult | None, names: Mapping[str, str] | None = None
) -> list[str]:
    """The change as text lines, with its symbol at column 0 (for diff colouring)."""
    depth = _DEPTH[change.kind]
    head, *fields = change_lines(change, status, _PLAIN, names)
    pad = " " * depth
    return [head[0] + pad + head[1:]] + [" " + pad + line for line in fields]


def _diff_block(
    changes: list[Change],
    statuses: dict[int, ChangeResult],
    names: Mapping[str, str] | None = None,
) -> list[str]:
    lines: list[str] = []
    version: tuple[str, ...] | None = None
    for change in changes:
        p = change.key.parts
        if change.kind is Kind.TARGET and p[:6] != version:
            label = terminal(version_label(change.key))
            lines.append(f"   version {label}")
        version = p[:6] if change.kind >= Kind.VERSION else None
        lines += _diff_lines(change, statuses.get(id(change)), names)
    return _fenced(lines, "diff")


def _fenced(lines: list[str], info: str = "") -> list[str]:
    """A code block no line can close (one line per change: names never hold a newline)."""
    opening, closing = fence(lines, info)
    return [opening, *lines, closing, ""]


def _details(summary: str, body: list[str]) -> list[str]:
    """A collapsible section; `summary` is HTML (its names escaped with `html_inline`)."""
    return [f"<details><summary>{summary}</summary>", "", *body, "</details>", ""]


def _order(change: Change) -> tuple[tuple[str, ...], ...]:
    p = change.key.parts
    return p[:3], p[3:4], p[4:6], p[6:]


def _by_catalog(plan: Plan) -> dict[Key, list[Change]]:
    groups: dict[Key, list[Change]] = defaultdict(list)
    for change in sorted((c for c in plan.changes if c.applicable), key=_order):
        groups[change.key.catalog].append(change)
    return groups


def _summary_table(groups: dict[Key, list[Change]]) -> list[str]:
    loads = any(c.action is Action.LOAD for changes in groups.values() for c in changes)
    rows = [
        "| catalog | create | update | delete | deleted with them |" + (" load |" if loads else ""),
        "|---|---:|---:|---:|---:|" + ("---:|" if loads else ""),
    ]
    for cat, changes in groups.items():
        found = Counter(c.action for c in changes)
        cascade = sum(c.cascade for c in changes)
        rows.append(
            f"| {md(format_key(cat))} | {found[Action.CREATE]} | {found[Action.UPDATE]} | "
            f"{found[Action.DELETE]} | {cascade} |" + (f" {found[Action.LOAD]} |" if loads else "")
        )
    return [*rows, ""]


def _detailed(
    cat: Key,
    changes: list[Change],
    statuses: dict[int, ChangeResult],
    names: Mapping[str, str] | None = None,
) -> list[str]:
    body: list[str] = []
    own = [c for c in changes if c.kind in _OWN]
    if own:
        body += _diff_block(own, statuses, names)
    packages: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.kind not in _OWN:
            packages[change.key.parts[3]].append(change)
    for name, items in packages.items():
        body += _details(f"{html_inline(name)}: {_counts(items)}", _diff_block(items, statuses))
    return _details(f"<b>{html_inline(format_key(cat))}</b>: {_counts(changes)}", body)


def _table(title: str, head: str, rows: dict[str, Counter[str]], columns: list[str]) -> list[str]:
    out = [
        f"**{title}**",
        "",
        f"| {head} | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name in sorted(rows)[:MAX_ROWS]:
        out.append(f"| {md(name)} | " + " | ".join(str(rows[name][c]) for c in columns) + " |")
    if len(rows) > MAX_ROWS:
        out.append(f"| … and {len(rows) - MAX_ROWS} more |" + " |" * len(columns))
    return [*out, ""]


def _summarised(
    cat: Key,
    changes: list[Change],
    statuses: dict[int, ChangeResult],
    names: Mapping[str, str] | None = None,
) -> list[str]:
    shown = [a for a in Action if a is not Action.LOAD]
    columns = [a.value for a in shown] + (["not done"] if statuses else [])
    packages: dict[str, Counter[str]] = defaultdict(Counter)
    architectures: dict[str, Counter[str]] = defaultdict(Counter)
    for change in changes:
        status = statuses.get(id(change))
        bump = [change.action.value] + (
            ["not done"] if status and status.status is not Status.DONE else []
        )
        if change.kind not in _OWN:
            packages[change.key.parts[3]].update(bump)
        if change.kind is Kind.TARGET:
            architectures["/".join(change.key.parts[6:])].update(bump)
    body: list[str] = []
    own = [c for c in changes if c.kind in _OWN]
    if own:
        body += _diff_block(own, statuses, names)
    body += _table(f"Per package ({len(packages)})", "package", packages, columns)
    if architectures:
        body += _table("Targets per architecture", "architecture", architectures, columns)
    return _details(f"<b>{html_inline(format_key(cat))}</b>: {_counts(changes)}", body)


def _not_done(result: ApplyResult) -> list[str]:
    missed = [r for r in result.results if r.status not in (Status.DONE, Status.NOT_APPLICABLE)]
    if not missed:
        return []
    out = [f"**Not done ({len(missed)})**", ""]
    for r in missed[:MAX_NOT_DONE]:
        why = f": {md(r.message)}" if r.message else ""
        out.append(
            f"- `{r.change.action.value} {r.change.kind.label}` "
            f"{md(format_key(r.change.key))} — {r.status.value}{why}"
        )
    if len(missed) > MAX_NOT_DONE:
        out.append(f"- … and {len(missed) - MAX_NOT_DONE} more")
    return [*out, ""]


def _gaps(plan: Plan, result: ApplyResult | None) -> list[str]:
    """The unmet expectations: those of the plan's loaded catalogs and of this apply's loads."""
    found = [f"- {md(line.removeprefix('Expectation unmet: '))}" for line in gap_lines(plan)]
    for r in result.results if result is not None else ():
        found += [f"- {md(format_key(r.change.key))}: {md(gap)}" for gap in r.gaps]
    return ["**Expectations unmet**", "", *found, ""] if found else []


def render_markdown(plan: Plan, result: ApplyResult | None = None) -> str:
    statuses = {id(r.change): r for r in result.results} if result else {}
    out = [f"### {plan_summary(plan)}", ""]
    if result is not None:
        out += [f"**{result_summary(result)}**", ""]
        out += [
            f"> Refused by the server ({md(k)}): {md(v)}" for k, v in sorted(result.refused.items())
        ]
    if plan.capabilities:
        out += [f"> {md(capabilities_line(plan))}"]
    out += [f"> Loader: {md(line)}" for line in plan.loaders.values()]
    out += [f"> Note: {md(note)}" for note in plan.notes]
    if out[-1] != "":
        out.append("")
    out += _gaps(plan, result)
    groups = _by_catalog(plan)
    if groups:
        out += _summary_table(groups)
    large = len(plan.changes) > LARGE
    if large:
        out += [
            f"More than {LARGE} changes: summarised per package and per architecture "
            "(the full list: `reconcile plan -o text` or `-o json`).",
            "",
        ]
    for cat, changes in groups.items():
        out += (_summarised if large else _detailed)(cat, changes, statuses, plan.offering_names)
    apart = not_applicable_lines(plan, _PLAIN)
    if apart:
        title, *rest = apart[1:]
        out += _details(f"<b>{html_inline(title.rstrip(':'))}</b>", _fenced(rest))
    if result is not None and large:
        out += _not_done(result)
    reason = f" ({html_inline(plan.dialect_reason)})" if plan.dialect_reason else ""
    dialect, read_path = html_inline(plan.dialect), html_inline(plan.read_path)
    out.append(f"<sub>API dialect {dialect}{reason}; read via {read_path}.</sub>")
    return terminal("\n".join(out) + "\n", newlines=True)  # anything missed: still inert
