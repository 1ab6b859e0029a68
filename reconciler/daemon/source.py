"""Where each daemon run reads its files: the Git source's commit (or the local files), the
project file's environment, and what the page, the metrics and the logs say about it.

`DaemonSource.prepare` runs at the start of every run. With a Git source it fetches; a commit
that cannot be fetched or is refused (unsigned, unknown key) leaves the last good commit
applied: the run goes on with that commit's files, readiness stays up, and a counter, the
status page and a log line say what happened. Only without any good commit yet does the run
fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from reconciler.output.logs import redact
from reconciler.settings import Settings
from reconciler.source.git import Checkout, CommitRefused, FetchFailed, GitSource
from reconciler.source.workspace import Workspace, git_source, workspace

log = structlog.get_logger("reconciler.daemon")
#: Called on a change of a condition: (name, failing, message).
Notify = Callable[[str, bool, str], None]


class SourceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.info = Gauge(
            "reconcile_source_info",
            "The commit the daemon applies (1 for the current one)",
            ["revision", "ref", "url"],
            registry=registry,
        )
        self.fetch_failures = Counter(
            "reconcile_source_fetch_failures",
            "Fetches of the Git source that failed (the last good commit stayed applied)",
            registry=registry,
        )
        self.refused = Counter(
            "reconcile_source_commits_refused",
            "Commits not applied because their signature is missing or not allowed",
            registry=registry,
        )
        self.last_fetch = Gauge(
            "reconcile_source_last_fetch_success_timestamp_seconds",
            "Unix time of the last successful fetch of the Git source",
            registry=registry,
        )


class DaemonSource:
    def __init__(
        self,
        settings: Settings,
        files: Sequence[Path] | None,
        registry: CollectorRegistry,
        notify: Notify,
    ) -> None:
        self.files = list(files or ())
        self.git: GitSource | None = git_source(settings)
        self.metrics = SourceMetrics(registry)
        self.notify = notify
        self.checkout: Checkout | None = None
        self.error = ""
        self.error_at: float | None = None
        self.refused: str = ""  # the sha of the last refused commit

    def prepare(self, settings: Settings) -> Workspace:
        """The workspace of this run (see the module docstring)."""
        if self.git is not None:
            self._fetch(self.git)
        return workspace(settings, self.files, self.checkout)

    def _fetch(self, git: GitSource) -> None:
        try:
            checkout = git.update()
        except CommitRefused as exc:
            self.metrics.refused.inc()
            self._failed(str(exc))
            if exc.sha != self.refused:
                self.refused = exc.sha
                self.notify("commit refused", True, redact(str(exc)))
            if self.checkout is None:
                raise
            return
        except FetchFailed as exc:
            self.metrics.fetch_failures.inc()
            self._failed(str(exc))
            if self.checkout is None:
                raise
            return
        self.metrics.last_fetch.set(time.time())
        self.error, self.error_at = "", None
        if self.refused:
            self.refused = ""
            self.notify("commit refused", False, f"commit {checkout.commit.sha[:12]} is applied")
        previous = self.checkout
        self.checkout = checkout
        if previous is None or previous.commit.sha != checkout.commit.sha:
            if previous is not None:
                self.metrics.info.remove(previous.commit.sha, previous.ref, previous.url)
            self.metrics.info.labels(checkout.commit.sha, checkout.ref, checkout.url).set(1)
            log.info(
                "source commit",
                revision=checkout.commit.sha,
                subject=checkout.commit.subject,
                author=checkout.commit.author,
                signed_by=checkout.commit.signed_by or None,
                previous=previous.commit.sha if previous is not None else None,
            )

    def _failed(self, message: str) -> None:
        self.error, self.error_at = redact(message), time.time()
        kept = f"; keeping commit {self.checkout.commit.sha[:12]}" if self.checkout else ""
        log.warning("source not updated" + kept, error=self.error)

    def status(self) -> dict[str, Any] | None:
        """The ``source`` of /status.json (None for local files)."""
        if self.git is None:
            return None
        c = self.git.config
        data: dict[str, Any] = {
            "url": self.checkout.url if self.checkout else redact(c.url),
            "ref": c.ref,
            "path": c.path,
            "verification": "allowed signers" if self.git.verifier.active else "off",
            "commit": self.checkout.commit.json() if self.checkout else None,
            "error": self.error,
            "error_at": self.error_at,
            "fetches": self.git.fetches,
        }
        return data
