"""Run one load of a loader catalog: ``POST …/{uuid}/update_catalog/``, then wait for it.

Upstream's load runs in a worker and shows only on the catalog row (`core.loaders`), so the
waiter polls the row with a growing delay (`DELAYS`: 2 s, then times 1.5 up to 15 s; a 60 s load
costs the POST and 8 GETs) until the load is done (then the expectations are checked:
the row's counts, and the package listing only when packages are expected), failed (the
server's ``update_errors``, cleaned), or past the timeout (still loading: the next run
checks it). A timeout of 0 sends the load and does not wait (the daemon).

A server without the action (404/405: before 8.0.2, or a proxy that blocks it) makes the
load not applicable; nothing else was written for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from reconciler.core import loaders
from reconciler.core.errors import ApiError
from reconciler.core.loaders import LoadPhase, LoadState, clean
from reconciler.core.model import Expectations, Key, Kind
from reconciler.core.plan import Change
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import Contents, server_shaped

FIRST_DELAY = 2.0
GROWTH = 1.5
MAX_DELAY = 15.0

#: (catalog key, seconds waited, phase) → None: a terminal's progress line
Progress = Callable[[Key, float, str], None]


def delays() -> Iterator[float]:
    delay = FIRST_DELAY
    while True:
        yield delay
        delay = min(delay * GROWTH, MAX_DELAY)


@dataclass(frozen=True)
class LoadOptions:
    """How an apply runs its loads."""

    timeout: float = 600.0  # seconds to wait for a load; 0: send it and do not wait
    expectations: Mapping[Key, Expectations] = field(default_factory=dict)
    progress: Progress | None = None
    clock: Callable[[], float] = time.monotonic
    #: waits `seconds` unless stopped (the stop event's wait); replaced by a scaled clock in bench
    sleep: Callable[[threading.Event, float], bool] | None = None


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """`status`: done, failed, loading (timed out or not waited), unmet (loaded, gaps),
    not_applicable (the server has no such action)."""

    status: str
    message: str = ""
    gaps: tuple[str, ...] = ()


def run_load(
    client: WaldurClient,
    change: Change,
    url: str,
    options: LoadOptions,
    stop: threading.Event,
) -> LoadOutcome:
    before = LoadState.from_row(change.before) if change.before is not None else None
    if not change.running:
        try:
            client.request("POST", f"{url.rstrip('/')}/update_catalog/", json={}, expect=(202,))
        except ApiError as exc:
            if exc.status in (404, 405):
                return LoadOutcome(
                    "not_applicable",
                    f"this server has no update_catalog action (HTTP {exc.status}): "
                    "Waldur 8.0.2 or later loads catalogs through its API",
                )
            return LoadOutcome("failed", clean(str(exc)))
    state = wait(client, change.key, url, before, options, stop)
    phase = state.settled(before) if state is not None else LoadPhase.LOADING
    if phase is LoadPhase.FAILED:
        assert state is not None
        return LoadOutcome("failed", clean(state.errors))
    if phase is not LoadPhase.OK or state is None:
        again = ""
        if before is not None and before.errors:
            again = " (or it failed again with the same error)"
        return LoadOutcome("loading", f"still loading{again}; the next run checks it")
    return check(client, change.key, state, options.expectations.get(change.key), before)


def wait(
    client: WaldurClient,
    key: Key,
    url: str,
    before: LoadState | None,
    options: LoadOptions,
    stop: threading.Event,
) -> LoadState | None:
    """The row once the load settled, or as last seen when the time is up (None: not read)."""
    if options.timeout <= 0:
        return None
    sleep = options.sleep or (lambda event, seconds: event.wait(seconds))
    started = options.clock()
    state: LoadState | None = None
    for delay in delays():
        elapsed = options.clock() - started
        left = options.timeout - elapsed
        if left <= 0 or sleep(stop, min(delay, left)):
            break
        state = LoadState.from_row(client.get_json(url))
        phase = state.settled(before)
        if options.progress is not None:
            options.progress(key, options.clock() - started, phase.value)
        if phase is not LoadPhase.LOADING:
            break
    return state


def check(
    client: WaldurClient,
    key: Key,
    state: LoadState,
    expect: Expectations | None,
    before: LoadState | None = None,
) -> LoadOutcome:
    """A finished load against the file's expectations (and what its sync deleted)."""
    done = f"loaded: {state.counts()}"
    if before is not None and state.packages < before.packages:
        gone = before.packages - state.packages
        done += (
            f"; {gone} package{'s' if gone != 1 else ''} fewer: the sync deleted what left "
            "the source"
        )
    if expect is None:
        return LoadOutcome("done", done)
    contents = None
    if expect.need_contents:
        sink = Contents()
        with server_shaped(Kind.PACKAGE, key):
            client.list_all(Kind.PACKAGE, {"catalog_uuid": state.uuid}, sink)
        contents = sink.found
    missing = loaders.gaps(expect, state.packages, contents)
    if missing:
        return LoadOutcome("unmet", f"{done}; expectations unmet", tuple(missing))
    return LoadOutcome("done", done)
