"""The `reconcile` command.

    reconcile plan  -f FILE… [--out PLAN]  (also: reconcile --dry-run -f FILE…)  show the plan
    reconcile apply -f FILE…   (also: reconcile -f FILE…)      plan, then apply it
    reconcile apply PLAN                                       apply a saved plan, if it holds
    reconcile validate -f FILE…                                check files offline
    reconcile schema                                           the format's JSON Schema
    reconcile export [--catalog NAME[@VERSION]] [-o FILE]      the live catalogs as a file
    reconcile import eessi PATH [-o FILE]                      EESSI's software list as a file
    reconcile options --markdown                               the settings table

Errors are printed as one message (never a traceback) and mapped to the exit codes of
`errors.ExitCode`, documented in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import structlog

from . import eessi_api, export, logs, savedplan
from .apply import ApplyResult
from .client import WaldurClient
from .eessi import EessiFormatError
from .errors import ConfigError, ExitCode, ReconcileError
from .plan import Plan
from .progress import Reporter, reporter
from .render import render_json, render_text, use_colour
from .render_markdown import render_markdown
from .runner import client_config, load, reconcile_once
from .savedapply import apply_saved
from .settings import (
    COMMON,
    DAEMON,
    OPTIONS,
    Settings,
    add_options,
    options_markdown,
    resolve,
)
from .writer import to_yaml, write_text

log = structlog.get_logger("reconciler.cli")

COMMANDS = ("plan", "apply", "daemon", "validate", "schema", "options", "export", "import")
#: What reading a server needs (export): COMMON without what only plans and applies use.
READ = tuple(
    name
    for name in COMMON
    if name not in ("output", "max_delete", "max_delete_percent", "lock_wait", "lock_dir")
)
_TOKEN_FLAGS = ("--token", "--api-token")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {logs.redact(message)}\n")
        raise SystemExit(int(ExitCode.ERROR))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconcile",
        description="Keep a Waldur software catalog true to "
        "a desired-state YAML. Plain `reconcile` applies; `reconcile --dry-run` plans.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    files_help = "desired-state file or directory (every *.yaml/*.yml inside); repeatable"
    for name, text in (
        ("plan", "show what would change; write nothing"),
        ("apply", "plan, then make the server match the desired state; or apply a saved plan"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "-f",
            "--file",
            dest="files",
            action="append",
            required=name == "plan",
            type=Path,
            help=files_help,
        )
        add_options(p, COMMON)
        if name == "plan":
            add_options(p, ("detailed_exitcode", "out"))
        else:
            p.add_argument(
                "saved_plan",
                nargs="?",
                type=Path,
                metavar="PLAN",
                help="a plan saved by `reconcile plan --out PLAN` (instead of -f)",
            )
            add_options(p, ("progress",))
    text = "reconcile on a schedule, with health, readiness and metrics endpoints"
    p = sub.add_parser("daemon", help=text, description=text)
    p.add_argument(
        "-f", "--file", dest="files", action="append", required=True, type=Path, help=files_help
    )
    add_options(p, COMMON + DAEMON)
    p = sub.add_parser("validate", help="check desired-state files offline (no server)")
    p.add_argument(
        "-f", "--file", dest="files", action="append", required=True, type=Path, help=files_help
    )
    add_options(p, ("log_level", "log_format"))
    sub.add_parser("schema", help="print the JSON Schema of the desired-state format")
    text = "write the live catalog(s) as a desired-state file"
    p = sub.add_parser("export", help=text, description=text)
    p.add_argument("--catalog", action="append", metavar="NAME[@VERSION]", help=_help("catalog"))
    _out_option(p)
    add_options(p, READ)
    text = "convert a published software list into a desired-state file"
    p = sub.add_parser("import", help=text, description=text)
    p.add_argument("source", choices=("eessi",), help="the list's publisher")
    p.add_argument("path", type=Path, help="EESSI's json_data_detail.json or API-format JSON")
    _out_option(p)
    add_options(p, ("eessi_repository", "log_level", "log_format"))
    p = sub.add_parser("options", help="list every setting with its environment variable")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return parser


def _help(name: str) -> str:
    o = OPTIONS[name]
    return f"{o.help} [env {o.env}]".replace("%", "%%")  # argparse formats help with %


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", dest="out", metavar="FILE", help=_help("out"))


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """`reconcile --dry-run …` → `reconcile plan …`; `reconcile …` → `reconcile apply …`."""
    args = list(argv)
    for arg in args:
        if arg in _TOKEN_FLAGS or arg.startswith(tuple(f + "=" for f in _TOKEN_FLAGS)):
            raise ConfigError(
                "the token is never taken on the command line (ps and shell "
                "history would keep it): set WALDUR_API_TOKEN or use --token-file"
            )
    if (args and args[0] in COMMANDS) or any(a in ("-h", "--help") for a in args[:1]):
        return args
    if "--dry-run" in args:
        args.remove("--dry-run")
        return ["plan", *args]
    return ["apply", *args]


def emit(
    out: TextIO, settings: Settings, plan: Plan, result: ApplyResult | None, client: WaldurClient
) -> None:
    if settings.output == "json":
        http = {
            "requests": client.stats.total(),
            "retries": client.stats.retries,
            "read_path": plan.read_path,
        }
        text = render_json(plan, result, http)
    elif settings.output == "markdown":
        text = render_markdown(plan, result)
    else:
        text = render_text(plan, result, colour=use_colour(out))
    out.write(text)
    out.flush()


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM during an apply: finish the changes in flight, send no new ones."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write(
            f"{signal.Signals(signum).name}: stopping after the changes in flight "
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


def _hooks(progress: Reporter | None) -> dict[str, Any]:
    """The Applier callbacks that feed `progress` (none without one)."""
    if progress is None:
        return {}
    return {"on_start": progress.start, "on_result": progress.result}


def cmd_plan_or_apply(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    write = args.command == "apply"
    if write and args.saved_plan is not None and args.files:
        raise ConfigError("apply takes desired-state files (-f FILE) or a saved plan, not both")
    if write and args.saved_plan is None and not args.files:
        raise ConfigError("apply needs desired-state files (-f FILE) or a saved plan (PLAN)")
    if write and args.saved_plan is not None:
        return cmd_apply_saved(args.saved_plan, settings, out)
    desired = load(args.files)
    with (
        WaldurClient(client_config(settings)) as client,
        stop_on_signals() as stop,
        progress_reporter(settings) as progress,
    ):
        outcome = reconcile_once(
            settings, client, desired, write=write, stop=stop, **_hooks(progress)
        )
    emit(out, settings, outcome.plan, outcome.result, client)
    if outcome.refusal is not None:
        raise outcome.refusal
    if not write and settings.out:
        document = savedplan.to_document(outcome.plan, desired, args.files, client.api_url)
        write_text(savedplan.dumps(document), Path(settings.out))
        sys.stderr.write(
            f"Saved the plan to {settings.out}; `reconcile apply {settings.out}` applies "
            "exactly it, if nothing it touches has changed by then.\n"
        )
    if not write and settings.detailed_exitcode and not outcome.plan.empty:
        return ExitCode.CHANGES
    return outcome.exit_code


def cmd_apply_saved(path: Path, settings: Settings, out: TextIO) -> int:
    saved = savedplan.read(path)
    with (
        WaldurClient(client_config(settings)) as client,
        stop_on_signals() as stop,
        progress_reporter(settings) as progress,
    ):
        outcome = apply_saved(settings, client, saved, stop=stop, **_hooks(progress))
    emit(out, settings, outcome.plan, outcome.result, client)
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome.exit_code


def cmd_export(settings: Settings, out: TextIO) -> int:
    selectors = export.parse_selectors(settings.catalog or None)
    with WaldurClient(client_config(settings)) as client:
        text, observed = export.export_text(client, selectors, settings.api_dialect)
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


def cmd_import(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        doc, header = eessi_api.convert_file(args.path, settings.eessi_repository)
    except EessiFormatError as exc:
        raise ReconcileError(f"{args.path}: {exc}") from None
    write_text(to_yaml(doc, header), Path(settings.out) if settings.out else None, out)
    return ExitCode.OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    desired = load(args.files)
    kinds: dict[str, int] = {}
    for key in desired.records:
        kinds[key.kind.label] = kinds.get(key.kind.label, 0) + 1
    counts = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items())
    out.write(f"Valid: {len(desired.sources)} file(s), {counts or 'nothing declared'}.\n")
    return ExitCode.OK


def cmd_daemon(args: argparse.Namespace, settings: Settings) -> int:
    from .daemon import Daemon, Schedule

    if settings.cron and args.interval is not None:
        raise ConfigError("give --interval or --cron, not both")
    schedule = Schedule(
        interval=settings.interval, cron=settings.cron or None, jitter=settings.jitter
    )
    try:
        schedule.trigger()
    except ValueError as exc:
        raise ConfigError(f"--cron {settings.cron!r}: {exc}") from None
    daemon = Daemon(
        settings, list(args.files), schedule, dry_run=settings.dry_run, grace=settings.grace
    )
    return daemon.serve(settings.listen, settings.allow_remote_sync)


def run(argv: Sequence[str], out: TextIO) -> int:
    args = build_parser().parse_args(normalise_argv(argv))
    if args.command == "schema":
        from .desired import desired_json_schema

        out.write(json.dumps(desired_json_schema(), indent=2) + "\n")
        return ExitCode.OK
    if args.command == "options":
        out.write(options_markdown())
        return ExitCode.OK
    settings = resolve(args)
    secret = settings.token.get_secret_value() if settings.token else None
    level = settings.log_level
    if (
        args.command == "daemon"
        and args.log_level is None
        and not os.environ.get("RECONCILE_LOG_LEVEL")
    ):
        level = "info"  # a daemon's run and change lines are its record of what it did
    logs.configure(level, settings.log_format, secrets=[secret])
    if args.command == "validate":
        return cmd_validate(args, out)
    if args.command == "export":
        return cmd_export(settings, out)
    if args.command == "import":
        return cmd_import(args, settings, out)
    if args.command == "daemon":
        return cmd_daemon(args, settings)
    return cmd_plan_or_apply(args, settings, out)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return int(run(argv, sys.stdout))
    except ReconcileError as exc:
        sys.stderr.write(f"error: {logs.redact(str(exc))}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {logs.redact(str(exc))}\n"
            "Please report it; set RECONCILE_LOG_LEVEL=debug to see where.\n"
        )
        if logs.LEVELS.get(_env_log_level(), 30) <= 10:
            sys.stderr.write(logs.redact(traceback.format_exc()))
        return int(ExitCode.ERROR)


def _env_log_level() -> str:
    return os.environ.get("RECONCILE_LOG_LEVEL", "warning")


if __name__ == "__main__":
    raise SystemExit(main())
