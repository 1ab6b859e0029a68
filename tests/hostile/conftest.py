"""Hostile servers for the tests of this folder: a recorder (the "other address") and a
proxy in front of a waldur-sim process, both stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.hostile.proxy import Behaviour, HostileProxy, Recorder
from waldur_sim.launcher import SimProcess


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as listener:
        yield listener


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileProxy]]:
    """`hostile(sim, *behaviours)`: a started `HostileProxy` in front of `sim`."""
    started: list[HostileProxy] = []

    def start(sim: SimProcess, *behaviours: Behaviour) -> HostileProxy:
        proxy = HostileProxy(sim.base_url, *behaviours)
        started.append(proxy)
        return proxy.start()  # type: ignore[return-value]

    yield start
    for proxy in started:
        proxy.stop()
