"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from reconciler.sim.launcher import SimProcess


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
