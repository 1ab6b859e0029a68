"""Bounded waits on observable events (a request counted by waldur-sim, a line printed), for
tests that would otherwise sleep a fixed time and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    """Poll `condition` until it returns something true, and return that; fail after
    `timeout` seconds naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; it did not happen")
        time.sleep(0.01)
