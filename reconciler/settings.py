"""Every setting, declared once: its flag, environment variable, type, default and help.

`Settings` is a frozen dataclass; each field is declared with `option(...)`, and that one
declaration gives the command-line flag (`add_options`), the environment variable and how its
text is parsed (`resolve`: a bad value is an error that names the variable or the flag), the
default, and the README's configuration table (`reconcile options --markdown`). Precedence:
flag > environment > default.

Why not pydantic-settings: it would do the same job, but importing it costs ~140 ms (it pulls
asyncio and pydantic's core), a third of a no-op run's start-up; these parsers are a few lines.

The token is deliberately not an option: it comes from WALDUR_API_TOKEN or a token file only,
never from the command line (where `ps` and shell history would keep it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.core.errors import ConfigError
from reconciler.core.options import (
    Option,
    boolean,
    duration,
    host_names,
    listen_address,
    option,
    percentage,
    positive_float,
    positive_int,
    whole_number,
)
from reconciler.core.redact import MIN_SECRET_LENGTH, check_token, url_password
from reconciler.core.secret import Secret

if TYPE_CHECKING:
    from .engine.runner import RunOptions
    from .remote.client import ClientConfig


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one command (see `resolve`)."""

    api_url: str = option(
        "--api-url", "WALDUR_API_URL", "", "Waldur API URL, e.g. https://waldur.example.org/api/"
    )
    token_file: str = option(
        "--token-file",
        "WALDUR_API_TOKEN_FILE",
        "",
        "file holding the API token (else the token is read from WALDUR_API_TOKEN)",
    )
    api_dialect: str = option(
        "--api-dialect",
        "RECONCILE_API_DIALECT",
        "auto",
        "target field names on the wire: legacy (cpu_family…), current (target_name…, "
        "Waldur ≥ 7.9.2) or auto (decided from what the server returns)",
        choices=("auto", "legacy", "current"),
    )
    output: str = option(
        "--output",
        "RECONCILE_OUTPUT",
        "text",
        "plan and apply: output format: text (coloured on a terminal unless NO_COLOR is set), "
        "json, or markdown (for a merge-request comment)",
        choices=("text", "json", "markdown"),
        short="-o",
    )
    out: str = option(
        "--out",
        "RECONCILE_OUT",
        "",
        "the file to write: plan: also save the plan there, for `reconcile apply FILE`; "
        "export and import: the desired-state file (default: standard output)",
    )
    progress: str = option(
        "--progress",
        "RECONCILE_PROGRESS",
        "auto",
        "apply: progress on stderr: auto (a bar on a terminal, a line every 5 s or 10% "
        "otherwise), bar, lines or none; never with --output json",
        choices=("auto", "bar", "lines", "none"),
    )
    catalog: str = option(
        "--catalog",
        "RECONCILE_CATALOG",
        "",
        "export: NAME or NAME@VERSION of a catalog to export, repeatable (comma-separated "
        "in the environment); default every catalog",
    )
    eessi_repository: str = option(
        "--eessi-repository",
        "RECONCILE_EESSI_REPOSITORY",
        "software.eessi.io",
        "import eessi (API format): the CernVM-FS repository of the install paths",
    )
    detailed_exitcode: bool = option(
        "--detailed-exitcode",
        "RECONCILE_DETAILED_EXITCODE",
        False,
        "plan: exit 2 when there are changes (0 when none); discover: exit 2 when a loader's "
        "source has a version the server has no catalog of",
        parse=boolean,
    )
    concurrency: int = option(
        "--concurrency",
        "RECONCILE_CONCURRENCY",
        8,
        "requests in flight at once (pages of a listing, writes of one level)",
        parse=positive_int,
    )
    timeout: float = option(
        "--timeout",
        "RECONCILE_TIMEOUT",
        30.0,
        "seconds one HTTP request may take in all: connecting, sending and every read of "
        "the answer (a server that drips its answer is cut off)",
        parse=positive_float,
    )
    run_timeout: float = option(
        "--run-timeout",
        "RECONCILE_RUN_TIMEOUT",
        0.0,
        "seconds a whole plan or apply may take (90s, 10m): then no request starts, reads "
        "end and writes in flight finish; 0: no limit; the daemon's default is the time "
        "between its runs (--interval, or --cron's period)",
        parse=duration,
    )
    max_list_objects: int = option(
        "--max-list-objects",
        "RECONCILE_MAX_LIST_OBJECTS",
        1_000_000,
        "a listing whose server claims more objects than this is refused as incomplete "
        "(the run stops, nothing is written)",
        parse=positive_int,
    )
    max_body_mib: int = option(
        "--max-body-mib",
        "RECONCILE_MAX_BODY_MIB",
        64,
        "the largest answer read from the server, in MiB; a larger one is refused unread",
        parse=positive_int,
    )
    max_attempts: int = option(
        "--max-attempts",
        "RECONCILE_MAX_ATTEMPTS",
        6,
        "tries of one request before giving up (retryable failures only)",
        parse=positive_int,
    )
    max_retry_time: float = option(
        "--max-retry-time",
        "RECONCILE_MAX_RETRY_TIME",
        120.0,
        "seconds one request may spend retrying",
        parse=positive_float,
    )
    retry_backoff: float = option(
        "--retry-backoff",
        "RECONCILE_RETRY_BACKOFF",
        0.5,
        "first retry delay in seconds (doubles each retry, with jitter)",
        parse=positive_float,
    )
    ca_bundle: str = option(
        "--ca-bundle",
        "RECONCILE_CA_BUNDLE",
        "",
        "CA bundle file for TLS verification (default: the system's)",
    )
    allow_insecure_http: bool = option(
        "--allow-insecure-http",
        "RECONCILE_ALLOW_INSECURE_HTTP",
        False,
        "allow http:// to a host that is not loopback (the token travels in clear)",
        parse=boolean,
    )
    max_delete: int = option(
        "--max-delete",
        "RECONCILE_MAX_DELETE",
        10,
        "mass-deletion guard: a plan may delete at most the larger of this many objects "
        "and --max-delete-percent of a catalog's live objects (cascaded children count)",
        parse=whole_number,
    )
    max_delete_percent: float = option(
        "--max-delete-percent",
        "RECONCILE_MAX_DELETE_PERCENT",
        10.0,
        "mass-deletion guard: percentage of a catalog's live objects",
        parse=percentage,
    )
    lock_wait: float = option(
        "--lock-wait",
        "RECONCILE_LOCK_WAIT",
        30.0,
        "seconds to wait for another apply to the same API URL to finish",
        parse=duration,
    )
    load_timeout: float = option(
        "--load-timeout",
        "RECONCILE_LOAD_TIMEOUT",
        600.0,
        "seconds apply waits for a catalog load by Waldur's loader (then exit 3: the next run "
        "checks it; the daemon never waits)",
        parse=duration,
    )
    lock_dir: str = option(
        "--lock-dir",
        "RECONCILE_LOCK_DIR",
        "",
        "directory of the lock file (default: $XDG_RUNTIME_DIR, else a directory of this "
        "user's own in the temp directory)",
    )
    interval: float = option(
        "--interval",
        "RECONCILE_INTERVAL",
        600.0,
        "daemon: time between runs (90s, 10m, 2h)",
        parse=duration,
    )
    cron: str = option(
        "--cron",
        "RECONCILE_CRON",
        "",
        "daemon: crontab schedule instead of --interval, e.g. '*/15 * * * *' (UTC)",
    )
    jitter: float = option(
        "--jitter",
        "RECONCILE_JITTER",
        0.0,
        "daemon: random delay of up to this long added to each run",
        parse=duration,
    )
    listen: tuple[str, int] = option(
        "--listen",
        "RECONCILE_LISTEN",
        ("127.0.0.1", 9090),
        "daemon: HOST:PORT of the status page (/, /status.json), /healthz, /readyz, /metrics "
        "and POST /sync",
        parse=listen_address,
    )
    grace: float = option(
        "--grace",
        "RECONCILE_GRACE",
        30.0,
        "daemon: on SIGTERM, how long a run in progress may take to stop",
        parse=duration,
    )
    allow_remote_sync: bool = option(
        "--allow-remote-sync",
        "RECONCILE_ALLOW_REMOTE_SYNC",
        False,
        "daemon: accept POST /sync from other hosts than loopback",
        parse=boolean,
    )
    allowed_hosts: tuple[str, ...] = option(
        "--allowed-hosts",
        "RECONCILE_ALLOWED_HOSTS",
        (),
        "daemon: host names (HOST or HOST:PORT, comma-separated) under which POST /sync is "
        "accepted, besides IP addresses and localhost; a request naming another Host gets 403 "
        "(a web page cannot trigger runs by DNS rebinding)",
        parse=host_names,
    )
    sync_token: str = option(
        None,
        "RECONCILE_SYNC_TOKEN",
        "",
        "daemon: when set, POST /sync needs the header `Authorization: Bearer TOKEN` (401 "
        "without, 403 with another); at least 12 characters; environment only, never a flag",
    )
    dry_run: bool = option(
        "--dry-run",
        "RECONCILE_DRY_RUN",
        False,
        "daemon: plan and report drift, never write",
        parse=boolean,
    )
    log_level: str = option(
        "--log-level",
        "RECONCILE_LOG_LEVEL",
        "warning",
        "log level (logs go to stderr); the daemon defaults to info",
        choices=("debug", "info", "warning", "error"),
    )
    log_format: str = option(
        "--log-format",
        "RECONCILE_LOG_FORMAT",
        "auto",
        "log format: console, json, or auto (console on a terminal, json otherwise)",
        choices=("auto", "console", "json"),
    )
    env: str = option(
        "--env",
        "RECONCILE_ENV",
        "",
        "the environment of the project file (reconcile.yaml) to work on: its server, token "
        "source, files and values",
    )
    project: str = option(
        "--project",
        "RECONCILE_PROJECT",
        "",
        "the project file declaring the environments (default: reconcile.yaml at the root "
        "of the files, if there is one)",
    )
    git_url: str = option(
        "--git-url",
        "RECONCILE_GIT_URL",
        "",
        "read the desired files from this Git repository (https:// or ssh://), one commit "
        "per run; -f paths are then inside the repository",
    )
    git_ref: str = option(
        "--git-ref", "RECONCILE_GIT_REF", "main", "Git source: the branch or tag to apply"
    )
    git_path: str = option(
        "--git-path",
        "RECONCILE_GIT_PATH",
        "",
        "Git source: the directory inside the repository that holds the files",
    )
    git_token_file: str = option(
        "--git-token-file",
        "RECONCILE_GIT_TOKEN_FILE",
        "",
        "Git source over HTTPS: file holding the token (else RECONCILE_GIT_TOKEN, if set)",
    )
    git_username: str = option(
        "--git-username",
        "RECONCILE_GIT_USERNAME",
        "x-access-token",
        "Git source over HTTPS: the user name sent with the token (GitLab: oauth2)",
    )
    git_ssh_key: str = option(
        "--git-ssh-key", "RECONCILE_GIT_SSH_KEY", "", "Git source over SSH: the private key file"
    )
    git_known_hosts: str = option(
        "--git-known-hosts",
        "RECONCILE_GIT_KNOWN_HOSTS",
        "",
        "Git source over SSH: the pinned known_hosts file (hosts not in it are refused)",
    )
    git_allowed_signers: str = option(
        "--git-allowed-signers",
        "RECONCILE_GIT_ALLOWED_SIGNERS",
        "",
        "Git source: apply only commits signed by a key in this allowed-signers file (SSH "
        "signatures)",
    )
    git_gpg_home: str = option(
        "--git-gpg-home",
        "RECONCILE_GIT_GPG_HOME",
        "",
        "Git source: apply only commits signed by a key of this GnuPG home's keyring",
    )
    git_cache: str = option(
        "--git-cache",
        "RECONCILE_GIT_CACHE",
        "",
        "Git source: the cache directory (default: $XDG_CACHE_HOME/waldur-catalog-reconciler/git)",
    )
    notify: str = option(
        "--notify",
        "RECONCILE_NOTIFY",
        "",
        "daemon: Apprise notification URLs, comma-separated (they hold secrets: prefer the "
        "environment variable); sent when drift, failures or refused commits start and end",
    )
    status_url: str = option(
        "--status-url",
        "RECONCILE_STATUS_URL",
        "",
        "daemon: the status page's address as people reach it, for links in notifications "
        "(default: the --listen address)",
    )
    #: Not options: the token (never a flag), and which options were given (flag or env).
    token: Secret | None = field(default=None, repr=False)
    given: frozenset[str] = field(default=frozenset(), repr=False)

    def with_token(self, token: Secret | None) -> Settings:
        return replace(self, token=token)

    def secrets(self) -> list[str]:
        """The secrets these settings hold, for `reconciler.core.redact` (one too short to mask
        is left out: it is refused before it is ever sent, see `check_token`)."""
        found = [self.sync_token]
        if self.token is not None:
            found.append(self.token.get_secret_value())
        return [s for s in found if len(s) >= MIN_SECRET_LENGTH]

    def for_daemon(self, period: float) -> Settings:
        """The daemon's settings: a run's deadline is the schedule's `period` (the interval,
        or the time between a cron schedule's runs) unless given."""
        if "run_timeout" in self.given:
            return self
        return replace(self, run_timeout=period)

    def client_config(self) -> ClientConfig:
        """The client's settings; a token too short to be masked safely is refused here."""
        from .remote.client import ClientConfig

        if self.token is not None:
            try:
                check_token(self.token.get_secret_value())
            except ValueError as exc:
                where = self.token_file or "WALDUR_API_TOKEN"
                raise ConfigError(f"{where}: {exc}") from None
        password = url_password(self.api_url)
        if password:
            try:
                check_token(password, "the password in the API URL")
            except ValueError as exc:
                raise ConfigError(f"--api-url: {exc}") from None
        return ClientConfig(
            api_url=self.api_url,
            token=self.token,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            max_retry_seconds=self.max_retry_time,
            backoff_seconds=self.retry_backoff,
            verify=self.ca_bundle or True,
            allow_insecure_http=self.allow_insecure_http,
            concurrency=self.concurrency,
            max_list_objects=self.max_list_objects,
            max_body_bytes=self.max_body_mib << 20,
        )

    def run_options(self) -> RunOptions:
        from .engine.runner import RunOptions

        return RunOptions(
            api_dialect=self.api_dialect,
            concurrency=self.concurrency,
            max_delete=self.max_delete,
            max_delete_percent=self.max_delete_percent,
            lock_wait=self.lock_wait,
            lock_dir=self.lock_dir,
            run_timeout=self.run_timeout,
            load_timeout=self.load_timeout,
        )


def _declared() -> dict[str, Option]:
    found = {}
    for item in fields(Settings):
        spec = item.metadata.get("option")
        if spec is not None:
            default = item.default if item.default is not MISSING else None
            found[item.name] = Option(name=item.name, default=default, **spec)
    return found


#: Every option, by its `Settings` field name, in declaration order.
OPTIONS: dict[str, Option] = _declared()

COMMON = (
    "api_url",
    "token_file",
    "api_dialect",
    "output",
    "concurrency",
    "timeout",
    "run_timeout",
    "max_list_objects",
    "max_body_mib",
    "max_attempts",
    "max_retry_time",
    "retry_backoff",
    "ca_bundle",
    "allow_insecure_http",
    "max_delete",
    "max_delete_percent",
    "lock_wait",
    "lock_dir",
    "load_timeout",
    "log_level",
    "log_format",
)
DAEMON = (
    "interval",
    "cron",
    "jitter",
    "listen",
    "grace",
    "allow_remote_sync",
    "allowed_hosts",
    "sync_token",
    "dry_run",
)
#: Where the files come from: the project's environment and the Git source.
SOURCE = (
    "env",
    "project",
    "git_url",
    "git_ref",
    "git_path",
    "git_token_file",
    "git_username",
    "git_ssh_key",
    "git_known_hosts",
    "git_allowed_signers",
    "git_gpg_home",
    "git_cache",
)
NOTIFY = ("notify", "status_url")
#: What reading a server needs (export): COMMON without what only plans and applies use.
READ = tuple(
    name
    for name in COMMON
    if name
    not in (
        "output",
        "max_delete",
        "max_delete_percent",
        "lock_wait",
        "lock_dir",
        "run_timeout",
        "load_timeout",
    )
)


def _flag_type(o: Option) -> Callable[[str], Any]:
    """The option's parser for argparse, whose message then names the flag."""

    def parse(text: str) -> Any:
        try:
            return o.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = o.name
    return parse


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add options; their defaults are None so `resolve` can tell 'not given' apart."""
    for name in names:
        o = OPTIONS[name]
        if o.flag is None:
            continue  # environment only
        flags = [o.short, o.flag] if o.short else [o.flag]
        help_text = f"{o.help} [env {o.env}; default {_show(o.default)}]".replace("%", "%%")
        if o.is_bool:
            parser.add_argument(
                *flags, dest=o.name, action="store_const", const=True, default=None, help=help_text
            )
        else:
            parser.add_argument(
                *flags,
                dest=o.name,
                type=_flag_type(o),
                choices=o.choices,
                default=None,
                help=help_text,
            )


def _env_value(o: Option, raw: str) -> Any:
    try:
        value = o.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {o.env}={raw!r}: {exc}") from None
    if o.choices and value not in o.choices:
        raise ConfigError(
            f"environment variable {o.env}={raw!r}: choose from {', '.join(o.choices)}"
        )
    return value


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Flag > environment > default, for every option; then the token."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    given = set()
    for name, o in OPTIONS.items():
        flag_value = getattr(args, name, None)
        raw = environ.get(o.env, "")
        if flag_value is not None:
            values[name] = flag_value
        elif raw != "":
            values[name] = _env_value(o, raw)
        else:
            continue
        given.add(name)
    settings = Settings(**values, given=frozenset(given))
    return settings.with_token(read_token(settings.token_file, environ))


def read_token(token_file: str, environ: Mapping[str, str]) -> Secret | None:
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
        return Secret(text)
    token = environ.get("WALDUR_API_TOKEN", "").strip()
    return Secret(token) if token else None


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ":".join(str(v) for v in value) if value else "''"
    return repr(value)


def _flags(o: Option, mark: str = "") -> str:
    if o.flag is None:
        return "(environment only)"
    return ", ".join(f"{mark}{f}{mark}" for f in (o.short, o.flag) if f)


def options_markdown() -> str:
    """The configuration table of docs/reference/configuration.md."""
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for o in OPTIONS.values():
        flag = _flags(o, "`")
        choices = f" ({' / '.join(o.choices)})" if o.choices else ""
        rows.append(f"| {flag} | `{o.env}` | `{_show(o.default)}` | {o.help}{choices} |")
    return "\n".join(rows) + "\n"


def options_text() -> str:
    """The same, for a terminal: one block per option."""
    blocks = []
    for o in OPTIONS.values():
        flag = _flags(o)
        choices = f" ({' / '.join(o.choices)})" if o.choices else ""
        blocks.append(f"{flag}  [env {o.env}; default {_show(o.default)}]\n    {o.help}{choices}")
    return "\n".join(blocks) + "\n"
