"""What makes the reconciler fast at catalog scale, checked for correctness (timings live in
bench/): the minimum number of requests for a no-op, concurrent page reads that lose and add
nothing (also while the server changes), concurrent writes that end where sequential ones do,
and the no-embed read path planning exactly what the embedded one plans.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.core.model import Kind
from reconciler.remote.client import ClientConfig, WaldurClient
from reconciler.remote.listing import PAGE_SIZE
from waldur_sim.launcher import SimProcess

from .harness import plan_json, reconcile, reset_stats, server_tree, sim_stats, write_yaml, writes

ARCHITECTURES = ["x86_64/generic", "x86_64/amd/zen3", "aarch64/generic"]
PATH = "/cvmfs/scale/{catalog_version}/{cpu_family}/{cpu_microarchitecture}"
# Two catalogs whose package listings are exactly one page and a page and a bit.
SIZES = {"Alpha": PAGE_SIZE, "Beta": 2 * PAGE_SIZE + 1}
CHURN = "aaa-churn"  # sorts before every other package: each churn write shifts every page


def catalog(name: str, packages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1",
        "auto_update_enabled": False,
        "target_defaults": {"architectures": list(ARCHITECTURES), "path": PATH},  # no YAML alias
        "packages": packages,
        **extra,
    }


def wide(name: str, count: int) -> dict[str, Any]:
    """`count` packages; every 50th has a version (with the default targets)."""
    packages = [
        {
            "name": f"{name.lower()}-{i:04d}",
            "description": f"package {i}",
            "versions": [{"version": "1.0"}] if i % 50 == 0 else [],
        }
        for i in range(count)
    ]
    return catalog(name, packages)


def deep(new: bool) -> dict[str, Any]:
    """A catalog of 40 packages, 2 versions each, 3 targets each (`new=False`), and a later
    state of it (`new=True`) that creates, updates and deletes objects at every level."""
    packages = []
    for i in range(45 if new else 40):
        if new and 35 <= i < 40:
            continue  # 5 packages deleted with their subtrees
        versions: list[dict[str, Any]] = [{"version": "1.0"}, {"version": "2.0"}]
        description = f"package {i}"
        if new and i % 7 == 0:
            description += " (changed)"
        if new and i % 5 == 0:
            versions = [versions[0], {"version": "3.0", "release_date": "2024-05-01"}]
        if new and i % 6 == 0:
            versions[0]["targets"] = [
                {"cpu_family": "x86_64", "cpu_microarchitecture": "generic", "path": f"/moved/{i}"}
            ]
        packages.append({"name": f"pkg-{i:03d}", "description": description, "versions": versions})
    return {"catalogs": [catalog("Deep", packages)]}


def load(api_url: str, token: str, desired: Path) -> None:
    env = {"WALDUR_API_URL": api_url, "WALDUR_API_TOKEN": token}
    done = reconcile(None, "apply", "-f", str(desired), "--concurrency", "8", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def wide_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A database holding the two wide catalogs, and their desired file."""
    tmp = tmp_path_factory.mktemp("wide")
    desired = write_yaml(tmp / "wide.yaml", {"catalogs": [wide(n, c) for n, c in SIZES.items()]})
    db = tmp / "wide.sqlite3"
    with SimProcess(db=db) as server:
        load(server.api_url, server.staff_token, desired)
    return db, desired


def copy_of(db: Path, tmp: Path) -> Path:
    return Path(shutil.copyfile(db, tmp / db.name))


def test_no_op_costs_one_catalog_page_and_the_package_pages(sim, wide_db, tmp_path):
    db, desired = wide_db
    server = sim(db=copy_of(db, tmp_path))
    reset_stats(server)
    out = plan_json(server, desired, ok=(0,))
    assert out["summary"] == {"create": 0, "update": 0, "delete": 0, "not_applicable": 0}
    expected = 1 + sum(math.ceil(n / PAGE_SIZE) for n in SIZES.values())
    assert expected == 5
    stats = sim_stats(server)
    assert stats["requests"] == {"GET": {"200": expected}}
    assert stats["kinds"] == {"catalog": {"GET": 1}, "package": {"GET": expected - 1}}
    assert out["http"]["requests"] == expected and out["http"]["read_path"] == "embedded"


def listing(api_url: str, concurrency: int, kind: Kind, **params: Any) -> list[dict[str, Any]]:
    config = ClientConfig(api_url=api_url, concurrency=concurrency)
    with WaldurClient(config) as client:
        result = client.list_all(kind, params)
    assert result.complete, result.reason
    return result.items


def test_concurrent_pages_hold_exactly_what_sequential_pages_hold(sim, wide_db, tmp_path):
    db, _ = wide_db
    server = sim("--latency-ms", "5", db=copy_of(db, tmp_path))
    beta = next(c for c in listing(server.api_url, 1, Kind.CATALOG) if c["name"] == "Beta")
    for params, count in (
        ({"catalog_uuid": beta["uuid"]}, SIZES["Beta"]),
        ({}, sum(SIZES.values())),
    ):
        one = listing(server.api_url, 1, Kind.PACKAGE, **params)
        eight = listing(server.api_url, 8, Kind.PACKAGE, **params)
        assert eight == one  # the same objects, in the same order, with the same content
        assert len({item["uuid"] for item in one}) == len(one) == count > 2 * PAGE_SIZE

    # The same through the command: a plan that creates, updates and deletes.
    doc = {"catalogs": [wide(n, c) for n, c in SIZES.items()]}
    beta_packages = doc["catalogs"][1]["packages"]
    deleted = beta_packages[::3]  # spread over every page
    del beta_packages[::3]
    updated = beta_packages[::4]
    for package in updated:
        package["description"] = "changed"
    beta_packages.append({"name": "beta-new", "versions": [{"version": "9"}]})
    changed = write_yaml(tmp_path / "changed.yaml", doc)
    plans = [
        plan_json(server, changed, extra=("--max-delete", "1000", "--concurrency", c), ok=(0,))
        for c in "18"
    ]
    assert plans[0]["changes"] == plans[1]["changes"]
    assert plans[0]["summary"] == {
        "create": 1 + 1 + len(ARCHITECTURES),
        "update": len(updated),
        "delete": len(deleted),
        "not_applicable": 0,
    }


def churn(api_url: str, token: str, catalog_url: str, stop: threading.Event) -> int:
    """Create and delete packages at the front of the listing until `stop`; return writes."""
    sent = 0
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        while not stop.is_set():
            body = {"catalog": catalog_url, "name": f"{CHURN}-{sent}"}
            created = client.post("marketplace-software-packages/", json=body)
            assert created.status_code == 201, created.text
            assert client.delete(created.json()["url"]).status_code == 204
            sent += 2
    return sent


def test_a_listing_that_changes_meanwhile_is_complete_and_right_or_marked_and_deletes_nothing(
    sim, wide_db, tmp_path
):
    db, desired = wide_db
    server = sim("--latency-ms", "15", db=copy_of(db, tmp_path))
    beta = next(c for c in listing(server.api_url, 1, Kind.CATALOG) if c["name"] == "Beta")
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(churn(server.api_url, server.staff_token, beta["url"], stop))
    )
    worker.start()
    try:
        for _ in range(4):
            out = plan_json(server, desired, extra=("--concurrency", "8"), ok=(0, 4))
            deletes = [c for c in out["changes"] if c["action"] == "delete"]
            # One object read on two pages of a moving listing is not two objects.
            assert not any("twice" in note for note in out["notes"]), out["notes"]
            assert out["summary"]["update"] == 0
            if out["complete"]:
                # The server's content at one moment: nothing declared missed (it would be a
                # create), and at most the one churn package that was live then.
                assert out["exit"] == 0 and out["summary"]["create"] == 0
                assert len(deletes) <= 1
                assert all(c["key"]["package"].startswith(CHURN) for c in deletes)
            else:
                # Marked incomplete: no delete at all; the guard refuses the run (exit 4) when
                # it had to withhold one.
                assert deletes == [] and out["summary"]["delete"] == 0
                withheld = any("withheld" in note for note in out["notes"])
                assert out["exit"] == (4 if withheld else 0)
    finally:
        stop.set()
        worker.join()
    assert result[0] >= 20  # the server really changed during the listings
    after = plan_json(server, desired, ok=(0,))  # and once it is quiet, a full, exact read
    assert after["complete"] and after["summary"] == {
        "create": 0,
        "update": 0,
        "delete": 0,
        "not_applicable": 0,
    }


def test_apply_with_concurrency_ends_like_apply_one_at_a_time(sim, tmp_path):
    old = write_yaml(tmp_path / "old.yaml", deep(new=False))
    new = write_yaml(tmp_path / "new.yaml", deep(new=True))
    results, trees = [], []
    for concurrency in ("1", "8"):
        server = sim("--latency-ms", "2")
        load(server.api_url, server.staff_token, old)
        reset_stats(server)
        done = reconcile(
            server,
            "apply",
            "-o",
            "json",
            "-f",
            str(new),
            "--concurrency",
            concurrency,
            "--max-delete",
            "1000",
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        out = json.loads(done.stdout)
        assert writes(sim_stats(server)) == sum(out["summary"].values())
        assert out["result"]["summary"]["done"] == len(out["changes"])
        results.append(out["changes"])
        trees.append(server_tree(server.api_url))
    assert results[0] == results[1]  # every change, its order and its status
    assert trees[0] == trees[1]
    actions = {(c["action"], c["kind"]) for c in results[0]}
    assert actions >= {
        ("create", "package"),
        ("create", "version"),
        ("create", "target"),
        ("update", "package"),
        ("update", "target"),
        ("delete", "package"),
        ("delete", "version"),
        ("delete", "target"),
    }


def test_no_embed_server_gives_the_same_plan_and_says_how_it_was_read(sim, tmp_path):
    old = write_yaml(tmp_path / "old.yaml", deep(new=False))
    new = write_yaml(tmp_path / "new.yaml", deep(new=True))
    db = tmp_path / "deep.sqlite3"
    with SimProcess(db=db) as server:
        load(server.api_url, server.staff_token, old)
    plans, texts = {}, {}
    for flags in ((), ("--no-embed",)):
        server = sim(*flags, db=db)
        plans[flags] = plan_json(server, new, extra=("--max-delete", "1000"), ok=(0,))
        texts[flags] = reconcile(server, "plan", "-f", str(new), "--max-delete", "1000").stdout
        server.stop()
    embedded, flat = plans[()], plans[("--no-embed",)]
    assert flat["changes"] == embedded["changes"] and flat["summary"] == embedded["summary"]
    assert embedded["summary"]["delete"] > 0 and embedded["summary"]["update"] > 0
    assert embedded["http"]["read_path"] == "embedded"
    assert flat["http"]["read_path"] == "per-kind listings"
    assert "read via per-kind listings" in texts[("--no-embed",)]
    assert "read via embedded" in texts[()]
    # one catalog page and one package page; without embedding, also one version page and
    # one target listing per live version; then, as the plan writes packages, versions and
    # targets, an OPTIONS of each and GET /api/version/ (the server's capabilities)
    versions = sum(len(p["versions"]) for p in deep(new=False)["catalogs"][0]["packages"])
    capabilities = 3 + 1
    assert embedded["http"]["requests"] == 2 + capabilities
    assert flat["http"]["requests"] == 3 + versions + capabilities
