"""Fault injection and request statistics: the one place where waldur-sim misbehaves on purpose.

Every request the app handles asks `Faults.plan(method, kind)` first. A request outside the
aimed kinds/methods, or any request when no fault flag is set, is untouched. Otherwise, in order:

1. `--throttle N`: more than N requests within one second → 429 with `Retry-After` (DRF's body);
2. `--fault-rate R`: answer 500, 502, 503 or 504 before doing anything (nothing is written);
3. `--drop-rate R` (writes only): handle the request, commit, then close the connection
   without an answer: the client cannot know the outcome;
4. `--stall-rate R`: handle the request, then hold the answer `--stall-seconds` (default 60)
   back, past any sane client timeout; a stopping server ends the wait at once.

Four numbers are drawn per aimed request from one `random.Random(--fault-seed)`, so a client
that sends the same requests in the same order meets the same faults.

`Stats` counts every handled request by method, status and kind, and every injected fault, and
keeps the most requests that were in flight at once (`max_in_flight`: from the request read to
the answer written, latency included; the stats requests themselves not counted); it is served
at `GET /api/_sim/stats/` (sim-only; `DELETE` resets it).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from waldur_sim.kinds import KINDS, OFFERING_KIND, ROOT_KIND, USER_KIND
from waldur_sim.responses import Response, detail, proxy_page, server_error

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FAULT_KINDS = (*KINDS, OFFERING_KIND, USER_KIND, ROOT_KIND)
FAULT_STATUSES = (500, 502, 503, 504)
FAULT_NAMES = ("error", "throttled", "dropped", "stalled")


@dataclass(frozen=True, slots=True)
class FaultConfig:
    fault_rate: float = 0.0
    throttle: int = 0  # requests per second; 0 = no limit
    drop_rate: float = 0.0
    stall_rate: float = 0.0
    stall_seconds: float = 60.0
    seed: int | None = None
    kinds: frozenset[str] = frozenset(FAULT_KINDS)
    methods: frozenset[str] = frozenset(METHODS)

    @property
    def active(self) -> bool:
        return bool(self.fault_rate or self.throttle or self.drop_rate or self.stall_rate)


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to one request."""

    answer: Response | None = None  # answer this instead of handling the request
    drop: bool = False
    stall: float = 0.0


_UNTOUCHED = Plan()


class Stats:
    """Counters of handled requests and injected faults (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[tuple[str, int]] = Counter()
            self._kinds: Counter[tuple[str, str]] = Counter()
            self._faults: Counter[str] = Counter()
            self._max_in_flight = self._in_flight

    def begin(self) -> None:
        """A request arrived (paired with `end` once its answer is written)."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def record(self, method: str, kind: str, status: int) -> None:
        with self._lock:
            self._requests[method, status] += 1
            self._kinds[kind, method] += 1

    def fault(self, name: str) -> None:
        with self._lock:
            self._faults[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            requests: dict[str, dict[str, int]] = {}
            for (method, status), count in sorted(self._requests.items()):
                requests.setdefault(method, {})[str(status)] = count
            kinds: dict[str, dict[str, int]] = {}
            for (kind, method), count in sorted(self._kinds.items()):
                kinds.setdefault(kind, {})[method] = count
            return {
                "total": sum(self._requests.values()),
                "requests": requests,
                "kinds": kinds,
                "faults": {name: self._faults[name] for name in FAULT_NAMES},
                "max_in_flight": self._max_in_flight,
            }


@dataclass(slots=True)
class Faults:
    config: FaultConfig
    stats: Stats
    clock: Callable[[], float] = time.monotonic
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _window: deque[float] = field(init=False, default_factory=deque)

    def __post_init__(self) -> None:
        self._random = random.Random(self.config.seed)

    def plan(self, method: str, kind: str) -> Plan:
        config = self.config
        if not config.active or kind not in config.kinds or method not in config.methods:
            return _UNTOUCHED
        with self._lock:
            wait = self._throttle_wait()
            if wait is None:
                draws = [self._random.random() for _ in range(4)]
        if wait is not None:
            self.stats.fault("throttled")
            return Plan(answer=_throttled(wait))
        fault, status, drop, stall = draws
        if fault < config.fault_rate:
            self.stats.fault("error")
            code = FAULT_STATUSES[int(status * len(FAULT_STATUSES))]  # status < 1
            return Plan(answer=server_error() if code == 500 else proxy_page(code))
        if method in WRITE_METHODS and drop < config.drop_rate:
            self.stats.fault("dropped")
            return Plan(drop=True)
        if stall < config.stall_rate:
            self.stats.fault("stalled")
            return Plan(stall=config.stall_seconds)
        return _UNTOUCHED

    def _throttle_wait(self) -> int | None:
        """Seconds until a slot frees when the rate is exceeded, else None (and take a slot)."""
        if not self.config.throttle:
            return None
        now = self.clock()
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.config.throttle:
            return max(1, math.ceil(window[0] + 1.0 - now))
        window.append(now)
        return None


def _throttled(wait: int) -> Response:
    unit = "second" if wait == 1 else "seconds"
    message = f"Request was throttled. Expected available in {wait} {unit}."
    return detail(429, message, [("Retry-After", str(wait))])
