"""The process: ready line, signals, `--db`, `--no-embed`, start-up errors, the transport."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sim.helpers import Api
from waldur_sim.launcher import SimProcess, SimProcessError


def test_it_prints_exactly_one_ready_line(sim: Any) -> None:
    process: SimProcess = sim()
    assert process.stdout == f"waldur-sim listening on {process.api_url}\n"
    assert process.port > 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(signum: int) -> None:
    process = SimProcess().start()
    Api(process).catalog()  # it is serving
    process._process.send_signal(signum)  # type: ignore[union-attr]
    assert process._process.wait(timeout=5) == 0  # type: ignore[union-attr]
    assert process.stderr == ""


def test_db_keeps_objects_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "catalog.sqlite3"
    with SimProcess(db=db) as first:
        api = Api(first)
        version = api.version(api.package(api.catalog()))
        target = api.target(version)
        before = {kind: api.items(kind) for kind in ("catalog", "package", "version", "target")}
        api.close()
    with SimProcess(db=db) as second:
        api = Api(second)
        after = {kind: api.items(kind) for kind in ("catalog", "package", "version", "target")}
        assert api.get(api.detail("target", target["uuid"]))["path"] == target["path"]
        api.close()
    old, new = f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"
    assert _replace(before, old, new) == after


def _replace(value: Any, old: str, new: str) -> Any:
    """The same objects, seen through another server's address."""
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value.replace(old, new) if isinstance(value, str) else value


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SimProcessError, match="exited with status 1") as error:
        SimProcess(db=junk).start()
    assert "not a database" in str(error.value)
    assert junk.read_bytes() == b"this is not sqlite" * 100


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "waldur_sim", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_equal_tokens_are_refused() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "waldur_sim",
            "--port",
            "0",
            "--staff-token",
            "t",
            "--user-token",
            "t",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "must differ" in result.stderr


def test_no_embed_leaves_versions_out_of_packages(sim: Any) -> None:
    api = Api(sim("--no-embed"))
    catalog = api.catalog()
    package = api.package(catalog)
    api.target(api.version(package))
    assert "versions" not in package
    detail = api.get(package["url"])
    assert "versions" not in detail and detail["version_count"] == 1
    (listed,) = api.items("package", catalog_uuid=catalog["uuid"])
    assert listed == detail


def test_connections_are_kept_alive(sim: Any) -> None:
    process: SimProcess = sim()
    with socket.create_connection(("127.0.0.1", process.port)) as conn:
        conn.settimeout(10)
        request = b"GET /api/ HTTP/1.1\r\nHost: x\r\n\r\n"
        conn.sendall(request + request)
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 2:
            chunk = conn.recv(65536)
            if not chunk:  # closed after the first answer: not kept alive
                break
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2


def test_garbage_does_not_take_the_server_down(sim: Any) -> None:
    process: SimProcess = sim()
    for junk in (b"\x00\xff garbage\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", process.port)) as conn:
            conn.sendall(junk)
            assert b"400" in conn.recv(65536)
    assert httpx.get(process.api_url).status_code == 200


def test_a_chunked_body_is_read(sim: Any) -> None:
    process: SimProcess = sim()

    def chunks() -> Any:
        yield b'{"name": "chunked", '
        yield b'"version": "1"}'

    response = httpx.post(
        process.api_url + "marketplace-software-catalogs/",
        content=chunks(),
        headers={
            "Authorization": f"Token {process.staff_token}",
            "Content-Type": "application/json",
        },
    )
    assert (response.status_code, response.json()["name"]) == (201, "chunked")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--read-only-kinds", "version,offering"], "unknown: offering"),
        (["--fault-rate", "1.5"], "must be between 0 and 1"),
        (["--fault-methods", "FETCH"], "unknown: fetch"),
        (["--dialect", "future"], "invalid choice"),
    ],
)
def test_bad_flags_are_refused_with_status_2(args: list[str], message: str) -> None:
    script = Path(sys.executable).parent / "waldur-sim"  # the installed console script
    result = subprocess.run(
        [script, "--port", "0", *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert message in result.stderr
