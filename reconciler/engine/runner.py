"""One reconciliation: load → observe → plan → guards → (apply). Shared by the one-shot
commands and the daemon, so both get exactly the same checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.core import guards
from reconciler.core.capabilities import field_problems, mark, mark_loads
from reconciler.core.errors import AuthError, ExitCode, GuardRefused, InputError, Interrupted
from reconciler.core.memory import bulk
from reconciler.core.model import DesiredState
from reconciler.core.plan import Action, Plan, make_plan
from reconciler.engine import locks
from reconciler.engine.apply import ApplyResult, ChangeResult, apply_plan
from reconciler.engine.loads import LoadOptions, Progress
from reconciler.remote.capabilities import loader_actions, read_capabilities
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import CatalogPrefetch, observe
from reconciler.remote.offerings import link_state


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
        return ExitCode.PARTIAL if self.plan.gaps else ExitCode.OK


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What a run needs to know besides the client and the desired state."""

    api_dialect: str = "auto"
    concurrency: int = 8
    max_delete: int = 10
    max_delete_percent: float = 10.0
    lock_wait: float = 30.0
    lock_dir: str = ""
    run_timeout: float = 0.0  # seconds; 0: no deadline
    load_timeout: float = 600.0  # seconds an apply waits for a load; 0: does not wait (daemon)


@dataclass(frozen=True, slots=True)
class Hooks:
    """How a caller follows and stops an apply: a stop event checked between changes, and
    callbacks when the apply starts (with the plan) and as each change ends."""

    stop: threading.Event | None = None
    on_start: Callable[[Plan], None] | None = None
    on_result: Callable[[ChangeResult], None] | None = None
    on_load: Progress | None = None  # a load's wait: (catalog, seconds, phase)


NO_HOOKS = Hooks()


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


def load(files: Sequence[Path], values: dict[str, str] | None = None) -> DesiredState:
    """The desired state of `files` (with an environment's `values`), from the cache of
    validated states when they are unchanged (`desired.cache`)."""
    from reconciler.desired.cache import load_cached

    return load_cached(list(files), values)


def server_rules(client: WaldurClient, plan: Plan, desired: DesiredState) -> Plan:
    """`plan` with what the server will not take marked (OPTIONS, read only when there is
    something to create or update); a value that breaks the server's own limits is an
    `InputError` naming the file and line, before anything is written."""
    if any(c.action is Action.LOAD and not c.running for c in plan.changes):
        why = loader_actions(client)
        if why:
            plan = mark_loads(plan, why)
    writes = {
        c.kind
        for c in plan.changes
        if c.action not in (Action.DELETE, Action.LOAD) and c.kind.in_tree and c.applicable
    }
    if not writes:
        return plan
    capabilities = read_capabilities(client, writes)
    if not capabilities.checked:
        return replace(plan, capabilities=f"not checked ({capabilities.unchecked})")
    plan = mark(plan, capabilities)
    problems = field_problems(plan, desired, capabilities)
    if problems:
        raise InputError(problems, what="the server's field rules (from its OPTIONS)")
    return plan


def reconcile_once(
    options: RunOptions,
    client: WaldurClient,
    desired: DesiredState,
    *,
    write: bool,
    hooks: Hooks = NO_HOOKS,
    catalogs: CatalogPrefetch | None = None,
) -> Outcome:
    """Observe, plan, check the guards and, when `write`, apply under the machine-wide lock,
    within the run's deadline and stop event (`bounded`). `catalogs`: the catalog listing,
    sent early (a plan only: an apply reads under the lock)."""
    lock = (
        locks.exclusive(client.api_url, wait=options.lock_wait, directory=options.lock_dir)
        if write
        else nullcontext()
    )
    with bounded(options, client, hooks), lock:
        with bulk():
            observed = observe(client, desired, options.api_dialect, catalogs)
            desired, observed = link_state(client, desired, observed)
            plan = make_plan(desired, observed)
        return guard_and_apply(options, client, desired, plan, write=write, hooks=hooks)


@contextmanager
def bounded(options: RunOptions, client: WaldurClient, hooks: Hooks) -> Iterator[None]:
    """The run's bounds on `client`: ``--run-timeout`` and the stop event (a signal), which
    end every read at once; an observation they end is reported as such (nothing written)."""
    with client.running(stop=hooks.stop, timeout=options.run_timeout):
        try:
            yield
        except Interrupted:
            raise Interrupted("stopped by a signal before anything was written") from None


def guard_and_apply(
    options: RunOptions,
    client: WaldurClient,
    desired: DesiredState,
    plan: Plan,
    *,
    write: bool,
    hooks: Hooks = NO_HOOKS,
) -> Outcome:
    """Check what the server accepts and the guards on `plan` and, when `write`, apply it
    (the caller holds the lock)."""
    plan = server_rules(client, plan, desired)
    outcome = Outcome(desired, plan)
    try:
        guards.check(
            plan,
            desired,
            max_delete=options.max_delete,
            max_delete_percent=options.max_delete_percent,
        )
    except GuardRefused as refusal:
        outcome.refusal = refusal
        return outcome
    if write and not plan.empty:  # (not-applicable changes only: nothing is sent, exit 3)
        if any(c.applicable and c.kind.in_tree for c in plan.changes):
            require_staff(client)  # links: the resolution showed the offerings to this token
        if hooks.on_start is not None:  # e.g. a progress bar, which needs the total first
            hooks.on_start(plan)
        outcome.result = apply_plan(
            client,
            plan,
            concurrency=options.concurrency,
            stop=hooks.stop,
            on_result=hooks.on_result,
            loads=LoadOptions(
                timeout=options.load_timeout,
                expectations={key: loader.expect for key, loader in desired.loaders().items()},
                progress=hooks.on_load,
            ),
        )
    return outcome
