"""What the daemon's status page shows: the last runs, the drift, the last plan, the files.

`StatusBook` is filled by the loop as runs start and end (thread-safe: the HTTP server reads
it from its own threads) and gives one plain dict, `snapshot`, that `GET /status.json` returns
as it is and `GET /` renders (`statuspage`). Fields are documented in the README ("Status
page"). It never holds the token: the API URL is kept without credentials, and every error
text passes the log redaction that knows the token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.core.model import DesiredState, Kind, format_key
from reconciler.core.plan import Action, Plan
from reconciler.core.urls import public_url
from reconciler.engine.apply import ApplyResult, Status
from reconciler.output.logs import redact

FORMAT_VERSION = "1"
#: Runs kept (newest first on the page).
MAX_RUNS = 20
#: Changes of the last plan listed (the counts cover all of them).
MAX_CHANGES = 100
#: An error is kept to this many lines and characters.
MAX_ERROR_LINES = 12
MAX_ERROR_CHARS = 2000
LINKS = {"metrics": "/metrics", "readyz": "/readyz", "healthz": "/healthz", "json": "/status.json"}


def iso(when: float | datetime | None) -> str | None:
    """UTC, to the second: `2026-12-01T14:30:05Z`."""
    if when is None:
        return None
    moment = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def drift_by_kind(changes: Iterable[Any]) -> dict[str, int]:
    """Objects out of sync by kind, as `reconcile_drift_objects` counts them (a delete counts
    the objects the server removes with it)."""
    drift = dict.fromkeys((kind.label for kind in Kind), 0)
    for change in changes:
        extra = change.cascade if change.action is Action.DELETE else 0
        drift[change.kind.label] += 1 + extra
    return drift


@dataclass
class Run:
    run_id: str
    started: float
    dry_run: bool
    finished: float | None = None
    duration: float | None = None
    result: str = "running"
    planned: dict[str, int] = field(default_factory=dict)  # the plan's summary
    done: dict[str, int] = field(default_factory=dict)  # changes applied, by action
    not_done: dict[str, int] = field(default_factory=dict)  # failed, skipped, not attempted
    error: str = ""

    def json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": iso(self.started),
            "finished_at": iso(self.finished),
            "duration_s": None if self.duration is None else round(self.duration, 3),
            "result": self.result,
            "dry_run": self.dry_run,
            "planned": dict(self.planned),
            "changes": dict(self.done),
            "not_applicable": self.planned.get("not_applicable", 0),
            "not_done": dict(self.not_done),
            "error": self.error,
        }


class StatusBook:
    def __init__(
        self,
        files: Iterable[Path],
        *,
        dry_run: bool,
        api_url: str,
        schedule: dict[str, Any],
    ) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.arguments = [str(f) for f in files]
        self.dry_run = dry_run
        self.api_url = public_url(api_url) if api_url else ""
        self.schedule = dict(schedule)
        self.runs: deque[Run] = deque(maxlen=MAX_RUNS)
        self.files: list[dict[str, Any]] = []
        self.files_loaded: float | None = None
        self.files_error = ""
        self.plan: dict[str, Any] | None = None
        self.drift: dict[str, Any] | None = None
        self.environment = ""  # the project file's environment, if one was selected
        self.source: Callable[[], dict[str, Any] | None] = lambda: None  # the Git source
        self.loads: list[dict[str, Any]] = []  # the loader catalogs, as the last run left them

    # -- written by the loop --------------------------------------------------------------------
    def run_started(self, run_id: str, dry_run: bool) -> None:
        with self._lock:
            self.runs.append(Run(run_id, time.time(), dry_run))

    def desired_loaded(self, desired: DesiredState) -> None:
        files = [{"path": s, "sha256": _digest(s)} for s in desired.sources]
        with self._lock:
            self.files = files
            self.files_loaded = time.time()
            self.files_error = ""

    def desired_invalid(self, error: str) -> None:
        with self._lock:
            self.files_error = redact(error)

    def failed(self, error: str) -> None:
        """The run in progress failed with `error` (kept shortened, redacted)."""
        lines = error.strip().splitlines()
        text = "\n".join(lines[:MAX_ERROR_LINES])
        if len(lines) > MAX_ERROR_LINES:
            text += f"\n… and {len(lines) - MAX_ERROR_LINES} more lines"
        if len(text) > MAX_ERROR_CHARS:
            text = text[: MAX_ERROR_CHARS - 1] + "…"
        with self._lock:
            if self.runs and self.runs[-1].result == "running":
                self.runs[-1].error = redact(text)

    def run_finished(
        self,
        run_id: str,
        result: str,
        duration: float,
        plan: Plan | None,
        apply: ApplyResult | None,
    ) -> None:
        done: Counter[str] = Counter()
        not_done: Counter[str] = Counter()
        statuses: dict[int, str] = {}
        if apply is not None:
            for r in apply.results:
                statuses[id(r.change)] = r.status.value
                if r.status is Status.DONE:
                    done[r.change.action.value] += 1
                elif r.status is not Status.NOT_APPLICABLE:
                    not_done[r.status.value] += 1
        with self._lock:
            run = next((r for r in self.runs if r.run_id == run_id), None)
            if run is None:
                return
            run.finished = time.time()
            run.duration = duration
            run.result = result
            if result in ("success", "not_applicable"):
                run.error = ""
            run.done = {a.value: done[a.value] for a in Action if a is not Action.LOAD}
            if done[Action.LOAD.value]:
                run.done[Action.LOAD.value] = done[Action.LOAD.value]
            run.not_done = dict(not_done)
            if plan is not None:
                self.loads = load_states(plan, apply)
                run.planned = plan.summary()
                self.plan = self._plan(run, plan, statuses)
                self.drift = self._drift(run, plan, apply)

    def _plan(self, run: Run, plan: Plan, statuses: dict[int, str]) -> dict[str, Any]:
        changes = []
        for change in plan.changes[:MAX_CHANGES]:
            item: dict[str, Any] = {
                "action": change.action.value,
                "kind": change.kind.label,
                "object": redact(format_key(change.key)),
                "fields": [f.name for f in change.fields],
                "cascade": change.cascade,
                "applicable": change.applicable,
            }
            if not change.applicable:
                item["reason"] = change.reason
            if id(change) in statuses:
                item["status"] = statuses[id(change)]
            changes.append(item)
        return {
            "run_id": run.run_id,
            "at": iso(run.started),
            "dry_run": run.dry_run,
            "applied": not run.dry_run and bool(statuses),
            "summary": plan.summary(),
            "complete": plan.complete,
            "notes": [redact(n) for n in plan.notes],
            "changes": changes,
            "more": max(0, len(plan.changes) - MAX_CHANGES),
        }

    def _drift(self, run: Run, plan: Plan, apply: ApplyResult | None) -> dict[str, Any]:
        observed = drift_by_kind(plan.changes)
        if apply is None:
            left = observed
        else:
            done = {id(r.change) for r in apply.results if r.status is Status.DONE}
            left = drift_by_kind(c for c in plan.changes if id(c) not in done)
        return {
            "observed_at": iso(run.started),
            "at_observation": observed,
            "now": left,
            "total": sum(left.values()),
        }

    # -- read by the HTTP server ----------------------------------------------------------------
    def snapshot(
        self,
        *,
        healthy: bool,
        ready: tuple[bool, str],
        running: bool,
        next_run: datetime | None,
    ) -> dict[str, Any]:
        source = self.source()
        with self._lock:
            runs = [run.json() for run in reversed(self.runs)]
            return {
                "format_version": FORMAT_VERSION,
                "generated_at": iso(time.time()),
                "started_at": iso(self.started),
                "mode": "dry-run" if self.dry_run else "apply",
                "api_url": self.api_url,
                "environment": self.environment or None,
                "source": source,
                "schedule": dict(self.schedule),
                "next_run_at": iso(next_run),
                "running": running,
                "healthy": healthy,
                "ready": {"ready": ready[0], "reason": redact(ready[1])},
                "desired": {
                    "arguments": list(self.arguments),
                    "files": [dict(f) for f in self.files],
                    "loaded_at": iso(self.files_loaded),
                    "error": self.files_error,
                },
                "drift": None if self.drift is None else _copy(self.drift),
                "last_plan": None if self.plan is None else _copy(self.plan),
                "loads": [dict(item) for item in self.loads],
                "runs": runs,
                "links": dict(LINKS),
            }


def load_states(plan: Plan, apply: ApplyResult | None) -> list[dict[str, Any]]:
    """Each loader catalog as the run left it: ``state`` is ok, loading (a load runs on the
    server: the next runs check it), failed, unmet (expectations), never loaded, absent, or
    load (planned, not applied: a dry run)."""
    results = {id(r.change): r for r in apply.results} if apply is not None else {}
    loads = {c.key: c for c in plan.changes if c.action is Action.LOAD}
    found = []
    for key, line in sorted(plan.loaders.items()):
        state = plan.load_phases.get(key, "")
        change = loads.get(key)
        result = results.get(id(change)) if change is not None else None
        if result is not None:
            state = {"done": "ok", "unmet": "unmet"}.get(result.status.value, result.status.value)
        elif change is not None:
            state = "loading" if change.running else "load"
        if key in plan.gaps:
            state = "unmet"
        detail = result.message if result is not None and result.message else line
        found.append({"catalog": str(key), "state": state, "detail": redact(detail)})
    return found


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = dict(value)
        elif isinstance(value, list):
            out[key] = [dict(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out
