"""One reconciliation: load → observe → plan → guards → (apply). Shared by the one-shot
commands and the daemon, so both get exactly the same checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from . import guards, locks
from .apply import ApplyResult, ChangeResult, apply_plan
from .client import ClientConfig, WaldurClient
from .errors import AuthError, ExitCode, GuardRefused
from .model import DesiredState
from .observe import observe
from .plan import Plan, make_plan
from .settings import Settings


@dataclass
class Outcome:
    desired: DesiredState
    plan: Plan
    result: ApplyResult | None = None
    refusal: GuardRefused | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.refusal is not None:
            return ExitCode.REFUSED
        if self.result is not None:
            return self.result.exit_code
        return ExitCode.OK


def client_config(settings: Settings) -> ClientConfig:
    return ClientConfig(
        api_url=settings.api_url,
        token=settings.token,
        timeout=settings.timeout,
        max_attempts=settings.max_attempts,
        max_retry_seconds=settings.max_retry_time,
        backoff_seconds=settings.retry_backoff,
        verify=settings.ca_bundle or True,
        allow_insecure_http=settings.allow_insecure_http,
        concurrency=settings.concurrency,
    )


def require_staff(client: WaldurClient) -> None:
    if client.config.token is None:
        raise AuthError(
            "no API token: writes need a staff user's token; set WALDUR_API_TOKEN or --token-file"
        )
    user = client.me()
    if user.get("is_staff") is not True:
        raise AuthError(
            f"the token's user {user.get('username', '?')!r} is not staff; "
            "Waldur only lets staff users change software catalogs. Nothing was "
            "written."
        )


def load(files: Sequence[Path]) -> DesiredState:
    from .desired import load_desired

    return load_desired(list(files))


def reconcile_once(
    settings: Settings,
    client: WaldurClient,
    desired: DesiredState,
    *,
    write: bool,
    stop: threading.Event | None = None,
    on_result: Callable[[ChangeResult], None] | None = None,
    on_start: Callable[[Plan], None] | None = None,
) -> Outcome:
    """Observe, plan, check the guards and, when `write`, apply under the machine-wide lock."""
    lock = (
        locks.exclusive(client.api_url, wait=settings.lock_wait, directory=settings.lock_dir)
        if write
        else nullcontext()
    )
    with lock:
        plan = make_plan(desired, observe(client, desired, settings.api_dialect))
        return guard_and_apply(
            settings,
            client,
            desired,
            plan,
            write=write,
            stop=stop,
            on_result=on_result,
            on_start=on_start,
        )


def guard_and_apply(
    settings: Settings,
    client: WaldurClient,
    desired: DesiredState,
    plan: Plan,
    *,
    write: bool,
    stop: threading.Event | None = None,
    on_result: Callable[[ChangeResult], None] | None = None,
    on_start: Callable[[Plan], None] | None = None,
) -> Outcome:
    """Check the guards on `plan` and, when `write`, apply it (the caller holds the lock)."""
    outcome = Outcome(desired, plan)
    try:
        guards.check(
            plan,
            desired,
            max_delete=settings.max_delete,
            max_delete_percent=settings.max_delete_percent,
        )
    except GuardRefused as refusal:
        outcome.refusal = refusal
        return outcome
    if write and not plan.empty:
        require_staff(client)
        if on_start is not None:  # e.g. a progress bar, which needs the total first
            on_start(plan)
        outcome.result = apply_plan(
            client, plan, concurrency=settings.concurrency, stop=stop, on_result=on_result
        )
    return outcome
