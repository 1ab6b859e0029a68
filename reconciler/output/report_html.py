"""The coverage report as one self-contained HTML file (`reconcile report --format html`).

Per catalog: its counts, a table per architecture (packages and versions there, the share of
the catalog's versions, with a bar and the number), and the coverage matrix: a row per package,
a column per architecture grouped by family under a header that stays in view while scrolling.
A package with several versions folds them under its row: its name is a ``<details>`` toggle,
and its version rows show while it is open (CSS ``:has()``; a browser without it shows them
always). Every state has a symbol and a word besides its colour (see the legend). A few lines
of inline script un-hide a filter box; without script the table is complete and nothing is
hidden but the filter. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.output.page import document, esc
from reconciler.output.report import (
    MEANING,
    SYMBOL,
    Architecture,
    CatalogCoverage,
    Cell,
    Mark,
    PackageRow,
    Report,
    VersionRow,
    count,
    differences,
    percent,
    plural,
)

TITLE = "Software catalog coverage"
#: An empty cell: a dot to see, a word to hear.
_NONE = '<td class="n"><span aria-hidden="true">·</span><span class="sr">none</span></td>'
_CELL_CLASS = {Mark.PRESENT: "f", Mark.MISSING: "m", Mark.EXTRA: "x"}
_WORD = {Mark.PRESENT: "", Mark.MISSING: "\u00a0missing", Mark.EXTRA: "\u00a0extra"}

#: The matrix: two sticky header rows (families, then microarchitectures) and a sticky first
#: column; version rows show while their package's <details> is open.
CSS = """
.mx{font-size:13px}
.mx thead th{position:sticky;z-index:2;white-space:nowrap;text-align:center;
border-right:1px solid var(--line)}
.mx .r1 th{top:0;height:1.9rem;line-height:1.2rem;padding:.3rem .55rem}
.mx .r2 th{top:1.9rem;font-weight:500}
.mx .r2 th span{display:block;font-size:.8em;color:var(--muted);font-weight:400}
.mx th.corner{left:0;z-index:3;text-align:left;vertical-align:bottom}
.mx tbody th{position:sticky;left:0;z-index:1;background:var(--bg);font-weight:500;
min-width:14rem;max-width:22rem;border-right:1px solid var(--line)}
.mx td{min-width:5.6rem;max-width:10rem;text-align:center;border-right:1px solid var(--line)}
.mx td small{display:block;line-height:1.25;overflow-wrap:anywhere;color:inherit}
.mx tbody tr:hover th,.mx tbody tr:hover td.n{background:var(--hover)}
.mx tr.v{display:none}
.mx tbody:has(details[open]) tr.v{display:table-row}
@supports not selector(:has(a)){.mx tr.v{display:table-row}}
.mx tr.v th{padding-left:1.9rem;font-weight:400}
.mx tr.v td,.mx tr.v th{border-bottom-style:dotted}
.mx details{display:inline}
.mx summary{cursor:pointer}
.mx summary::marker{color:var(--muted)}
.mx tbody{scroll-margin-top:6rem}
.mx td .d{display:block;font-weight:600;font-size:.92em;line-height:1.25;overflow-wrap:anywhere}
.mx td .d.m{color:var(--miss-fg);background:none}.mx td .d.x{color:var(--extra-fg);background:none}
.summary td.bars{white-space:nowrap}
nav ul{margin:.25rem 0;padding-left:1.25rem}
@page{size:landscape;margin:1cm}
@media print{.mx{font-size:7.5pt}.mx td{min-width:0;padding:.15rem .25rem}
.mx tbody th{min-width:9rem}.mx .r1 th{height:auto}.mx tr.v th{padding-left:1rem}
.mx tbody{break-inside:avoid}}
"""

#: Un-hides the filter box and filters package rows by name (the table needs none of it).
SCRIPT = (
    'const b=document.getElementById("fb"),f=document.getElementById("filter"),'
    'o=document.getElementById("fc"),t=[...document.querySelectorAll("tbody[data-name]")];'
    "b.hidden=false;"
    'f.addEventListener("input",()=>{const q=f.value.trim().toLowerCase();let n=0;'
    'for(const e of t){const h=q!==""&&!e.dataset.name.includes(q);e.hidden=h;n+=!h}'
    'o.textContent=q?n+" of "+t.length+" packages shown":""});'
)


def render_html(report: Report) -> str:
    body: list[str] = [*_header(report)]
    css = [CSS]
    for index, catalog in enumerate(report.catalogs, 1):
        anchor = f"c{index}"
        body += _catalog(catalog, anchor, report.compared)
        css.append(_family_css(catalog, anchor))
    if not report.catalogs:
        body.append(
            "<p>No catalog to report: the server has none"
            + (" of the declared ones" if report.compared else "")
            + ".</p>"
        )
    body.append(
        "<footer>Made by <code>reconcile report</code> (waldur-catalog-reconciler). "
        "A cell lists the versions of a package built for an architecture.</footer>"
    )
    return document(TITLE, "\n".join(body), css="".join(css), script=SCRIPT)


def _header(report: Report) -> Iterator[str]:
    yield "<header>"
    yield f"<h1>{TITLE}</h1>"
    meta = []
    if report.source:
        meta.append(f"Read from <code>{esc(report.source)}</code>")
    if report.generated:
        meta.append(f"at {esc(report.generated)}")
    line = " ".join(meta)
    if report.compared:
        files = ", ".join(f"<code>{esc(f)}</code>" for f in report.files) or "the files"
        line += f"; compared with {files}."
    else:
        line += "; every catalog on the server, not compared with any file."
    yield f'<p class="meta">{line}</p>'
    for note in report.notes:
        yield f'<p class="note bad" role="alert">{esc(note)}</p>'
    if len(report.catalogs) > 1:
        yield '<nav aria-label="Catalogs"><ul>'
        for index, catalog in enumerate(report.catalogs, 1):
            yield (
                f'<li><a href="#c{index}">{esc(catalog.title)}</a> '
                f"<small>{plural(catalog.on_server_count('package'), 'package')}</small></li>"
            )
        yield "</ul></nav>"
    yield from _legend(report.compared)
    yield (
        '<p id="fb" class="noprint" hidden><label for="filter">Filter packages</label> '
        '<input id="filter" type="search" placeholder="name, e.g. GROMACS" autocomplete="off"> '
        '<output id="fc" aria-live="polite" class="muted"></output></p>'
    )
    yield "</header>"


def _legend(compared: bool) -> Iterator[str]:
    yield '<ul class="legend" aria-label="Legend">'
    yield '<li><span class="sw f">✓ 4/4</span> every version of the package is there</li>'
    yield (
        '<li><span class="sw p">◐ 3/4</span> some versions: those there, or "all but" '
        "those not</li>"
    )
    yield '<li><span class="sw f">✓</span> that version is there</li>'
    yield '<li><span class="sw n">·</span> none</li>'
    if compared:
        for mark in (Mark.MISSING, Mark.EXTRA):
            yield (
                f'<li><span class="sw {_CELL_CLASS[mark]}">{SYMBOL[mark]}{_WORD[mark]}</span> '
                f"{MEANING[mark]}</li>"
            )
    yield "</ul>"


def _catalog(catalog: CatalogCoverage, anchor: str, compared: bool) -> Iterator[str]:
    yield f'<section id="{anchor}" aria-labelledby="{anchor}h">'
    yield f'<h2 id="{anchor}h">{esc(catalog.title)}</h2>'
    if compared and not catalog.on_server and not catalog.absent:
        yield (
            '<p class="note bad">Not on the server: the files declare it, '
            "so everything in it is missing.</p>"
        )
    if catalog.absent:
        what = (
            f"the next apply deletes it and the {plural(catalog.size_on_server, 'object')} below it"
            if catalog.on_server
            else "it is not on the server"
        )
        yield f'<p class="note">The files declare <code>state: absent</code>: {what}.</p>'
        yield "</section>"
        return
    yield from _stats(catalog, compared)
    if not catalog.packages:
        yield "<p>No packages.</p></section>"
        return
    yield from _summary_table(catalog, compared)
    yield from _matrix(catalog, anchor)
    yield "</section>"


def _stats(catalog: CatalogCoverage, compared: bool) -> Iterator[str]:
    where = " on the server" if compared else ""
    yield '<ul class="stats">'
    for kind in ("package", "version", "target"):
        yield f"<li><b>{count(catalog.on_server_count(kind))}</b> {kind}s{where}</li>"
    yield f"<li><b>{len(catalog.architectures)}</b> architectures</li>"
    yield "</ul>"
    if compared:
        parts = [
            f'<span class="sw {_CELL_CLASS[mark]}">{SYMBOL[mark]}{_WORD[mark]}</span> '
            f"{', '.join(found)}: {MEANING[mark]}"
            for mark, found in differences(catalog)
        ]
        if parts:
            yield f'<p class="diffs">Differences: {"; ".join(parts)}.</p>'
        else:
            yield '<p class="diffs">No differences: the server holds what the files declare.</p>'
        if not catalog.prune:
            yield (
                '<p class="muted"><code>prune: false</code>: an apply leaves what the files do '
                "not declare alone.</p>"
            )


def _summary_table(catalog: CatalogCoverage, compared: bool) -> Iterator[str]:
    versions = catalog.total("version")
    packages = catalog.total("package")
    yield '<table class="summary">'
    yield (
        f"<caption>Per architecture: packages and versions of {esc(catalog.title)} "
        f"on the server ({plural(packages, 'package')}, {plural(versions, 'version')} "
        "in the catalog)</caption>"
    )
    head = [
        '<th scope="col">architecture</th>',
        '<th scope="col" class="num">packages</th>',
        '<th scope="col" class="num">% of packages</th>',
        '<th scope="col" class="num">versions</th>',
        '<th scope="col">% of versions</th>',
    ]
    if compared:
        head += [
            f'<th scope="col" class="num">{SYMBOL[Mark.MISSING]} missing targets</th>',
            f'<th scope="col" class="num">{SYMBOL[Mark.EXTRA]} targets not declared</th>',
        ]
    yield f"<thead><tr>{''.join(head)}</tr></thead><tbody>"
    for s in catalog.summaries:
        share = percent(s.versions, versions)
        width = 0 if not versions else round(100 * s.versions / versions)
        cells = [
            f'<th scope="row" class="mono">{esc(s.architecture.label)}</th>',
            f'<td class="num">{count(s.packages)}</td>',
            f'<td class="num">{percent(s.packages, packages)}</td>',
            f'<td class="num">{count(s.versions)}</td>',
            f'<td class="bars"><span class="bar" aria-hidden="true"><i style="width:{width}%">'
            f"</i></span>{share}</td>",
        ]
        if compared:
            cells += [
                f'<td class="num{" m" if s.missing else ""}">{count(s.missing)}</td>',
                f'<td class="num{" x" if s.extra else ""}">{count(s.extra)}</td>',
            ]
        yield f"<tr>{''.join(cells)}</tr>"
    yield "</tbody></table>"


def _family_css(catalog: CatalogCoverage, anchor: str) -> str:
    """A stronger line before each family's first column (rows count the name column)."""
    rules = []
    column = 2
    for _, archs in catalog.families:
        rules.append(f"#{anchor} .mx tbody tr>:nth-child({column})")
        rules.append(f"#{anchor} .mx .r2>:nth-child({column - 1})")
        column += len(archs)
    if not rules:
        return ""
    return ",".join(rules) + "{border-left:2px solid var(--muted)}"


def _matrix(catalog: CatalogCoverage, anchor: str) -> Iterator[str]:
    yield '<table class="mx">'
    yield (
        f"<caption>{esc(catalog.title)}: {plural(len(catalog.packages), 'package')} by "
        "architecture; a cell lists the versions there. Open a package to see each "
        "version.</caption>"
    )
    yield '<colgroup><col class="name"></colgroup>'
    for _, archs in catalog.families:
        yield f'<colgroup span="{len(archs)}"></colgroup>'
    yield (
        '<thead><tr class="r1"><th scope="col" rowspan="2" class="corner">package '
        "<small>(versions)</small></th>"
    )
    for family, archs in catalog.families:
        yield f'<th scope="colgroup" colspan="{len(archs)}">{esc(family)}</th>'
    yield '</tr><tr class="r2">'
    for arch in catalog.architectures:
        vendor, _, name = arch.micro.rpartition("/")
        label = f"{esc(name)}<span>{esc(vendor)}</span>" if vendor else esc(name)
        yield f'<th scope="col" title="{esc(arch.label)}">{label}</th>'
    yield "</tr></thead>"
    archs = catalog.architectures
    for row in catalog.packages:
        yield from _package(row, archs)
    yield "</table>"


def _mark_badge(mark: Mark) -> str:
    if mark is Mark.PRESENT:
        return ""
    return f' <span class="sw {_CELL_CLASS[mark]}">{SYMBOL[mark]}{_WORD[mark]}</span>'


def _package(row: PackageRow, archs: tuple[Architecture, ...]) -> Iterator[str]:
    name = esc(row.name)
    yield f'<tbody data-name="{esc(row.name.lower())}">'
    if len(row.versions) == 1:
        only = row.versions[0]
        label = only.module_version or only.version
        head = f"{name} <small>{esc(label)}</small>{_mark_badge(row.mark)}"
        cells = "".join(_version_cell(only.cells.get(a)) for a in archs)
        yield f'<tr class="pk"><th scope="row">{head}</th>{cells}</tr>'
        yield "</tbody>"
        return
    count = f"{len(row.versions)} versions" if row.versions else "no versions"
    if row.versions:
        head = (
            f"<details><summary>{name} <small>{count}</small></summary></details>"
            f"{_mark_badge(row.mark)}"
        )
    else:
        head = f"{name} <small>{count}</small>{_mark_badge(row.mark)}"
    cells = "".join(_package_cell(row.cell(a)) for a in archs)
    yield f'<tr class="pk"><th scope="row">{head}</th>{cells}</tr>'
    for version in row.versions:
        yield _version_row(version, archs)
    yield "</tbody>"


def _version_row(version: VersionRow, archs: tuple[Architecture, ...]) -> str:
    label = esc(version.version)
    if version.module_version and version.module_version != version.version:
        label += f" <small>{esc(version.module_version)}</small>"
    cells = "".join(_version_cell(version.cells.get(a)) for a in archs)
    return f'<tr class="v"><th scope="row">{label}{_mark_badge(version.mark)}</th>{cells}</tr>'


def _version_cell(mark: Mark | None) -> str:
    if mark is None:
        return _NONE
    return f'<td class="{_CELL_CLASS[mark]}">{SYMBOL[mark]}{_WORD[mark]}</td>'


def _which(cell: Cell) -> str:
    """The versions there, or (when shorter) those that are not."""
    if len(cell.absent) < len(cell.present):
        return "all but " + esc(", ".join(cell.absent))
    return esc(", ".join(cell.present))


def _package_cell(cell: Cell) -> str:
    if cell.empty:
        return _NONE
    lines = []
    if cell.present:
        count = f"{len(cell.present)}/{cell.total}"
        if cell.full:
            lines.append(f"✓\u00a0{count}")
        else:
            lines.append(f"◐\u00a0{count}<small>{_which(cell)}</small>")
    if cell.missing:
        lines.append(f'<span class="d m">✗\u00a0missing: {esc(", ".join(cell.missing))}</span>')
    if cell.extra:
        lines.append(f'<span class="d x">+\u00a0extra: {esc(", ".join(cell.extra))}</span>')
    kind = "m" if cell.missing else "x" if cell.extra else "f" if cell.full else "p"
    return f'<td class="{kind}">{"".join(lines)}</td>'
