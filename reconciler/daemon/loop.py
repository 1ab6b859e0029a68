"""`reconcile daemon`: observe → plan → apply on a schedule, with health, metrics and logs.

- APScheduler 3.x runs one job: first run at start, `max_instances=1` (never two runs at once),
  `coalesce=True` (missed runs fold into one), optional jitter. While runs fail, the next one
  is pulled in with exponential backoff, capped at the interval.
- Every run re-reads the desired files. A file that became invalid keeps the last good
  desired state for reporting, makes the run a failure and causes no writes.
- `--dry-run` turns it into a drift detector: plans and reports, never writes.
- SIGTERM/SIGINT: no new run; a run in progress stops between changes within the grace period;
  exit 0. SIGHUP: re-read the token file and run now. The new token is registered with the
  redactor before anything is logged, and goes into a new client for the *next* run: a run in
  flight finishes with the client it started with, so a reload never breaks a run and the
  run's record counts every write it made. A token file that cannot be read, or holds a token
  too short, is refused: the daemon keeps the token it has.
- Each run takes its client when it starts, from its own settings: the environment's server
  and token (``--env``, read from the project file at every run), the token a SIGHUP re-read.
  A client whose server or token is no longer the run's is closed and replaced; the request
  counters go on across clients.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reconciler.core.errors import ConfigError, ExitCode, InputError, ReconcileError
from reconciler.core.model import DesiredState
from reconciler.core.redact import check_token, register
from reconciler.core.urls import public_url
from reconciler.daemon.http import StatusServer
from reconciler.daemon.metrics import DaemonMetrics, label_all
from reconciler.daemon.notify import LOAD_FAILED, Notifier, split_urls
from reconciler.daemon.source import DaemonSource
from reconciler.daemon.status import StatusBook, drift_by_kind, load_states
from reconciler.daemon.syncguard import SyncGuard
from reconciler.engine.apply import Status
from reconciler.engine.runner import Hooks, Outcome, load, reconcile_once
from reconciler.remote.client import ClientConfig, ClientStats, WaldurClient
from reconciler.settings import Settings, read_token

log = structlog.get_logger("reconciler.daemon")
JOB = "reconcile"


@dataclass(frozen=True)
class Schedule:
    interval: float | None = 600.0
    cron: str | None = None
    jitter: float = 0.0

    def trigger(self) -> BaseTrigger:
        jitter = int(self.jitter) or None
        if self.cron:
            trigger = CronTrigger.from_crontab(self.cron, timezone=UTC)
            trigger.jitter = jitter
            return trigger
        return IntervalTrigger(seconds=self.interval or 600.0, jitter=jitter, timezone=UTC)

    def period(self) -> float:
        """Seconds between runs (for a cron schedule: between its next two fire times)."""
        if not self.cron:
            return self.interval or 600.0
        trigger = CronTrigger.from_crontab(self.cron, timezone=UTC)
        now = datetime.now(UTC)
        first = trigger.get_next_fire_time(None, now)
        second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        return (second - first).total_seconds() if first and second else 3600.0


@dataclass
class RunState:
    running: bool = False
    last_ok: bool | None = None
    last_finished: float | None = None
    last_observation_ok: bool = False
    failures: int = 0
    last_error: str = ""


class Daemon:
    def __init__(
        self,
        settings: Settings,
        files: list[Path],
        schedule: Schedule,
        *,
        dry_run: bool = False,
        grace: float = 30.0,
    ) -> None:
        self.settings = settings
        self.files = files
        self.schedule = schedule
        self.dry_run = dry_run
        self.grace = grace
        self.state = RunState()
        self.desired: DesiredState | None = None
        self.stop = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.stats = ClientStats()  # every client's request counters
        self.client: WaldurClient | None = None  # the last run's; the next one's if still right
        if settings.api_url or not settings.env:  # else the first run's project file says
            self.client = self._client(settings.client_config())  # a bad one fails at start
        self.metrics = DaemonMetrics(lambda: self.stats)
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self._lock = threading.Lock()
        self.notifier = Notifier(
            split_urls(settings.notify),
            self.metrics.registry,
            environment=settings.env,
            api_url=public_url(settings.api_url) if settings.api_url else "",
            status_url=settings.status_url,
            context=self._notify_context,
        )
        self.source = DaemonSource(settings, files, self.metrics.registry, self.notifier.condition)
        self.book = StatusBook(
            files,
            dry_run=dry_run,
            api_url=settings.api_url,
            schedule={
                "interval_s": None if schedule.cron else (schedule.interval or 600.0),
                "cron": schedule.cron or None,
                "jitter_s": schedule.jitter,
            },
        )
        self.book.environment = settings.env
        self.book.source = self.source.status

    # -- health -------------------------------------------------------------------------------
    def healthy(self) -> bool:
        return self.scheduler.running and not self.stop.is_set()

    def ready(self) -> tuple[bool, str]:
        s = self.state
        if s.last_finished is None:
            return False, "no run has finished yet"
        if not s.last_ok:
            return False, f"the last run failed: {s.last_error}"
        if not s.last_observation_ok:
            return False, "the last observation of the server failed"
        age = time.time() - s.last_finished
        if age > 2 * self.schedule.period():
            return False, f"the last run finished {age:.0f}s ago (more than twice the interval)"
        return True, "ok"

    def metrics_text(self) -> bytes:
        return label_all(self.metrics.render(), "env", self.settings.env)

    def status(self) -> dict[str, Any]:
        """What `GET /status.json` and `GET /` show (see `daemon.status`)."""
        job = self.scheduler.get_job(JOB) if self.scheduler.running else None
        return self.book.snapshot(
            healthy=self.healthy(),
            ready=self.ready(),
            running=self.state.running,
            next_run=job.next_run_time if job is not None else None,
        )

    def request_sync(self) -> bool:
        """Run now (POST /sync); False if a run is already in progress."""
        if self.state.running:
            return False
        self.scheduler.modify_job(JOB, next_run_time=datetime.now(UTC))
        return True

    # -- one run ---------------------------------------------------------------------------------
    def run(self) -> None:
        if self.stop.is_set():
            return
        with self._lock:
            self.state.running = True
            self.idle.clear()
        run_id = uuid.uuid4().hex[:12]
        structlog.contextvars.bind_contextvars(run_id=run_id)
        started = time.monotonic()
        result = "failure"
        outcome: Outcome | None = None
        self.book.run_started(run_id, self.dry_run)
        try:
            log.info("run start", dry_run=self.dry_run, files=[str(f) for f in self.files])
            outcome = self._reconcile()
            result = self._record(outcome)
        except ReconcileError as exc:
            self._fail(exc)
        except Exception as exc:  # keep the daemon alive whatever happens in one run
            self._fail(exc, unexpected=True)
        finally:
            if outcome is None:  # ended before it observed: the server's state is not known
                self.state.last_observation_ok = False
            elapsed = time.monotonic() - started
            self.metrics.runs.labels(result).inc()
            self.metrics.duration.observe(elapsed)
            self.state.last_finished = time.time()
            self.book.run_finished(
                run_id,
                result,
                elapsed,
                outcome.plan if outcome is not None else None,
                outcome.result if outcome is not None else None,
            )
            log.info(
                "run end",
                result=result,
                duration_s=round(elapsed, 3),
                failures_in_a_row=self.state.failures,
            )
            structlog.contextvars.unbind_contextvars("run_id")
            self._notify_run(result, outcome)
            with self._lock:
                self.state.running = False
                self.idle.set()
            self._schedule_backoff()

    def _reconcile(self) -> Outcome:
        ws = self.source.prepare(self.settings)
        client = self._use(ws.settings)
        self.book.arguments = [str(f) for f in ws.files]
        try:
            self.desired = load(ws.files, ws.values)
            self.book.desired_loaded(self.desired)
        except InputError as exc:
            self.book.desired_invalid(str(exc))
            if self.desired is not None:
                log.warning("desired state invalid; keeping the last good one, no writes")
            raise
        outcome = reconcile_once(
            replace(self.settings.run_options(), load_timeout=0),  # loads: checked next run
            client,
            self.desired,
            write=not self.dry_run,
            hooks=Hooks(stop=self.stop, on_result=self._on_change),
        )
        self.state.last_observation_ok = outcome.plan.complete
        return outcome

    def _use(self, settings: Settings) -> WaldurClient:
        """This run's client: the last run's, or a new one when the server or the token of
        `settings` is not its own (the old one is closed: no run holds it now)."""
        config = settings.client_config()
        self.book.api_url = self.notifier.api_url = public_url(settings.api_url)
        old = self.client
        if old is None or config != old.config:
            self.client = self._client(config)
            if old is not None:
                old.close()
        return self.client

    def _client(self, config: ClientConfig) -> WaldurClient:
        client = WaldurClient(config)
        client.stats = self.stats  # the request counters go on
        return client

    def _notify_context(self) -> dict[str, str]:
        checkout = self.source.checkout
        if checkout is None:
            return {}
        commit = checkout.commit
        return {"Commit": f"{commit.sha[:12]} {commit.subject!r} ({commit.author})"}

    def _notify_run(self, result: str, outcome: Outcome | None) -> None:
        try:
            summary = outcome.plan.summary() if outcome is not None else None
            self.notifier.after_run(result, summary, self.state.last_error)
        except Exception as exc:  # a notifier is never fatal
            log.error("notification failed", error=str(exc))

    def _on_change(self, result: Any) -> None:
        change = result.change
        self.metrics.changes.labels(
            change.kind.label, change.action.value, result.status.value
        ).inc()

    def _record(self, outcome: Outcome) -> str:
        plan = outcome.plan
        for label, count in drift_by_kind(plan.changes).items():
            self.metrics.drift.labels(label).set(count)
        for item in load_states(plan, outcome.result):
            self.metrics.loading.labels(item["catalog"]).set(item["state"] == "loading")
            if item["state"] not in ("loading", "load"):  # settled: failed, or not (any more)
                failing = item["state"] == "failed"
                self.notifier.condition(
                    f"{LOAD_FAILED}: {item['catalog']}", failing, item["detail"]
                )
        log.info("plan", **plan.summary(), dialect=plan.dialect, complete=plan.complete)
        if outcome.refusal is not None:
            self._fail(outcome.refusal)
            return "refused"
        result = outcome.result
        settled = (Status.DONE, Status.NOT_APPLICABLE, Status.LOADING)
        only_not_applicable = result is not None and all(
            r.status in settled for r in result.results
        )
        loading = (
            [str(r.change.key) for r in result.results if r.status is Status.LOADING]
            if (result is not None)
            else []
        )
        if only_not_applicable and loading and not plan.not_applicable and not plan.gaps:
            # Waldur's loader is at work: not an error; the next runs check it
            log.info("catalog load running", catalogs=loading)
            self._succeed()
            return "success"
        if outcome.exit_code != ExitCode.OK and only_not_applicable and not result.interrupted:
            # A steady state, not an error: the server will never take these changes, and
            # saying so every interval must not page anyone (reconcile_drift_objects shows it).
            self._succeed()
            log.warning("changes not applicable on this server", count=plan.not_applicable)
            return "not_applicable"
        if outcome.exit_code != ExitCode.OK and outcome.result is None and plan.gaps:
            gaps = [f"{key}: {gap}" for key, found in sorted(plan.gaps.items()) for gap in found]
            self._fail(RuntimeError("expectations unmet: " + "; ".join(gaps)))
            return "failure"
        if outcome.exit_code != ExitCode.OK:
            summary = outcome.result.summary() if outcome.result else {}
            self._fail(RuntimeError(f"some changes were not applied: {summary}"))
            return "failure"
        self._succeed()
        return "success"

    def _succeed(self) -> None:
        self.state.last_ok = True
        self.state.failures = 0
        self.state.last_error = ""
        self.metrics.last_success.set(time.time())

    def _fail(self, exc: BaseException, unexpected: bool = False) -> None:
        self.state.last_ok = False
        self.state.failures += 1
        self.state.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.book.failed(str(exc) or type(exc).__name__)
        log.error("run failed", error=str(exc), unexpected=unexpected or None)

    def _schedule_backoff(self) -> None:
        if self.state.failures == 0 or self.stop.is_set() or not self.scheduler.running:
            return
        period = self.schedule.period()
        delay = min(period, min(10.0, period) * 2 ** (self.state.failures - 1))
        job = self.scheduler.get_job(JOB)
        when = datetime.now(UTC) + timedelta(seconds=delay)
        if job and job.next_run_time and job.next_run_time > when:
            self.scheduler.modify_job(JOB, next_run_time=when)
            log.info("backing off", retry_in_s=round(delay, 1))

    # -- process ---------------------------------------------------------------------------------
    def _signals(self) -> None:
        def terminate(signum: int, _frame: object) -> None:
            log.info("stopping", signal=signal.Signals(signum).name)
            self.stop.set()

        def reload(_signum: int, _frame: object) -> None:
            self.reload()

        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        signal.signal(signal.SIGHUP, reload)

    def reload(self) -> None:
        """SIGHUP: re-read the token for the next run (its client), and run now."""
        try:
            token = read_token(self.settings.token_file, os.environ)
            settings = self.settings.with_token(token)
            settings.client_config()  # refuses a token too short to mask
            if token is not None:
                register(token.get_secret_value())  # masked before anything can show it
        except ConfigError as exc:
            log.error("SIGHUP: keeping the current token", error=str(exc))
            return
        log.info("SIGHUP: re-read the token file; the next run uses it")
        self.settings = settings
        self.request_sync()

    def guard(self, listen_host: str) -> SyncGuard:
        """The checks on POST /sync; a sync token too short to be masked is refused."""
        token = self.settings.sync_token
        if token:
            try:
                check_token(token, "RECONCILE_SYNC_TOKEN")
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        return SyncGuard(listen_host, self.settings.allowed_hosts, token)

    def serve(self, listen: tuple[str, int] | None, allow_remote_sync: bool = False) -> int:
        guard = self.guard(listen[0]) if listen else None
        self._signals()
        server = StatusServer(self, listen, allow_remote_sync, guard) if listen else None
        if server:
            server.start()
            log.info("listening", url=server.url)
        self.scheduler.add_job(
            self.run,
            self.schedule.trigger(),
            id=JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()
        while not self.stop.wait(0.5):
            pass
        self.scheduler.shutdown(wait=False)
        stopped = self.idle.wait(self.grace)
        if server:
            server.stop()
        if self.client is not None:
            self.client.close()
        self.notifier.close()
        if not stopped:
            log.error(
                "a run was still going after the grace period; exiting anyway", grace_s=self.grace
            )
            return int(ExitCode.ERROR)
        log.info("stopped")
        return int(ExitCode.OK)
