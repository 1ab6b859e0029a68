"""The commands that read or write desired-state files (validate, export, import), and
`discover`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.core.errors import ExitCode, InputError, ReconcileError
from reconciler.core.model import DesiredState
from reconciler.settings import Settings
from reconciler.tools.writer import to_yaml, write_text

if TYPE_CHECKING:
    from reconciler.tools.discover import Offer


def cmd_export(settings: Settings, out: TextIO, full: bool = False) -> int:
    from reconciler.remote.client import WaldurClient
    from reconciler.tools import export

    selectors = export.parse_selectors(settings.catalog or None)
    with WaldurClient(settings.client_config()) as client:
        text, observed = export.export_text(client, selectors, settings.api_dialect, full)
    target = Path(settings.out) if settings.out else None
    write_text(text, target, out)
    for duplicate in observed.duplicates:
        sys.stderr.write(f"warning: the server holds {duplicate} twice; exported once\n")
    if target is not None:
        catalogs = sum(1 for key in observed.records if key.parent is None)
        sys.stderr.write(
            f"Exported {catalogs} catalog(s), {len(observed.records)} objects, to {target}.\n"
        )
    return ExitCode.OK


def cmd_discover(settings: Settings, out: TextIO) -> int:
    from reconciler.remote.client import WaldurClient
    from reconciler.tools import discover

    with WaldurClient(settings.client_config()) as client:
        offers = discover.discover(client)
    out.write(render_discover(offers, settings.output))
    if settings.detailed_exitcode and discover.newer(offers):
        return ExitCode.CHANGES  # a newer version to declare (the drift check's issue)
    return ExitCode.OK


def render_discover(offers: Sequence[Offer], output: str) -> str:
    """What the loaders offer as JSON, text or Markdown (a heading, the table, the summary),
    the server's values escaped for the channel."""
    from reconciler.output import table
    from reconciler.tools import discover

    if output == "json":
        return discover.render_json(offers)
    markdown = output == "markdown"
    heading = f"### {discover.TITLE}\n\n" if markdown else ""
    found = table.render(discover.HEAD, discover.rows(offers), markdown)
    return f"{heading}{found}\n{table.cell(discover.summary(offers), markdown)}\n"


def cmd_import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from reconciler.tools import eessi_api
    from reconciler.tools.eessi import EessiFormatError

    try:
        doc, header = eessi_api.convert_file(args.path, settings.eessi_repository)
    except EessiFormatError as exc:
        raise ReconcileError(f"{args.path}: {exc}") from None
    write_text(to_yaml(doc, header), Path(settings.out) if settings.out else None, out)
    return ExitCode.OK


def cmd_validate(args: argparse.Namespace, out: TextIO, settings: Settings) -> int:
    """Validate the files; with a project file, once with each environment's values (or the
    one --env selects), since a value can make a file invalid."""
    from reconciler.desired.environments import find_project
    from reconciler.desired.loader import load_desired
    from reconciler.desired.project import load_project

    path = find_project(Path("."), settings.project)
    if path is None:
        return _validated(load_desired(args.files), out)
    args.files = [f for f in args.files if f.name != path.name]  # pre-commit passes it too
    project = load_project(path)
    names = [settings.env] if settings.env else list(project.environments)
    for name in names:
        env = project.select(name)
        try:
            desired = load_desired(args.files or env.files, values=env.values)
        except InputError as exc:
            raise InputError(exc.problems, what=f"the values of the environment {name}") from None
        out.write(f"{name}: ")
        _validated(desired, out)
    return ExitCode.OK


def _validated(desired: DesiredState, out: TextIO) -> int:
    kinds: dict[str, int] = {}
    for key in desired.records:
        label = key.kind.label.replace("_", " ")
        kinds[label] = kinds.get(label, 0) + 1
    counts = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items())
    out.write(f"Valid: {len(desired.sources)} file(s), {counts or 'nothing declared'}.\n")
    return ExitCode.OK
