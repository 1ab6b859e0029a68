"""waldur-sim processes shared by the contract tests (one per dialect, started once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.sim.launcher import SimProcess
from tests.sim.helpers import Api


@pytest.fixture(scope="session")
def legacy_sim() -> Iterator[SimProcess]:
    with SimProcess() as process:
        yield process


@pytest.fixture(scope="session")
def api(legacy_sim: SimProcess) -> Iterator[Api]:
    """A client of the shared default (legacy) server. Tests create uniquely named objects."""
    client = Api(legacy_sim)
    yield client
    client.close()


@pytest.fixture(scope="session")
def current_api() -> Iterator[Api]:
    """A client of a shared server speaking the current (Waldur >= 7.9.2) target dialect."""
    with SimProcess("--dialect", "current") as process:
        client = Api(process)
        yield client
        client.close()
