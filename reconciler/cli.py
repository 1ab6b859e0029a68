"""The `reconcile` command.

    reconcile plan  -f FILE…   (also: reconcile --dry-run -f FILE…)  show the plan, write nothing
    reconcile apply -f FILE…   (also: reconcile -f FILE…)            plan, then apply it
    reconcile validate -f FILE…                                      check files offline
    reconcile schema                                                 the format's JSON Schema
    reconcile options --markdown                                     the settings table

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
from typing import TextIO

import structlog

from . import logs
from .apply import ApplyResult
from .client import WaldurClient
from .errors import ConfigError, ExitCode, ReconcileError
from .plan import Plan
from .render import render_json, render_text
from .runner import client_config, load, reconcile_once
from .settings import COMMON, DAEMON, Settings, add_options, options_markdown, resolve

log = structlog.get_logger("reconciler.cli")

COMMANDS = ("plan", "apply", "daemon", "validate", "schema", "options")
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
        ("apply", "plan, then make the server match the desired state"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "-f", "--file", dest="files", action="append", required=True, type=Path, help=files_help
        )
        add_options(p, COMMON)
        if name == "plan":
            add_options(p, ("detailed_exitcode",))
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
    p = sub.add_parser("options", help="list every setting with its environment variable")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return parser


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
    else:
        text = render_text(plan, result)
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


def cmd_plan_or_apply(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    desired = load(args.files)
    write = args.command == "apply"
    with WaldurClient(client_config(settings)) as client, stop_on_signals() as stop:
        outcome = reconcile_once(settings, client, desired, write=write, stop=stop)
    emit(out, settings, outcome.plan, outcome.result, client)
    if outcome.refusal is not None:
        raise outcome.refusal
    if not write and settings.detailed_exitcode and not outcome.plan.empty:
        return ExitCode.CHANGES
    return outcome.exit_code


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
    logs.configure(settings.log_level, settings.log_format, secrets=[secret])
    if args.command == "validate":
        return cmd_validate(args, out)
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
