"""Logging: structlog to stderr, console on a terminal, JSON lines otherwise; secrets redacted.

`configure` sets the level at once but configures structlog (and imports it) only when the
first event at that level is emitted (see `reconciler.core.log`). The client never puts the
token into a log event; the redacting renderer is a second line of defence that masks every
registered secret (`reconciler.core.redact`) wherever it would appear in a rendered line.
Console lines show the events' text with control characters escaped (a name from the server
cannot move the cursor); JSON lines escape them by themselves.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from reconciler.core import log as core_log
from reconciler.core import redact as _redact
from reconciler.output.escape import terminal

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def register_secret(value: str | None) -> None:
    _redact.register(value)


def redact(text: str) -> str:
    return _redact.redact(text)


def _escape_controls(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Console lines: every text value with its control characters shown escaped."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = terminal(value, newlines=key == "exception")
    return event


class _RedactingRenderer:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, logger: Any, name: str, event: dict[str, Any]) -> str:
        return redact(self.inner(logger, name, event))


def configure(
    level: str = "warning",
    fmt: str = "auto",
    stream: TextIO | None = None,
    secrets: Iterable[str | None] = (),
    *,
    now: bool = False,
) -> None:
    """Log at `level` and above to `stream` (stderr) in `fmt`. structlog is set up on the
    first event, or at once with `now` (the daemon, whose own code logs through structlog)."""
    stream = stream or sys.stderr
    for secret in secrets:
        register_secret(secret)
    ready = False

    def backend(name: str) -> Any:
        nonlocal ready
        import structlog

        if not ready:
            _configure_structlog(level, fmt, stream)
            ready = True
        return structlog.get_logger(name)

    core_log.set_backend(LEVELS[level], backend)
    if now:
        backend("reconciler")


def _configure_structlog(level: str, fmt: str, stream: TextIO) -> None:
    import structlog

    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer: Any
    escape: list[Any] = []
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
        escape = [_escape_controls]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            core_log.add_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *escape,
            _RedactingRenderer(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
