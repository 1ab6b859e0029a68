"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from waldur_sim.launcher import SimProcess


@pytest.fixture
def sim() -> Iterator[Callable[..., SimProcess]]:
    """Start a waldur-sim process: `sim("--dialect", "current", db=path)`; stopped after the test.

    The returned SimProcess has `.api_url`, `.base_url`, `.staff_token` and `.user_token`.
    """
    started: list[SimProcess] = []

    def start(*args: str, **options: object) -> SimProcess:
        process = SimProcess(*args, **options)  # type: ignore[arg-type]
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def daemons() -> Iterator[Callable[..., object]]:
    """Start `reconcile daemon` processes (tests/e2e/daemon_harness.py); killed after the test."""
    from tests.e2e.daemon_harness import DaemonProcess

    started: list[DaemonProcess] = []

    def start(*args: object, **kwargs: object) -> DaemonProcess:
        process = DaemonProcess(*args, **kwargs)  # type: ignore[arg-type]
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
