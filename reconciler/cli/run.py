"""`reconcile plan` and `reconcile apply` (from files or a saved plan): run, report, exit code."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from reconciler.cli.context import (
    open_workspace,
    saved_context,
    with_context,
    workspace_for_saved,
)
from reconciler.core.background import Background
from reconciler.core.errors import ConfigError, ExitCode, ReconcileError
from reconciler.core.model import DesiredState
from reconciler.core.plan import Plan
from reconciler.engine import savedplan
from reconciler.engine.apply import ApplyResult
from reconciler.engine.runner import Hooks, load, reconcile_once
from reconciler.engine.savedapply import apply_saved
from reconciler.output import logs
from reconciler.output.ci import GitHubStep
from reconciler.output.progress import Reporter, reporter
from reconciler.output.render import render_json, render_text, use_colour
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import CatalogPrefetch
from reconciler.settings import Settings
from reconciler.source.workspace import Workspace


def emit(
    out: TextIO,
    settings: Settings,
    plan: Plan,
    result: ApplyResult | None,
    client: WaldurClient,
    github: GitHubStep | None = None,
    ws: Workspace | None = None,
) -> None:
    if settings.output == "json":
        http = {
            "requests": client.stats.total(),
            "retries": client.stats.retries,
            "read_path": plan.read_path,
        }
        text = render_json(plan, result, http)
    elif settings.output == "markdown":
        from reconciler.output.markdown import render_markdown

        text = render_markdown(plan, result)
    else:
        text = render_text(plan, result, colour=use_colour(out))
    if ws is not None:
        text = with_context(text, settings.output, ws)
    out.write(text)
    out.flush()
    if github is not None:
        github.show(plan, result)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM: reads end at once (an observation stops within a fraction of a
    second, nothing written); during an apply, the writes in flight finish and no new one is
    sent. A second signal stops at once."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write(
            f"{signal.Signals(signum).name}: stopping; writes in flight finish first "
            "(send it again to stop at once)\n"
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def progress_reporter(settings: Settings) -> Iterator[Reporter | None]:
    """The apply's progress on stderr (none with JSON output); closed when the apply ends."""
    mode = "none" if settings.output == "json" else settings.progress
    found = reporter(mode, sys.stderr)
    try:
        yield found
    finally:
        if found is not None:
            found.close()


def _hooks(stop: threading.Event, progress: Reporter | None) -> Hooks:
    """The stop event, and the Applier callbacks that feed `progress` (if there is one)."""
    if progress is None:
        return Hooks(stop=stop)
    return Hooks(
        stop=stop, on_start=progress.start, on_result=progress.result, on_load=progress.load
    )


def cmd_plan_or_apply(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    github = GitHubStep.from_environ(args.command)  # None outside GitHub Actions
    if github is None:
        return _plan_or_apply(args, settings, out, None)
    try:
        code = _plan_or_apply(args, settings, out, github)
    except ReconcileError as exc:
        github.finish(int(exc.exit_code), logs.redact(str(exc)))
        raise
    github.finish(int(code))
    return code


def _plan_or_apply(
    args: argparse.Namespace, settings: Settings, out: TextIO, github: GitHubStep | None
) -> int:
    write = args.command == "apply"
    if write and args.saved_plan is not None and args.files:
        raise ConfigError("apply takes desired-state files (-f FILE) or a saved plan, not both")
    if write and args.saved_plan is None and not args.files and not settings.env:
        raise ConfigError(
            "apply needs desired-state files (-f FILE), an environment (--env NAME) or a saved "
            "plan (PLAN)"
        )
    if write and args.saved_plan is not None:
        return cmd_apply_saved(args.saved_plan, settings, out, github)
    ws = open_workspace(settings, args.files)
    settings = ws.settings
    client, desired, early = _open(settings, ws, write)
    with client, stop_on_signals() as stop, progress_reporter(settings) as progress:
        hooks = _hooks(stop, progress)
        options = settings.run_options()
        outcome = reconcile_once(options, client, desired, write=write, hooks=hooks, catalogs=early)
    emit(out, settings, outcome.plan, outcome.result, client, github, ws)
    if outcome.refusal is not None:
        raise outcome.refusal
    if not write and settings.out:
        from reconciler.tools.writer import write_text

        document = savedplan.to_document(outcome.plan, desired, ws.files, client.api_url)
        document.update(saved_context(ws))
        write_text(savedplan.dumps(document), Path(settings.out))
        sys.stderr.write(
            f"Saved the plan to {settings.out}; `reconcile apply {settings.out}` applies "
            "exactly it, if nothing it touches has changed by then.\n"
        )
    if not write and settings.detailed_exitcode and outcome.plan.actionable:
        return ExitCode.CHANGES
    return outcome.exit_code


def _open(
    settings: Settings, ws: Workspace, write: bool
) -> tuple[WaldurClient, DesiredState, CatalogPrefetch | None]:
    """The client and the desired state. A plan loads the files on a thread of its own while
    it builds the client (reading the CA bundle releases the GIL) and sends its first request
    (the catalog listing, which needs nothing from the files), so that the three overlap; an
    apply reads nothing before it holds the lock. Either way a problem in the files is
    reported before one in the client's settings."""
    if write:
        desired = load(ws.files, ws.values)
        return WaldurClient(settings.client_config()), desired, None
    loading = Background(lambda: load(ws.files, ws.values), "load-desired")
    try:
        client = WaldurClient(settings.client_config())
    except ReconcileError:
        loading.result()
        raise
    try:
        early = CatalogPrefetch(client)
        return client, loading.result(), early
    except BaseException:
        client.close()
        raise


def cmd_apply_saved(
    path: Path, settings: Settings, out: TextIO, github: GitHubStep | None = None
) -> int:
    saved = savedplan.read(path)
    ws = workspace_for_saved(saved, settings)
    settings = ws.settings
    with (
        WaldurClient(settings.client_config()) as client,
        stop_on_signals() as stop,
        progress_reporter(settings) as progress,
    ):
        outcome = apply_saved(
            settings.run_options(), client, saved, ws.values, _hooks(stop, progress)
        )
    emit(out, settings, outcome.plan, outcome.result, client, github)
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome.exit_code
