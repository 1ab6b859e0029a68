"""Bounded against any server: a listing that claims a billion objects or a page it cannot
reach, an answer of hundreds of MB, a server that drips its answer a byte a second, and a
signal during an observation. Each run ends — under a 2 GB address-space limit (``ulimit -v
2000000``) where memory is the point — with a clear message, exit 1 and no write."""

from __future__ import annotations

import resource
import signal
import subprocess

import pytest

from tests.e2e.harness import RECONCILE, ROOT, cli_env, edited_example, reconcile, sim_stats, writes
from tests.hostile.proxy import Drip, HugeBody, InflatePagination, Misshape
from tests.waiting import wait_until

EXAMPLE = ROOT / "examples" / "targets.yaml"
ADDRESS_SPACE = 2_000_000 * 1024  # ulimit -v 2000000 (KiB)


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def loaded(sim, tmp_path):
    """A server holding the example, and a desired file that changes, adds and deletes."""
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    return server, edited_example(tmp_path / "edited.yaml", description="Changed.")


def run_limited(
    server, proxy, desired, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`reconcile ARGS -f DESIRED` against `proxy`, limited to 2 GB of address space."""
    return subprocess.run(
        [RECONCILE, *args, "-f", str(desired)],
        env=cli_env(server, api_url=proxy.api_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limited,
        check=False,
    )


def assert_refused_unwritten(done, server, message: str, before: int) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr, done.stderr
    assert done.stderr.startswith("error:") and "Traceback" not in done.stderr
    assert "MemoryError" not in done.stderr
    assert writes(sim_stats(server)) == before


@pytest.mark.parametrize(
    ("bomb", "message"),
    [
        (
            InflatePagination(count=None, last_page=999_999_999),
            'a "last" link to page 999999999, but X-Result-Count 1 fits on the first page',
        ),
        (
            InflatePagination(count=999_999_999, last_page=None),
            "X-Result-Count 999999999 is more than --max-list-objects 1000000",
        ),
        (
            InflatePagination(count=999_999_999, last_page=999_999_999),
            "X-Result-Count 999999999 is more than --max-list-objects 1000000",
        ),
    ],
)
def test_a_pagination_bomb_ends_at_once_with_no_write(sim, hostile, tmp_path, bomb, message):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, bomb), writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply")
    assert_refused_unwritten(done, server, message, before)
    assert "the listing is incomplete, so the run stops here and nothing was written" in (
        done.stderr
    )
    assert len(proxy.seen) < 10  # the first page, not a billion


@pytest.mark.parametrize("versions", ["not a list", [1, 2], [{"uuid": "a" * 32, "targets": 5}]])
def test_trees_not_of_waldurs_shape_are_the_servers_error_with_no_write(
    sim, hostile, tmp_path, versions
):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, Misshape(versions)), writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply")
    assert_refused_unwritten(done, server, "the server sent an object that is not of the", before)
    assert "internal error" not in done.stderr and "nothing was written" in done.stderr


def test_a_body_of_hundreds_of_megabytes_is_not_read(sim, hostile, tmp_path):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, HugeBody(400)), writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply")
    assert_refused_unwritten(done, server, "the answer kept coming past --max-body-mib 64", before)


def test_an_announced_huge_body_is_refused_unread(sim, hostile, tmp_path):
    server, desired = loaded(sim, tmp_path)
    proxy = hostile(server, HugeBody(400, content_length=True))
    before = writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply", "--max-body-mib", "8")
    message = "the answer announced 400 MiB past --max-body-mib 8"
    assert_refused_unwritten(done, server, message, before)


def test_a_dripping_server_meets_the_total_deadline_of_a_request(sim, hostile, tmp_path):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, Drip(1.0)), writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply", "--timeout", "2", "--max-attempts", "1")
    message = "no answer within --timeout 2s (ReadTimeout)"
    assert_refused_unwritten(done, server, message, before)


def test_a_dripping_server_meets_the_runs_deadline(sim, hostile, tmp_path):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, Drip(1.0)), writes(sim_stats(server))
    done = run_limited(server, proxy, desired, "apply", "--run-timeout", "3")
    message = "the run took longer than --run-timeout 3s"
    assert_refused_unwritten(done, server, message, before)


def test_the_first_sigterm_stops_an_observation(sim, hostile, tmp_path):
    server, desired = loaded(sim, tmp_path)
    proxy, before = hostile(server, Drip(1.0)), writes(sim_stats(server))
    child = subprocess.Popen(
        [RECONCILE, "apply", "-f", str(desired)],
        env=cli_env(server, api_url=proxy.api_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: proxy.seen, "the observation's first request")
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)  # the dripped answer alone would take an hour
    assert child.returncode == 1, out + err
    assert "SIGTERM: stopping" in err
    assert "stopped by a signal before anything was written" in err
    assert "Traceback" not in err and writes(sim_stats(server)) == before
