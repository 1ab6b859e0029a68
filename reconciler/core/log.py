"""Logging for every layer, free until an event is actually emitted.

Modules write ``log = get_logger("reconciler.apply")`` and ``log.info("event", key=value)``.
Each call first compares its level with the configured one (an integer test); only an event
at an enabled level reaches the backend, which `reconciler.output.logs.configure` installs and
which imports and configures structlog on its first use. A one-shot `reconcile plan` logs
nothing at the default level (warning), so it never imports structlog, nor what structlog
pulls in (asyncio, and rich where it is installed): about 0.1 to 0.2 s of start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40

Backend = Callable[[str], Any]  # logger name → a structlog-like bound logger


class _Stdlib:
    """Until `output.logs.configure` runs (a library user, a test): the standard library's
    logging, with the event's fields appended as key=value."""

    def __init__(self, name: str) -> None:
        import logging

        self.logger = logging.getLogger(name)

    def __getattr__(self, method: str) -> Callable[..., None]:
        def emit(event: str, **fields: Any) -> None:
            pairs = " ".join(f"{key}={value!r}" for key, value in fields.items())
            getattr(self.logger, method)(f"{event} {pairs}".rstrip())

        return emit


def _default_backend(name: str) -> Any:
    return _Stdlib(name)


class _State:
    level: int = WARNING
    backend: Backend = staticmethod(_default_backend)  # type: ignore[assignment]
    context: dict[str, Any] = {}  # noqa: RUF012 (fields of every event: `bind`)


def bind(**fields: Any) -> None:
    """Add `fields` to every event from now on (e.g. the environment)."""
    _State.context = {**_State.context, **fields}


def add_context(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: the `bind` fields in every event, from every thread."""
    for key, value in _State.context.items():
        event.setdefault(key, value)
    return event


def set_backend(level: int, backend: Backend) -> None:
    """Route events at `level` and above to `backend` (called by `output.logs.configure`)."""
    _State.level = level
    _State.backend = backend  # type: ignore[assignment]


def enabled(level: int) -> bool:
    return level >= _State.level


class Logger:
    """A structlog-shaped logger that costs one comparison when its level is off."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def _emit(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        if level >= _State.level:
            if _State.context:
                fields = {**_State.context, **fields}
            getattr(_State.backend(self.name), method)(event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(DEBUG, "debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(ERROR, "error", event, fields)


def get_logger(name: str) -> Logger:
    return Logger(name)
