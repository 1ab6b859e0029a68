"""The commands that read or write desired-state files: validate, export, import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from reconciler.core.errors import ExitCode, ReconcileError
from reconciler.settings import Settings
from reconciler.tools.writer import to_yaml, write_text


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
    render = {"json": discover.render_json, "markdown": discover.render_markdown}
    out.write(render.get(settings.output, discover.render_text)(offers))
    if settings.detailed_exitcode and discover.newer(offers):
        return ExitCode.CHANGES  # a newer version to declare (the drift check's issue)
    return ExitCode.OK


def cmd_import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from reconciler.tools import eessi_api
    from reconciler.tools.eessi import EessiFormatError

    try:
        doc, header = eessi_api.convert_file(args.path, settings.eessi_repository)
    except EessiFormatError as exc:
        raise ReconcileError(f"{args.path}: {exc}") from None
    write_text(to_yaml(doc, header), Path(settings.out) if settings.out else None, out)
    return ExitCode.OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from reconciler.desired.loader import load_desired

    desired = load_desired(args.files)  # always afresh: no cache (see desired.cache)
    kinds: dict[str, int] = {}
    for key in desired.records:
        label = key.kind.label.replace("_", " ")
        kinds[label] = kinds.get(label, 0) + 1
    counts = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items())
    out.write(f"Valid: {len(desired.sources)} file(s), {counts or 'nothing declared'}.\n")
    return ExitCode.OK
