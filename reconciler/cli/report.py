"""`reconcile report`: the coverage of the catalogs, as HTML or Markdown, for people.

The server is read by the observer a plan uses: the catalogs the files declare (`-f`), or
every catalog (or those `--catalog NAME[@VERSION]` picks) without files, declared the way
`reconcile export` declares them. With files, the report marks where the server and the files
differ. It never writes to the server; a token is not needed (reads are public in Waldur).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from reconciler.core import loaders
from reconciler.core.errors import ExitCode
from reconciler.core.model import DesiredState, Expectations, Key, Kind, ObservedState
from reconciler.core.urls import public_url
from reconciler.settings import Settings

FORMATS = ("html", "markdown")


def report_format(args: argparse.Namespace, out: str) -> str:
    """--format, else from the --out file's suffix (.md → markdown), else html."""
    if args.format:
        return str(args.format)
    return "markdown" if out.lower().endswith((".md", ".markdown")) else "html"


def whole_trees(scope: DesiredState) -> DesiredState:
    """`scope` with its loader catalogs read whole (a report shows what the loader put there)."""
    policies = {key: replace(policy, loader=None) for key, policy in scope.policies.items()}
    return replace(scope, policies=policies)


def loader_catalogs(desired: DesiredState) -> dict[Key, Expectations]:
    return {key: loader.expect for key, loader in desired.loaders().items()}


def expectation_notes(desired: DesiredState, observed: ObservedState) -> list[str]:
    """Each unmet expectation of a loader catalog, from the tree read."""
    notes = []
    for key, expect in sorted(loader_catalogs(desired).items()):
        contents: dict[str, set[str]] = {}
        for have in observed.records:
            if have.parts[:3] == key.parts and have.kind is Kind.PACKAGE:
                contents.setdefault(have.parts[3], set())
            elif have.parts[:3] == key.parts and have.kind is Kind.TARGET:
                contents.setdefault(have.parts[3], set()).add(f"{have.parts[6]}/{have.parts[7]}")
        found = {name: frozenset(archs) for name, archs in contents.items()}
        for gap in loaders.gaps(expect, len(found), found):
            notes.append(f"expectation unmet: {key}: {gap}")
    return notes


def loaders_as_declared(desired: DesiredState, observed: ObservedState) -> DesiredState:
    """`desired` with what the loaders put in their catalogs taken as declared: the loader owns
    it, so the report does not show it as a difference with the files."""
    owned = {key.parts for key in loader_catalogs(desired)}
    records = dict(desired.records)
    for key, record in observed.records.items():
        if key.kind.in_tree and key.kind is not Kind.CATALOG and key.parts[:3] in owned:
            records.setdefault(key, record)
    return replace(desired, records=records)


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
        observed = observe(client, whole_trees(scope), settings.api_dialect)
        source = public_url(client.api_url)
    notes = []
    if desired is not None:
        notes += expectation_notes(desired, observed)
        desired = loaders_as_declared(desired, observed)
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
