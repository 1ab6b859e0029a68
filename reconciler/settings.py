"""Every setting, documented once: its flag, its environment variable, its default.

Precedence: command-line flag > environment > default. The README's configuration table is
generated from `OPTIONS` (`reconcile options --markdown`), so the two cannot drift apart.
The token is deliberately not an option: it comes from WALDUR_API_TOKEN or a token file only,
never from the command line (where `ps` and shell history would keep it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from .errors import ConfigError


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    is_bool: bool = False
    short: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def duration(text: str) -> float:
    """`90`, `90s`, `10m`, `2h`, `1d` → seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(text[-1:])
    number = text[:-1] if factor else text
    try:
        value = float(number) * (factor or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration like 90s, 10m or 2h") from None
    if value < 0:
        raise ValueError("a duration cannot be negative")
    return value


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


OPTIONS: dict[str, Option] = {
    o.dest: o
    for o in (
        Option(
            "--api-url",
            "WALDUR_API_URL",
            "",
            "Waldur API URL, e.g. https://waldur.example.org/api/",
        ),
        Option(
            "--token-file",
            "WALDUR_API_TOKEN_FILE",
            "",
            "file holding the API token (else the token is read from WALDUR_API_TOKEN)",
        ),
        Option(
            "--api-dialect",
            "RECONCILE_API_DIALECT",
            "auto",
            "target field names on the wire: legacy (cpu_family…), current (target_name…, "
            "Waldur ≥ 7.9.2) or auto (decided from what the server returns)",
            choices=("auto", "legacy", "current"),
        ),
        Option(
            "--output",
            "RECONCILE_OUTPUT",
            "text",
            "output format: text (coloured on a terminal unless NO_COLOR is set), json, or "
            "markdown (for a merge-request comment)",
            choices=("text", "json", "markdown"),
            short="-o",
        ),
        Option(
            "--out",
            "RECONCILE_OUT",
            "",
            "plan: also save the plan to this file, for `reconcile apply FILE`; export and "
            "import: the file to write, also `-o FILE` there (default: standard output)",
        ),
        Option(
            "--progress",
            "RECONCILE_PROGRESS",
            "auto",
            "apply: progress on stderr: auto (a bar on a terminal, a line every 5 s or 10% "
            "otherwise), bar, lines or none; never with --output json",
            choices=("auto", "bar", "lines", "none"),
        ),
        Option(
            "--catalog",
            "RECONCILE_CATALOG",
            "",
            "export: NAME or NAME@VERSION of a catalog to export, repeatable (comma-separated "
            "in the environment); default every catalog",
        ),
        Option(
            "--eessi-repository",
            "RECONCILE_EESSI_REPOSITORY",
            "software.eessi.io",
            "import eessi (API format): the CernVM-FS repository of the install paths",
        ),
        Option(
            "--detailed-exitcode",
            "RECONCILE_DETAILED_EXITCODE",
            False,
            "plan: exit 2 when there are changes (0 when none)",
            is_bool=True,
        ),
        Option(
            "--concurrency",
            "RECONCILE_CONCURRENCY",
            8,
            "requests in flight at once (pages of a listing, writes of one level)",
            type=_positive_int,
        ),
        Option(
            "--timeout",
            "RECONCILE_TIMEOUT",
            30.0,
            "seconds to wait for one HTTP answer",
            type=_positive_float,
        ),
        Option(
            "--max-attempts",
            "RECONCILE_MAX_ATTEMPTS",
            6,
            "tries of one request before giving up (retryable failures only)",
            type=_positive_int,
        ),
        Option(
            "--max-retry-time",
            "RECONCILE_MAX_RETRY_TIME",
            120.0,
            "seconds one request may spend retrying",
            type=_positive_float,
        ),
        Option(
            "--retry-backoff",
            "RECONCILE_RETRY_BACKOFF",
            0.5,
            "first retry delay in seconds (doubles each retry, with jitter)",
            type=_positive_float,
        ),
        Option(
            "--ca-bundle",
            "RECONCILE_CA_BUNDLE",
            "",
            "CA bundle file for TLS verification (default: the system's)",
        ),
        Option(
            "--allow-insecure-http",
            "RECONCILE_ALLOW_INSECURE_HTTP",
            False,
            "allow http:// to a host that is not loopback (the token travels in clear)",
            is_bool=True,
        ),
        Option(
            "--max-delete",
            "RECONCILE_MAX_DELETE",
            10,
            "mass-deletion guard: a plan may delete at most the larger of this many objects "
            "and --max-delete-percent of a catalog's live objects (cascaded children count)",
            type=int,
        ),
        Option(
            "--max-delete-percent",
            "RECONCILE_MAX_DELETE_PERCENT",
            10.0,
            "mass-deletion guard: percentage of a catalog's live objects",
            type=float,
        ),
        Option(
            "--lock-wait",
            "RECONCILE_LOCK_WAIT",
            30.0,
            "seconds to wait for another apply to the same API URL to finish",
            type=duration,
        ),
        Option(
            "--lock-dir",
            "RECONCILE_LOCK_DIR",
            "",
            "directory of the lock file (default: $XDG_RUNTIME_DIR or the temp directory)",
        ),
        Option(
            "--interval",
            "RECONCILE_INTERVAL",
            600.0,
            "daemon: time between runs (90s, 10m, 2h)",
            type=duration,
        ),
        Option(
            "--cron",
            "RECONCILE_CRON",
            "",
            "daemon: crontab schedule instead of --interval, e.g. '*/15 * * * *' (UTC)",
        ),
        Option(
            "--jitter",
            "RECONCILE_JITTER",
            0.0,
            "daemon: random delay of up to this long added to each run",
            type=duration,
        ),
        Option(
            "--listen",
            "RECONCILE_LISTEN",
            ("127.0.0.1", 9090),
            "daemon: HOST:PORT of /healthz, /readyz, /metrics and POST /sync",
            type=listen_address,
        ),
        Option(
            "--grace",
            "RECONCILE_GRACE",
            30.0,
            "daemon: on SIGTERM, how long a run in progress may take to stop",
            type=duration,
        ),
        Option(
            "--allow-remote-sync",
            "RECONCILE_ALLOW_REMOTE_SYNC",
            False,
            "daemon: accept POST /sync from other hosts than loopback",
            is_bool=True,
        ),
        Option(
            "--dry-run",
            "RECONCILE_DRY_RUN",
            False,
            "daemon: plan and report drift, never write",
            is_bool=True,
        ),
        Option(
            "--log-level",
            "RECONCILE_LOG_LEVEL",
            "warning",
            "log level (logs go to stderr); the daemon defaults to info",
            choices=("debug", "info", "warning", "error"),
        ),
        Option(
            "--log-format",
            "RECONCILE_LOG_FORMAT",
            "auto",
            "log format: console, json, or auto (console on a terminal, json otherwise)",
            choices=("auto", "console", "json"),
        ),
    )
}

COMMON = (
    "api_url",
    "token_file",
    "api_dialect",
    "output",
    "concurrency",
    "timeout",
    "max_attempts",
    "max_retry_time",
    "retry_backoff",
    "ca_bundle",
    "allow_insecure_http",
    "max_delete",
    "max_delete_percent",
    "lock_wait",
    "lock_dir",
    "log_level",
    "log_format",
)


def _env_value(option: Option, environ: Mapping[str, str]) -> Any:
    raw = environ.get(option.env)
    if raw is None or raw == "":
        return option.default
    if option.is_bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    try:
        value = option.type(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {option.env}={raw!r}: {exc}") from None
    if option.choices and value not in option.choices:
        raise ConfigError(
            f"environment variable {option.env}={raw!r}: choose from {', '.join(option.choices)}"
        )
    return value


DAEMON = ("interval", "cron", "jitter", "listen", "grace", "allow_remote_sync", "dry_run")


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add options; their defaults are None so `resolve` can tell 'not given' apart."""
    for name in names:
        o = OPTIONS[name]
        flags = [o.short, o.flag] if o.short else [o.flag]
        help_text = f"{o.help} [env {o.env}; default {_show(o.default)}]".replace("%", "%%")
        if o.is_bool:
            parser.add_argument(
                *flags, dest=o.dest, action="store_const", const=True, default=None, help=help_text
            )
        else:
            parser.add_argument(
                *flags, dest=o.dest, type=o.type, choices=o.choices, default=None, help=help_text
            )


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    token: SecretStr | None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Settings({dict(self.values)!r}, token={'***' if self.token else None})"


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, option in OPTIONS.items():
        given = getattr(args, name, None)
        values[name] = given if given is not None else _env_value(option, environ)
    return Settings(values, read_token(values["token_file"], environ))


def read_token(token_file: str, environ: Mapping[str, str]) -> SecretStr | None:
    if token_file:
        path = Path(token_file)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the token file {path}: "
                f"{getattr(exc, 'strerror', None) or type(exc).__name__}"
            ) from None
        if not text:
            raise ConfigError(f"the token file {path} is empty")
        return SecretStr(text)
    token = environ.get("WALDUR_API_TOKEN", "").strip()
    return SecretStr(token) if token else None


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ":".join(str(v) for v in value)
    return repr(value)


def options_markdown() -> str:
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for o in OPTIONS.values():
        flag = f"`{o.short}`, `{o.flag}`" if o.short else f"`{o.flag}`"
        choices = f" ({' / '.join(o.choices)})" if o.choices else ""
        rows.append(f"| {flag} | `{o.env}` | `{_show(o.default)}` | {o.help}{choices} |")
    return "\n".join(rows) + "\n"
