"""Progress of an apply, on stderr: a bar on a terminal, plain lines otherwise.

Fed from the Applier's `on_result` callback (called from its worker threads, hence the lock)
after `start` has been given the plan. The bar is tqdm's (done/total, percentage, rate and
time left, redrawn in place at most 5 times a second); when stderr is not a terminal (CI
logs, files) redrawing would write garbage, so a plain line is written instead every
`LINE_EVERY` seconds or every 10% of the changes, whichever comes first, and once at the end.
JSON output shows neither (`reconcile -o json` promises one JSON document and clean stderr).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from reconciler.core.model import Key
from reconciler.core.plan import Plan
from reconciler.engine.apply import ChangeResult, Status

if TYPE_CHECKING:  # imported when a bar is shown: a plan, or a run without one, never needs it
    from tqdm import tqdm

LINE_EVERY = 5.0


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Reporter:
    """Counts results; subclasses show them."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.total = 0
        self.done = 0
        self.failed = 0
        self.started = 0.0
        self.lock = threading.Lock()

    def start(self, plan: Plan) -> None:
        self.total = sum(1 for change in plan.changes if change.applicable)  # what is sent
        self.started = self.clock()
        self._opened()

    def result(self, result: ChangeResult) -> None:
        if result.status is Status.NOT_APPLICABLE:
            return  # never sent, not counted in the total
        with self.lock:
            self.done += 1
            if result.status is not Status.DONE:
                self.failed += 1
            self._advanced(result)

    def close(self) -> None:
        with self.lock:
            if self.total:
                self._closed()

    def load(self, key: Key, seconds: float, phase: str) -> None:
        """A load's wait (the Applier's `on_load`): one line per look at the catalog."""
        with self.lock:
            self._say(f"load {key}: {phase}, {_eta(seconds)} elapsed")

    def _say(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _opened(self) -> None: ...

    def _advanced(self, result: ChangeResult) -> None: ...

    def _closed(self) -> None: ...


class LineReporter(Reporter):
    """``apply: 120/1200 changes (10%), 35.1/s, about 31s left, 2 not done``."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream, clock)
        self.last_time = 0.0
        self.last_tenth = 0

    def _opened(self) -> None:
        self.last_time = self.started
        self.stream.write(f"apply: {self.total} changes to make\n")
        self.stream.flush()

    def _advanced(self, result: ChangeResult) -> None:
        now = self.clock()
        tenth = self.done * 10 // max(self.total, 1)
        if tenth > self.last_tenth or now - self.last_time >= LINE_EVERY:
            self.last_tenth, self.last_time = tenth, now
            if self.done < self.total:
                self._line(now)

    def _closed(self) -> None:
        self._line(self.clock())

    def _line(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        text = (
            f"apply: {self.done}/{self.total} changes ({self.done * 100 // self.total}%), "
            f"{rate:.1f}/s"
        )
        if self.done < self.total and rate > 0:
            text += f", about {_eta((self.total - self.done) / rate)} left"
        elif self.done >= self.total:
            text += f", took {_eta(elapsed)}"
        if self.failed:
            text += f", {self.failed} not done"
        self.stream.write(text + "\n")
        self.stream.flush()


class BarReporter(Reporter):
    """tqdm's bar: ``apply  34%|████▍        | 410/1200 [00:12<00:23, 33.9 changes/s]``."""

    bar: tqdm | None = None

    def _opened(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            desc="apply",
            unit=" changes",
            file=self.stream,
            dynamic_ncols=True,
            mininterval=0.2,
            leave=False,
        )

    def _advanced(self, result: ChangeResult) -> None:
        assert self.bar is not None
        if result.status is not Status.DONE:
            self.bar.set_postfix_str(f"{self.failed} not done", refresh=False)
        self.bar.update(1)

    def _closed(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _say(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)  # above the bar, which is redrawn below
        else:
            super()._say(text)


def reporter(mode: str, stream: TextIO) -> Reporter | None:
    """The reporter for `mode` (auto: a bar on a terminal, lines otherwise; none: nothing)."""
    if mode == "none":
        return None
    if mode == "bar" or (mode == "auto" and stream.isatty()):
        return BarReporter(stream)
    return LineReporter(stream)
