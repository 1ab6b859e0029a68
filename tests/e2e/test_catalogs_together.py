"""Several declared catalogs read at once, through the real command against waldur-sim: the
server sees the catalogs' package listings in flight together (`max_in_flight` of its stats),
never more than `--concurrency` requests at once, the requests are the floor (one catalog page
and each catalog's package pages), and the plan is the same whatever order the answers come in
(`--latency-jitter-ms` lets answers overtake each other), embedded or not.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from reconciler.remote.listing import PAGE_SIZE
from waldur_sim.launcher import SimProcess

from .harness import plan_json, reconcile, reset_stats, sim_stats, write_yaml

ARCHITECTURES = ["x86_64/generic", "aarch64/generic"]
PATH = "/cvmfs/together/{catalog_version}/{cpu_family}/{cpu_microarchitecture}"
SIZES = {"Alpha": 6, "Beta": PAGE_SIZE + 4, "Gamma": 3, "Delta": 8}
LATENCY = "300"  # long enough that requests sent together are certainly served together


def catalog(name: str, count: int, changed: bool = False) -> dict[str, Any]:
    packages = [
        {
            "name": f"{name.lower()}-{i:03d}",
            "description": f"package {i}" + (" (changed)" if changed and i % 3 == 0 else ""),
            "versions": [{"version": "1.0"}] if i % 2 == 0 else [],
        }
        for i in range(count)
        if not (changed and i % 5 == 1)  # every fifth package gone
    ]
    if changed:
        packages.append({"name": f"{name.lower()}-new", "versions": [{"version": "2.0"}]})
    return {
        "name": name,
        "version": "1",
        "auto_update_enabled": False,
        "target_defaults": {"architectures": list(ARCHITECTURES), "path": PATH},
        "packages": packages,
    }


def document(changed: bool = False) -> dict[str, Any]:
    return {"catalogs": [catalog(name, n, changed) for name, n in SIZES.items()]}


@pytest.fixture(scope="module")
def four_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A database holding the four catalogs; their desired file and a changed one."""
    tmp = tmp_path_factory.mktemp("together")
    desired = write_yaml(tmp / "four.yaml", document())
    changed = write_yaml(tmp / "changed.yaml", document(changed=True))
    db = tmp / "four.sqlite3"
    with SimProcess(db=db) as server:
        env = {"WALDUR_API_URL": server.api_url, "WALDUR_API_TOKEN": server.staff_token}
        done = reconcile(None, "apply", "-f", str(desired), env=env)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return db, desired, changed


def plan(server: SimProcess, desired: Path, *extra: str) -> dict[str, Any]:
    """The plan (exit 0), the server's request counters zeroed before it."""
    reset_stats(server)
    return plan_json(server, desired, extra=extra, ok=(0,))


def test_the_catalogs_package_listings_are_in_flight_together(sim, four_db):
    db, desired, _ = four_db
    server = sim("--latency-ms", LATENCY, db=db)
    out = plan(server, desired)
    assert not any(out["summary"].values())
    floor = 1 + sum(math.ceil(n / PAGE_SIZE) for n in SIZES.values())
    stats = sim_stats(server)
    assert stats["kinds"] == {"catalog": {"GET": 1}, "package": {"GET": floor - 1}}
    assert out["http"]["requests"] == floor == 6
    # the four first pages together, then Beta's second page: at least four at once
    assert stats["max_in_flight"] >= len(SIZES)


@pytest.mark.parametrize("concurrency", ["1", "2"])
def test_never_more_requests_in_flight_than_the_concurrency(sim, four_db, concurrency):
    db, desired, _ = four_db
    server = sim("--latency-ms", "20", db=db)
    out = plan(server, desired, "--concurrency", concurrency)
    assert not any(out["summary"].values())
    assert 1 <= sim_stats(server)["max_in_flight"] <= int(concurrency)


@pytest.mark.parametrize("flags", [(), ("--no-embed",)], ids=["embedded", "no-embed"])
def test_the_plan_is_the_same_whatever_order_the_answers_come_in(sim, four_db, flags):
    db, _, changed = four_db
    steady = sim(*flags, db=db)
    reference = plan(steady, changed, "--concurrency", "1", "--max-delete", "1000")
    steady.stop()
    summary = reference["summary"]
    assert summary["create"] > 0 and summary["update"] > 0 and summary["delete"] > 0
    jittery = sim("--latency-ms", "5", "--latency-jitter-ms", "60", *flags, db=db)
    for _ in range(3):
        out = plan(jittery, changed, "--concurrency", "8", "--max-delete", "1000")
        assert out["changes"] == reference["changes"]
        assert out["notes"] == reference["notes"] and out["summary"] == summary
        assert out["http"]["requests"] == reference["http"]["requests"]
    assert sim_stats(jittery)["max_in_flight"] > 1
