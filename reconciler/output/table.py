"""A table (and a line) of the command's own words and of values from the server, the files
or Git, escaped for the channel it is written to (`escape.terminal` for text, `escape.md`
for Markdown).

A cell is a value, escaped whole (``"GROMACS"``), or the command's own words with values in
them, ``(template, *values)``: the template is kept as it is (its ``[``, ``~`` and ``(``
are the command's syntax) and each ``{}`` is filled with one value, escaped
(``("{} [{}]", name, catalog_type)``). Plain types, so that a module of a layer that may not
import this one (`reconciler.tools`) can describe its rows.

JSON takes the cells `plain`.

Text: columns padded to their widest cell, two spaces apart, trailing spaces trimmed.
Markdown: a pipe table under a header row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.output.escape import md, terminal

#: A value (escaped whole), or ``(template, *values)``: the template's ``{}`` filled with the
#: values, each escaped.
Cell = str | tuple[str, ...]


def cell(value: Cell, markdown: bool) -> str:
    """`value` as written to the channel: escaped, the template's own words kept."""
    escape: Callable[[str], str] = md if markdown else terminal
    if isinstance(value, str):
        return escape(value)
    template, *values = value
    return template.format(*(escape(str(v)) for v in values))


def plain(value: Cell) -> str:
    """`value` unescaped, for JSON (which `json.dumps` escapes)."""
    if isinstance(value, str):
        return value
    template, *values = value
    return template.format(*values)


def render(head: Sequence[str], rows: Sequence[Sequence[Cell]], markdown: bool) -> str:
    """The table: `head` (the command's own words) over `rows`, each cell escaped."""
    shown = [[cell(value, markdown) for value in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in shown]
        return "\n".join(lines) + "\n"
    every = [list(head), *shown]
    widths = [max(len(row[i]) for row in every) for i in range(len(head))]
    lines = [
        "  ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)).rstrip()
        for row in every
    ]
    return "\n".join(lines) + "\n"
