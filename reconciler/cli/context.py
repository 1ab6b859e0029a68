"""The environment and the commit of a one-shot command: opened, shown, saved, checked.

`open_workspace` fetches the Git source's commit (if there is one) and selects the project
file's environment; `with_context` puts both at the head of the plan in every output format;
`saved_context` writes them into a saved plan, and `workspace_for_saved` refuses (exit 4) to
apply a plan made for one environment to another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.core.errors import GuardRefused
from reconciler.engine.savedplan import SavedPlan
from reconciler.output.escape import md, terminal
from reconciler.settings import Settings
from reconciler.source.workspace import Workspace, git_source, workspace

if TYPE_CHECKING:
    from reconciler.source.git import Checkout


def fetch(settings: Settings) -> Checkout | None:
    """The Git source's commit, fetched (None when the files are local)."""
    source = git_source(settings)
    return source.update() if source is not None else None


def open_workspace(settings: Settings, files: Sequence[Path] | None) -> Workspace:
    return workspace(settings, files, fetch(settings))


def source_json(checkout: Checkout | None) -> dict[str, Any] | None:
    if checkout is None:
        return None
    return {"url": checkout.url, "ref": checkout.ref, **checkout.commit.json()}


def context_line(ws: Workspace, markdown: bool = False) -> str:
    """``Environment staging · https://git.example.org/catalogs.git main @ 1a2b3c4d5e6f
    "Add GROMACS" (Ann <ann@…>, 2026-12-01 14:30 UTC)``, or "" without either; every text
    from the project file, the settings or Git escaped for the channel (`escape.terminal`
    for text, `escape.md` for Markdown, where the short sha links to the commit's page)."""
    escape: Callable[[str], str] = md if markdown else terminal
    parts = []
    if ws.environment:
        parts.append(f"Environment {escape(ws.environment)} ({escape(ws.settings.api_url)})")
    if ws.checkout is not None:
        c = ws.checkout.commit
        when = datetime.fromtimestamp(c.timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
        signed = f", signed by {escape(c.signed_by)}" if c.signed_by else ""
        sha = escape(c.sha[:12])
        if markdown and c.link is not None:
            sha = f"[{sha}]({c.link})"
        parts.append(
            f"{escape(ws.checkout.url)} {escape(ws.checkout.ref)} @ {sha} "
            f"{escape(json.dumps(c.subject))} ({escape(c.author)}, {when}{signed})"
        )
    return " · ".join(parts)


def with_context(text: str, output: str, ws: Workspace) -> str:
    if not ws.environment and ws.checkout is None:
        return text
    if output == "json":
        doc = json.loads(text)
        extra = {"environment": ws.environment or None, "source": source_json(ws.checkout)}
        return json.dumps({**extra, **doc}, indent=2, ensure_ascii=False) + "\n"
    if output == "markdown":
        return f"_{context_line(ws, markdown=True)}_\n\n{text}"
    return f"{context_line(ws)}\n{text}"


def saved_context(ws: Workspace) -> dict[str, Any]:
    """What a saved plan records of its environment and commit."""
    found: dict[str, Any] = {}
    if ws.environment:
        found["environment"] = ws.environment
        found["values"] = dict(ws.values or {})
    if ws.checkout is not None:
        found["source"] = source_json(ws.checkout)
    return found


def workspace_for_saved(saved: SavedPlan, settings: Settings) -> Workspace:
    """The workspace to apply `saved` with: its environment's, and never another's, with that
    environment's values as the project file gives them now (never the plan file's: the
    apply refuses a plan file whose values differ from them)."""
    if saved.environment and settings.env and saved.environment != settings.env:
        raise GuardRefused(
            f"the saved plan {saved.path} was made for the environment {saved.environment}, "
            f"not {settings.env}; nothing was written (plan {settings.env} on its own)"
        )
    if settings.env and not saved.environment:
        raise GuardRefused(
            f"the saved plan {saved.path} names no environment, and this is {settings.env}; "
            "nothing was written (plan again with --env)"
        )
    root_files = [Path(p) for p in saved.inputs]
    if not saved.environment:
        return Workspace(settings, tuple(root_files))
    return workspace(settings, root_files, env=saved.environment)
