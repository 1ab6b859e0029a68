"""The `reconcile` command.

    reconcile plan  -f FILE… [--out PLAN]  (also: reconcile --dry-run -f FILE…)  show the plan
    reconcile apply -f FILE…   (also: reconcile -f FILE…)      plan, then apply it
    reconcile apply PLAN                                       apply a saved plan, if it holds
    reconcile validate -f FILE…                                check files offline
    reconcile schema                                           the format's JSON Schema
    reconcile export [--catalog NAME[@VERSION]] [--out FILE]   the live catalogs as a file
    reconcile import eessi PATH [--out FILE]                   EESSI's software list as a file
    reconcile options [--markdown]                             every setting
    reconcile report [-f FILE…] [--format html|markdown] [--out FILE]  the catalogs' coverage
    reconcile discover [-o json]                               what Waldur's loaders offer

`-o/--output` is always the output format, `--out FILE` always the file to write. Each
subcommand's modules are imported only when it runs (`cli.run` for plan and apply, `cli.files`
for validate, export and import), so a command pays only for what it uses. Errors are printed
as one message (never a traceback) and mapped to the exit codes of `errors.ExitCode`,
documented in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from reconciler.core.errors import ConfigError, ExitCode, ReconcileError
from reconciler.core.redact import RedactingStream, register, register_url
from reconciler.output import logs
from reconciler.output.escape import terminal
from reconciler.settings import (
    COMMON,
    DAEMON,
    NOTIFY,
    OPTIONS,
    READ,
    SOURCE,
    Settings,
    add_options,
    options_markdown,
    options_text,
    resolve,
)

COMMANDS = (
    "plan",
    "apply",
    "daemon",
    "validate",
    "schema",
    "options",
    "export",
    "import",
    "report",
    "discover",
)
_TOKEN_FLAGS = ("--token", "--api-token")
#: Commands that write files and take no output format: `-o` is not theirs.
_FILE_WRITERS = ("export", "import", "report")
#: Commands whose standard output is data (a desired-state file): URLs in it are kept whole.
_DATA_OUTPUT = ("export", "import")


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
            type=Path,
            help=files_help,
        )
        add_options(p, COMMON + SOURCE)
        if name == "plan":
            add_options(p, ("detailed_exitcode", "out"))
            p.add_argument(
                "--all-envs",
                action="store_true",
                help="plan every environment of the project file; one summary table",
            )
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
    p.add_argument("-f", "--file", dest="files", action="append", type=Path, help=files_help)
    add_options(p, COMMON + DAEMON + SOURCE + NOTIFY)
    p = sub.add_parser("validate", help="check desired-state files offline (no server)")
    p.add_argument("-f", "--file", dest="files", action="append", type=Path, help=files_help)
    p.add_argument(  # `reconcile validate -f FILE FILE…`: as pre-commit passes changed files
        "more_files", nargs="*", type=Path, metavar="FILE", help="more files, as -f FILE each"
    )
    add_options(p, ("env", "project", "log_level", "log_format"))
    p = sub.add_parser("schema", help="print the JSON Schema of the desired-state format")
    p.add_argument(
        "--project", action="store_true", help="the project file's (reconcile.yaml) instead"
    )
    text = "write the live catalog(s) as a desired-state file"
    p = sub.add_parser("export", help=text, description=text)
    p.add_argument("--catalog", action="append", metavar="NAME[@VERSION]", help=_help("catalog"))
    p.add_argument(
        "--full",
        action="store_true",
        help="a catalog Waldur's loader fills: write its packages, versions and targets "
        "too (default: the loader: form)",
    )
    _out_option(p)
    add_options(p, READ)
    text = "convert a published software list into a desired-state file"
    p = sub.add_parser("import", help=text, description=text)
    p.add_argument("source", choices=("eessi",), help="the list's publisher")
    p.add_argument("path", type=Path, help="EESSI's json_data_detail.json or API-format JSON")
    _out_option(p)
    add_options(p, ("eessi_repository", "log_level", "log_format"))
    _report_parser(sub, files_help)
    text = "what the server's own catalog loaders (EESSI, Spack) offer: latest versions, updates"
    p = sub.add_parser("discover", help=text, description=text)
    add_options(p, (*READ, "output", "detailed_exitcode"))
    p = sub.add_parser("options", help="list every setting with its environment variable")
    p.add_argument(
        "--markdown",
        action="store_true",
        help="as a Markdown table (docs/reference/configuration.md)",
    )
    return parser


def _report_parser(sub: argparse._SubParsersAction, files_help: str) -> None:
    text = (
        "the catalogs' coverage for people: packages by architecture, as HTML or Markdown; "
        "with -f, where the server and the files differ"
    )
    p = sub.add_parser("report", help=text, description=text)
    p.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        type=Path,
        help=files_help + "; the report covers the catalogs they declare (default: every "
        "catalog on the server, not compared)",
    )
    p.add_argument(
        "--catalog",
        action="append",
        metavar="NAME[@VERSION]",
        help="without -f: a catalog to report, repeatable (default every catalog)",
    )
    p.add_argument(
        "--format",
        choices=("html", "markdown"),
        help="html (one self-contained file) or markdown (for a forge); default html, or "
        "markdown when --out ends in .md",
    )
    p.add_argument(
        "--out", dest="out", metavar="FILE", help="the file to write (default: standard output)"
    )
    add_options(p, READ)


def _help(name: str) -> str:
    o = OPTIONS[name]
    return f"{o.help} [env {o.env}]".replace("%", "%%")  # argparse formats help with %


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", dest="out", metavar="FILE", help=_help("out"))


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """`reconcile --dry-run …` → `reconcile plan …`; `reconcile …` → `reconcile apply …`."""
    args = list(argv)
    for arg in args:
        if arg in _TOKEN_FLAGS or arg.startswith(tuple(f + "=" for f in _TOKEN_FLAGS)):
            raise ConfigError(
                "the token is never taken on the command line (ps and shell "
                "history would keep it): set WALDUR_API_TOKEN or use --token-file"
            )
    if (
        args
        and args[0] in _FILE_WRITERS
        and any(a == "-o" or (a.startswith("-o") and not a.startswith("--")) for a in args)
    ):
        if args[0] == "report":
            raise ConfigError(
                "report takes --format html|markdown and writes a file with --out FILE; -o is "
                "the output format of plan and apply"
            )
        raise ConfigError(
            f"{args[0]} writes a file with --out FILE; -o is the output format of plan and "
            "apply (it was also the file here before version 0.2)"
        )
    if (args and args[0] in COMMANDS) or any(a in ("-h", "--help") for a in args[:1]):
        return args
    if "--dry-run" in args:
        args.remove("--dry-run")
        return ["plan", *args]
    return ["apply", *args]


def cmd_daemon(args: argparse.Namespace, settings: Settings) -> int:
    from reconciler.daemon.loop import Daemon, Schedule

    if settings.cron and args.interval is not None:
        raise ConfigError("give --interval or --cron, not both")
    schedule = Schedule(
        interval=settings.interval, cron=settings.cron or None, jitter=settings.jitter
    )
    try:
        schedule.trigger()
    except ValueError as exc:
        raise ConfigError(f"--cron {settings.cron!r}: {exc}") from None
    settings = settings.for_daemon(schedule.period())  # a run's deadline, unless given
    if not settings.git_url:  # local files: a bad project file or --env fails at start
        from reconciler.source.workspace import workspace

        # the environment's server and token: the first client's (checked now), the page's
        settings = workspace(settings, args.files).settings
    daemon = Daemon(
        settings, list(args.files or ()), schedule, dry_run=settings.dry_run, grace=settings.grace
    )
    return daemon.serve(settings.listen, settings.allow_remote_sync)


def run(argv: Sequence[str], out: TextIO) -> int:
    args = build_parser().parse_args(normalise_argv(argv))
    if args.command == "schema":
        from reconciler.desired.loader import desired_json_schema
        from reconciler.desired.project import project_json_schema

        schema = project_json_schema() if args.project else desired_json_schema()
        out.write(json.dumps(schema, indent=2) + "\n")
        return ExitCode.OK
    if args.command == "options":
        out.write(options_markdown() if args.markdown else options_text())
        return ExitCode.OK
    settings = resolve(args)
    for secret in settings.secrets():
        register(secret)
    register_url(settings.api_url)
    out = RedactingStream(out, userinfo=args.command not in _DATA_OUTPUT)
    level = settings.log_level
    if args.command == "daemon" and "log_level" not in settings.given:
        level = "info"  # a daemon's run and change lines are its record of what it did
    logs.configure(level, settings.log_format, now=args.command == "daemon")
    if settings.env:
        from reconciler.core import log as core_log

        core_log.bind(env=settings.env)
    if args.command == "daemon":
        return cmd_daemon(args, settings)
    if args.command == "plan" and args.all_envs:
        from reconciler.cli.envs import plan_all

        return plan_all(args, settings, out)
    if args.command in ("plan", "apply"):
        from reconciler.cli.run import cmd_plan_or_apply

        return cmd_plan_or_apply(args, settings, out)
    if args.command == "report":
        from reconciler.cli.report import cmd_report

        return cmd_report(args, settings, out)
    from reconciler.cli import files

    if args.command == "discover":
        return files.cmd_discover(settings, out)
    if args.command == "import":
        return files.cmd_import(args, settings, out)
    if args.command == "validate":
        args.files = (args.files or []) + args.more_files
        return files.cmd_validate(args, out, settings)
    return files.cmd_export(settings, out, full=args.full)


def main(argv: Sequence[str] | None = None) -> int:
    """`run`, with every secret in force masked in whatever reaches stderr (stdout: `run`)."""
    argv = sys.argv[1:] if argv is None else argv
    stderr = sys.stderr
    sys.stderr = RedactingStream(stderr)  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stderr = stderr


def _main(argv: Sequence[str]) -> int:
    try:
        return int(run(argv, sys.stdout))
    except ReconcileError as exc:
        message = terminal(logs.redact(str(exc)), newlines=True)
        sys.stderr.write(f"error: {message}\n")
        if os.environ.get("GITHUB_ACTIONS") == "true":  # annotations on the PR's lines
            from reconciler.output.ci import annotate

            annotate(exc, message, sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: "
            f"{terminal(logs.redact(str(exc)), newlines=True)}\n"
            "Please report it; set RECONCILE_LOG_LEVEL=debug to see where.\n"
        )
        if logs.LEVELS.get(_env_log_level(), 30) <= 10:
            sys.stderr.write(logs.redact(traceback.format_exc()))
        return int(ExitCode.ERROR)


def entry() -> None:
    """The `reconcile` console script: `main`, then exit without tearing the heap down.

    A no-op plan of a large catalog holds a few hundred thousand objects at its end; freeing
    them one by one at interpreter exit costs ~0.2 s for nothing. Everything that matters is
    done by then (output flushed here, files closed by their `with` blocks, the lock released
    by the kernel with the file descriptor), so the process leaves with `os._exit`.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _env_log_level() -> str:
    return os.environ.get("RECONCILE_LOG_LEVEL", "warning")


if __name__ == "__main__":
    entry()
