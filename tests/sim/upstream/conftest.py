"""The two profiles every ported upstream case runs on (see `server.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.upstream.server import OFFERING_ARGS, PROFILES, Server
from waldur_sim.launcher import SimProcess


@pytest.fixture(scope="session")
def upstream_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    db = tmp_path_factory.mktemp("upstream") / "sim.sqlite3"
    with (
        SimProcess(*PROFILES["writable"], *OFFERING_ARGS, db=db) as writer,
        SimProcess(*PROFILES["read-only"], *OFFERING_ARGS, db=db) as reader,
    ):
        servers = {
            "writable": Server("writable", writer, writer),
            "read-only": Server("read-only", reader, writer),
        }
        yield servers
        for server in servers.values():
            server.http.close()


@pytest.fixture(params=sorted(PROFILES))
def server(request: pytest.FixtureRequest, upstream_servers: dict[str, Server]) -> Server:
    """The server of one profile, holding nothing but its offerings."""
    chosen = upstream_servers[request.param]
    chosen.wipe()
    return chosen
