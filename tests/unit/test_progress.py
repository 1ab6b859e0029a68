"""Progress on stderr: plain lines every 10% or 5 s, and tqdm's bar on a terminal."""

from __future__ import annotations

import io

from reconciler.core.model import Key, Kind
from reconciler.core.plan import Action, Change, Plan
from reconciler.engine.apply import ChangeResult, Status
from reconciler.output.progress import BarReporter, LineReporter, reporter


def plan(n: int) -> Plan:
    changes = tuple(
        Change(Action.CREATE, Key(Kind.PACKAGE, ("C", "1", "binary_runtime", f"p{i}")))
        for i in range(n)
    )
    return Plan(changes=changes)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_every_tenth_with_rate_and_time_left():
    out, clock = io.StringIO(), Clock()
    lines = LineReporter(out, clock)
    p = plan(20)
    lines.start(p)
    for index, change in enumerate(p.changes):
        clock.now += 0.5
        status = Status.FAILED if index == 3 else Status.DONE
        lines.result(ChangeResult(change, status))
    lines.close()
    text = out.getvalue().splitlines()
    assert text[0] == "apply: 20 changes to make"
    assert text[1] == "apply: 2/20 changes (10%), 2.0/s, about 9s left"
    assert text[2] == "apply: 4/20 changes (20%), 2.0/s, about 8s left, 1 not done"
    assert len(text) == 1 + 9 + 1  # a line per tenth below 100%, then the final one
    assert text[-1] == "apply: 20/20 changes (100%), 2.0/s, took 10s, 1 not done"


def test_lines_every_five_seconds_when_tenths_are_slow():
    out, clock = io.StringIO(), Clock()
    lines = LineReporter(out, clock)
    p = plan(1000)
    lines.start(p)
    for change in p.changes[:30]:
        clock.now += 1.0
        lines.result(ChangeResult(change, Status.DONE))
    shown = out.getvalue().splitlines()[1:]
    assert [line.split()[1] for line in shown] == [
        "5/1000",
        "10/1000",
        "15/1000",
        "20/1000",
        "25/1000",
        "30/1000",
    ]
    assert shown[-1].endswith("about 16m10s left")


def test_the_bar_counts_to_the_total_and_mode_choice():
    out = io.StringIO()
    bar = BarReporter(out)
    p = plan(3)
    bar.start(p)
    for change in p.changes:
        bar.result(ChangeResult(change, Status.DONE))
    assert bar.bar is not None and bar.bar.n == 3 and bar.bar.total == 3
    bar.close()
    drawn = out.getvalue()
    assert "apply:   0%" in drawn and "0/3 [" in drawn  # drawn when it starts …
    assert drawn.endswith("\r")  # … and cleared when it ends (the plan is printed next)
    assert reporter("none", out) is None
    assert isinstance(reporter("auto", io.StringIO()), LineReporter)  # not a terminal
    assert isinstance(reporter("bar", io.StringIO()), BarReporter)
