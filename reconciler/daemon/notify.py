"""Notifications (Apprise): told when something starts or stops being wrong, not every run.

Conditions and their messages (one when a condition starts, one when it ends):

- ``drift``: the server differs from the files ("drift found" / "back in sync");
- ``run``: a run failed ("apply failed" / "recovered");
- ``commit refused``: a commit's signature is missing or not allowed ("commit refused" /
  "… applied");
- ``catalog load failed: NAME``: a loader catalog's load failed (`Notifier.condition` is the
  hook: ``notifier.condition(f"{LOAD_FAILED}: {name}", failing, message)``).

A condition that is fine at the first run says nothing. Each message names the environment,
the server, the commit, the plan's summary and links to the status page. The URLs hold secrets
(webhook tokens, passwords): they are registered with the log redactor and never printed;
a failed notification is logged (with the service's scheme and host only) and counted in
``reconcile_notifications_total{result="failed"}``, never fatal. Sending happens on a worker
thread, off the run's path.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import structlog
from prometheus_client import CollectorRegistry, Counter

from reconciler.core.errors import ConfigError
from reconciler.output.logs import redact, register_secret

log = structlog.get_logger("reconciler.notify")
LOAD_FAILED = "catalog load failed"
_STARTS = {"drift": "drift found", "run": "apply failed"}
_ENDS = {"drift": "back in sync", "run": "recovered", "commit refused": "signed commit applied"}


def split_urls(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def shown(url: str) -> str:
    """`url` as it may be printed: the scheme and host only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


class Notifier:
    def __init__(
        self,
        urls: list[str],
        registry: CollectorRegistry,
        *,
        environment: str = "",
        api_url: str = "",
        status_url: str = "",
        context: Callable[[], Mapping[str, Any]] = dict,
    ) -> None:
        self.urls = urls
        for url in urls:
            register_secret(url)
            register_secret(urlsplit(url).password)
        self.environment = environment
        self.api_url = api_url
        self.status_url = status_url
        self.context = context  # e.g. the commit, read when a message is made
        self.states: dict[str, bool] = {}
        self.sent = Counter(
            "reconcile_notifications",
            "Notifications by result (sent, failed), one per message and service",
            ["result"],
            registry=registry,
        )
        for result in ("sent", "failed"):
            self.sent.labels(result)
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=100)
        self._services: list[tuple[str, Any]] = []
        self._thread: threading.Thread | None = None
        if urls:
            self._start()

    def _start(self) -> None:
        import apprise

        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)  # it may print URLs
        self._services = []
        for url in self.urls:
            service = apprise.Apprise()
            if not service.add(url):
                raise ConfigError(f"not a notification URL Apprise knows: {shown(url)}…")
            self._services.append((shown(url), service))
        self._thread = threading.Thread(target=self._work, name="notify", daemon=True)
        self._thread.start()

    # -- conditions -----------------------------------------------------------------------------
    def condition(self, name: str, failing: bool, message: str) -> None:
        """Record the state of `name`; send a message when it changes (see the module doc)."""
        before = self.states.get(name)
        self.states[name] = failing
        if before is None and not failing:
            return
        if before == failing:
            return
        title = _STARTS.get(name, name) if failing else _ENDS.get(name, f"{name}: fixed")
        self.send(title, message)

    def after_run(self, result: str, summary: Mapping[str, int] | None, error: str) -> None:
        """The conditions a finished run decides: drift (when the server was observed) and
        the run's own failure."""
        if summary is not None:
            drift = sum(summary.get(a, 0) for a in ("create", "update", "delete"))
            self.condition("drift", drift > 0, _summary(summary))
        failed = result in ("failure", "refused")
        self.condition("run", failed, error if failed else "the last run succeeded")

    # -- sending --------------------------------------------------------------------------------
    def send(self, title: str, message: str) -> None:
        if not self.urls:
            return
        head = f"[reconcile{' ' + self.environment if self.environment else ''}] {title}"
        lines = [message.strip()]
        if self.environment:
            lines.append(f"Environment: {self.environment}")
        if self.api_url:
            lines.append(f"Server: {self.api_url}")
        for key, value in self.context().items():
            if value:
                lines.append(f"{key}: {value}")
        if self.status_url:
            lines.append(f"Status: {self.status_url}")
        try:
            self._queue.put_nowait((head, redact("\n".join(lines))))
        except queue.Full:
            self.sent.labels("failed").inc()
            log.error("notification dropped: the queue is full", title=title)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            title, body = item
            for name, service in self._services:
                try:
                    ok = bool(service.notify(title=title, body=body))
                except Exception as exc:  # never let a notifier take the daemon down
                    ok = False
                    log.error("notification failed", error=redact(str(exc)))
                self.sent.labels("sent" if ok else "failed").inc()
                if ok:
                    log.info("notification sent", title=title, service=name)
                else:
                    log.error("notification failed", title=title, service=name)

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)


def _summary(summary: Mapping[str, int]) -> str:
    counts = " · ".join(f"{summary.get(a, 0)} to {a}" for a in ("create", "update", "delete"))
    return f"Plan: {counts}"
