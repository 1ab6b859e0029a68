"""waldur-sim processes shared by the contract tests (one per profile, started once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.helpers import Api
from tests.sim.recording import SIM_ARGS, Recording, play
from waldur_sim.launcher import SimProcess


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


@pytest.fixture(scope="session")
def recorded_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """The profile of the upstream server the samples were recorded from (`--dialect current
    --read-only-kinds version,target`), serving a catalog → package → version → target tree
    written beforehand by a writable server (upstream fills versions with its own loaders)."""
    db = tmp_path_factory.mktemp("recorded") / "sim.sqlite3"
    with SimProcess("--dialect", "current", db=db) as writer:
        api = Api(writer)
        version = api.version(api.package(api.catalog()), version="2024.1")
        api.create("target", version=version["url"], target_name="x86_64")
        api.close()
    with SimProcess("--dialect", "current", "--read-only-kinds", "version,target", db=db) as sim:
        yield sim


@pytest.fixture(scope="session")
def recording() -> Iterator[Recording]:
    """The recorded session with offerings, replayed once in order (see `recording.py`)."""
    with SimProcess(*SIM_ARGS) as process:
        yield play(process)
