"""`reconcile report`: the coverage of the catalogs, as HTML or Markdown, for people.

The server is read by the observer a plan uses: the catalogs the files declare (`-f`), or
every catalog (or those `--catalog NAME[@VERSION]` picks) without files, declared the way
`reconcile export` declares them. With files, the report marks where the server and the files
differ. It never writes to the server; a token is not needed (reads are public in Waldur).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from reconciler.core.errors import ExitCode
from reconciler.core.model import DesiredState
from reconciler.core.urls import public_url
from reconciler.settings import Settings

FORMATS = ("html", "markdown")


def report_format(args: argparse.Namespace, out: str) -> str:
    """--format, else from the --out file's suffix (.md → markdown), else html."""
    if args.format:
        return str(args.format)
    return "markdown" if out.lower().endswith((".md", ".markdown")) else "html"


def cmd_report(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from reconciler.output.report import build_report
    from reconciler.remote.client import WaldurClient
    from reconciler.remote.observe import observe
    from reconciler.tools import export
    from reconciler.tools.writer import write_text

    fmt = report_format(args, settings.out)
    desired: DesiredState | None = None
    if args.files:
        from reconciler.engine.runner import load

        desired = load(args.files)
    with WaldurClient(settings.client_config()) as client:
        scope = desired or export.select_catalogs(
            client, export.parse_selectors(settings.catalog or None)
        )
        observed = observe(client, scope, settings.api_dialect)
        source = public_url(client.api_url)
    notes = []
    if not observed.complete:
        notes.append(
            "the server could not be read completely, so this report may miss objects: "
            + observed.incomplete_reason
        )
    notes += [f"the server holds {d} twice" for d in observed.duplicates[:5]]
    report = build_report(
        observed,
        desired,
        source=source,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        notes=notes,
    )
    if fmt == "markdown":
        from reconciler.output.report_markdown import render_markdown

        text = render_markdown(report)
    else:
        from reconciler.output.report_html import render_html

        text = render_html(report)
    target = Path(settings.out) if settings.out else None
    write_text(text, target, out)
    for note in notes:
        sys.stderr.write(f"warning: {note}\n")
    if target is not None:
        differences = sum(c.differences() for c in report.catalogs)
        compared = f", {differences} difference(s) with the files" if report.compared else ""
        sys.stderr.write(
            f"Wrote the {fmt} coverage report of {len(report.catalogs)} catalog(s)"
            f"{compared} to {target}.\n"
        )
    return ExitCode.OK
