"""The coverage report as Markdown (`reconcile report --format markdown`), for a forge.

Per catalog: the counts, a table per architecture, then the matrix. A small catalog (at most
`LARGE` packages) gets the whole matrix, a row per package and a column per architecture, each
cell listing the versions there. A larger one would make a table nobody can read on a forge
(the full EESSI catalog: 654 rows of 14 columns), so it is summarised per package instead:
the packages that are not on every architecture with every version, or that differ from the
files, one row each with where they fall short (at most `MAX_ROWS`), and a count of the rest.
Every text is escaped for Markdown and HTML.
"""

from __future__ import annotations

from reconciler.output import escape
from reconciler.output.page import DASH
from reconciler.output.report import (
    MEANING,
    SYMBOL,
    CatalogCoverage,
    Cell,
    Mark,
    PackageRow,
    Report,
    count,
    differences,
    percent,
    plural,
)

LARGE = 40
MAX_ROWS = 300


def md(text: str) -> str:
    """Text safe in a Markdown table cell: one line, HTML and Markdown syntax escaped."""
    return escape.md(" ".join(str(text).split()))


def code(text: str) -> str:
    """Text as a code span in a table cell: shown literally, whatever backticks it holds."""
    return escape.code(" ".join(str(text).split()), table=True)


def render_markdown(report: Report) -> str:
    out = ["# Software catalog coverage", ""]
    where = f"Read from {code(report.source)}" if report.source else "Read from the server"
    when = f" at {md(report.generated)}" if report.generated else ""
    if report.compared:
        files = ", ".join(code(f) for f in report.files) or "the files"
        out.append(f"{where}{when}; compared with {files}.")
    else:
        out.append(f"{where}{when}; every catalog on the server.")
    out.append("")
    out += [f"> **Warning:** {md(note)}" for note in report.notes]
    if report.notes:
        out.append("")
    legend = [
        f"{SYMBOL[Mark.PRESENT]} on the server",
        "n/N: n of the package's N versions",
    ]
    if report.compared:
        legend += [f"{SYMBOL[m]} {MEANING[m]}" for m in (Mark.MISSING, Mark.EXTRA)]
    legend.append("· none")
    out += ["Legend: " + "; ".join(legend) + ".", ""]
    if not report.catalogs:
        out += ["No catalog to report.", ""]
    for catalog in report.catalogs:
        out += _catalog(catalog, report.compared)
    return "\n".join(out).rstrip("\n") + "\n"


def _catalog(catalog: CatalogCoverage, compared: bool) -> list[str]:
    out = [f"## {md(catalog.title)}", ""]
    if catalog.absent:
        what = (
            f"the next apply deletes it and the {plural(catalog.size_on_server, 'object')} below it"
            if catalog.on_server
            else "it is not on the server"
        )
        return [*out, f"The files declare `state: absent`: {what}.", ""]
    if compared and not catalog.on_server:
        out += ["**Not on the server**: the files declare it, so everything in it is missing.", ""]
    where = " on the server" if compared else ""
    counts = ", ".join(
        plural(catalog.on_server_count(kind), kind) for kind in ("package", "version", "target")
    )
    out += [f"{counts}{where}; {plural(len(catalog.architectures), 'architecture')}.", ""]
    if compared:
        out += [_differences(catalog), ""]
    if not catalog.packages:
        return [*out, "No packages.", ""]
    out += _summary_table(catalog, compared)
    if len(catalog.packages) <= LARGE:
        out += _matrix(catalog)
    else:
        out += _summarised(catalog)
    return out


def _differences(catalog: CatalogCoverage) -> str:
    parts = [
        f"{SYMBOL[mark]} {', '.join(found)}: {MEANING[mark]}"
        for mark, found in differences(catalog)
    ]
    if not parts:
        return "No differences: the server holds what the files declare."
    return "**Differences**: " + "; ".join(parts) + "."


def _summary_table(catalog: CatalogCoverage, compared: bool) -> list[str]:
    versions = catalog.total("version")
    packages = catalog.total("package")
    head = "| architecture | packages | % of packages | versions | % of versions |"
    rule = "|---|---:|---:|---:|---:|"
    if compared:
        head += f" {SYMBOL[Mark.MISSING]} missing targets | {SYMBOL[Mark.EXTRA]} not declared |"
        rule += "---:|---:|"
    out = [f"**Per architecture** ({plural(versions, 'version')} in the catalog)", "", head, rule]
    for s in catalog.summaries:
        label = code(s.architecture.label)
        row = (
            f"| {label} | {count(s.packages)} | {percent(s.packages, packages)} "
            f"| {count(s.versions)} | {percent(s.versions, versions)} |"
        )
        if compared:
            row += f" {count(s.missing)} | {count(s.extra)} |"
        out.append(row)
    return [*out, ""]


def _cell_text(cell: Cell, single: bool) -> str:
    if cell.empty:
        return "·"
    parts = []
    if cell.present:
        if single:
            parts.append(SYMBOL[Mark.PRESENT])
        elif cell.full:
            parts.append(f"{SYMBOL[Mark.PRESENT]} {len(cell.present)}/{cell.total}")
        else:
            if len(cell.absent) < len(cell.present):
                which = "all but " + md(", ".join(cell.absent))
            else:
                which = md(", ".join(cell.present))
            parts.append(f"{len(cell.present)}/{cell.total}: {which}")
    if cell.missing:
        parts.append(f"{SYMBOL[Mark.MISSING]} missing: " + md(", ".join(cell.missing)))
    if cell.extra:
        parts.append(f"{SYMBOL[Mark.EXTRA]} extra: " + md(", ".join(cell.extra)))
    return "<br>".join(parts)


def _name(row: PackageRow, count: bool = True) -> str:
    text = f"**{md(row.name)}**"
    if row.mark is not Mark.PRESENT:
        text += f" {SYMBOL[row.mark]}"
    if len(row.versions) == 1:
        only = row.versions[0]
        text += f" {md(only.module_version or only.version)}"
    elif row.versions and count:
        text += f" ({len(row.versions)} versions)"
    return text


def _matrix(catalog: CatalogCoverage) -> list[str]:
    archs = catalog.architectures
    out = [
        "**Packages by architecture** (a cell lists the versions there)",
        "",
        "| package | " + " | ".join(code(a.label) for a in archs) + " |",
        "|---|" + ":---:|" * len(archs),
    ]
    for row in catalog.packages:
        single = len(row.versions) == 1
        cells = " | ".join(_cell_text(row.cell(a), single) for a in archs)
        out.append(f"| {_name(row)} | {cells} |")
    return [*out, ""]


def _grouped(found: dict[str, list[str]], every: int) -> str:
    """`3/4 on aarch64/a64fx`, or `4/5 on all 14 architectures`: architectures by what they
    show, in column order."""
    parts = []
    for what, labels in found.items():
        where = (
            f"all {every} architectures"
            if len(labels) == every and every > 1
            else ", ".join(code(label) for label in labels)
        )
        parts.append(f"{what} on {where}")
    return "; ".join(parts) or DASH


def _shortfall(row: PackageRow, catalog: CatalogCoverage) -> tuple[str, str]:
    """Where a package falls short (architectures with some or none of its versions) and
    where it differs from the files."""
    short: dict[str, list[str]] = {}
    diffs: dict[str, list[str]] = {}
    for arch in catalog.architectures:
        cell = row.cell(arch)
        if not cell.present:
            short.setdefault("none", []).append(arch.label)
        elif not cell.full:
            short.setdefault(f"{len(cell.present)}/{cell.total}", []).append(arch.label)
        if cell.missing:
            what = f"{SYMBOL[Mark.MISSING]} {md(', '.join(cell.missing))}"
            diffs.setdefault(what, []).append(arch.label)
        if cell.extra:
            what = f"{SYMBOL[Mark.EXTRA]} {md(', '.join(cell.extra))}"
            diffs.setdefault(what, []).append(arch.label)
    every = len(catalog.architectures)
    return _grouped(short, every), _grouped(diffs, every)


def _summarised(catalog: CatalogCoverage) -> list[str]:
    archs = len(catalog.architectures)
    rows = []
    complete = 0
    for row in catalog.packages:
        short, diffs = _shortfall(row, catalog)
        if short == DASH and diffs == DASH and row.mark is Mark.PRESENT:
            complete += 1
            continue
        rows.append((row.differs, row, short, diffs))
    rows.sort(key=lambda item: not item[0])  # differences first, then by name (stable)
    out = [
        f"**Per package**: {plural(complete, 'package')} of {count(len(catalog.packages))} "
        f"have every version on all {archs} architectures (not listed); "
        f"the other {count(len(rows))}:",
        "",
        "| package | versions | not every version | differences |",
        "|---|---:|---|---|",
    ]
    for _, row, short, diffs in rows[:MAX_ROWS]:
        out.append(f"| {_name(row, count=False)} | {len(row.versions)} | {short} | {diffs} |")
    if len(rows) > MAX_ROWS:
        out.append(f"| … and {len(rows) - MAX_ROWS} more | | | |")
    out += ["", "(The HTML report, `--format html`, shows every package and version.)", ""]
    return out
