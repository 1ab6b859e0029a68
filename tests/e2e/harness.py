"""What end-to-end tests share: run the real `reconcile` CLI, and read a server independently.

`server_tree` reads waldur-sim with plain httpx over the API (not through the reconciler's
observer), so assertions about "what the server holds" do not trust the code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.datafiles import data_file
from waldur_sim.launcher import SimProcess

ROOT = Path(__file__).resolve().parents[2]
RECONCILE = str(Path(sys.executable).with_name("reconcile"))


def cli_env(
    sim: SimProcess | None,
    token: str | None = "staff",
    env: dict[str, str] | None = None,
    api_url: str | None = None,
) -> dict[str, str]:
    """The environment of a `reconcile` child: none of the caller's WALDUR_/RECONCILE_
    settings, the server's URL and the chosen token ("staff", "user", a literal, or None)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WALDUR_", "RECONCILE_"))}
    if sim is not None or api_url:
        full_env["WALDUR_API_URL"] = api_url or sim.api_url  # type: ignore[union-attr]
    if token == "staff" and sim is not None:
        full_env["WALDUR_API_TOKEN"] = sim.staff_token
    elif token == "user" and sim is not None:
        full_env["WALDUR_API_TOKEN"] = sim.user_token
    elif token not in (None, "staff", "user"):
        full_env["WALDUR_API_TOKEN"] = token
    full_env["RECONCILE_LOCK_DIR"] = "/tmp"
    full_env.update(env or {})
    return full_env


def reconcile(
    sim: SimProcess | None,
    *args: str,
    token: str | None = "staff",
    env: dict[str, str] | None = None,
    timeout: float = 600,
    api_url: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `reconcile` command against `sim` (in `cwd`) and capture its output."""
    full_env = cli_env(sim, token, env, api_url)
    return subprocess.run(
        [RECONCILE, *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def plan_json(
    sim: SimProcess, *files: Path, extra: tuple[str, ...] = (), ok: tuple[int, ...] = (0, 2)
) -> dict[str, Any]:
    """`reconcile plan -o json EXTRA… -f FILE…`: its document, its exit code (asserted to be
    one of `ok`) added as "exit"."""
    args = ["plan", "-o", "json", *extra]
    for f in files:
        args += ["-f", str(f)]
    done = reconcile(sim, *args)
    assert done.returncode in ok, done.stderr
    return json.loads(done.stdout) | {"exit": done.returncode}


def write_yaml(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def edited_example(path: Path, **first_package: str) -> Path:
    """examples/targets.yaml with one update (`first_package`'s fields set on GROMACS), one
    delete (OpenFOAM keeps only its first version: the others go, with their targets) and one
    create (a package "New" of one version), written to `path`."""
    doc = yaml.safe_load((ROOT / "examples" / "targets.yaml").read_text())
    packages = doc["catalogs"][0]["packages"]
    assert [p["name"] for p in packages[:2]] == ["GROMACS", "OpenFOAM"]
    packages[0].update(first_package)
    packages[1]["versions"] = packages[1]["versions"][:1]
    packages.append({"name": "New", "versions": [{"version": "1"}]})
    return write_yaml(path, doc)


def _all_pages(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, Any] | None = {**params, "page_size": 300}
    while next_url:
        response = client.get(next_url, params=query)
        response.raise_for_status()
        items.extend(response.json())
        next_url = response.links.get("next", {}).get("url")
        query = None  # the next link carries the query
    return items


def server_tree(api_url: str) -> set[tuple[str, ...]]:
    """Every (catalog, version, type, package, version, module_version, family, micro, path)
    on the server, plus shorter tuples for objects with no children: the whole tree, read
    with plain HTTP and the server's own embedding."""
    tree: set[tuple[str, ...]] = set()
    with httpx.Client(timeout=30) as client:
        for cat in _all_pages(client, api_url + "marketplace-software-catalogs/"):
            ckey = (cat["name"], cat["version"], cat["catalog_type"])
            tree.add(ckey)
            for pkg in _all_pages(
                client, api_url + "marketplace-software-packages/", catalog_uuid=cat["uuid"]
            ):
                pkey = (*ckey, pkg["name"])
                tree.add(pkey)
                for ver in pkg["versions"]:
                    vkey = (*pkey, ver["version"], ver["module_version"])
                    tree.add(vkey)
                    for tgt in ver["targets"]:
                        family = tgt.get("cpu_family", tgt.get("target_name"))
                        micro = tgt.get("cpu_microarchitecture", tgt.get("target_subtype"))
                        path = tgt.get("path", tgt.get("location"))
                        tree.add((*vkey, family, micro, path))
    return tree


def desired_tree(path: Path) -> set[tuple[str, ...]]:
    """The tree a desired file declares, in the shape `server_tree` reports."""
    from reconciler.core.model import Kind
    from reconciler.desired.loader import load_desired

    tree: set[tuple[str, ...]] = set()
    for key, record in load_desired([path]).records.items():
        is_target = key.kind is Kind.TARGET
        tree.add((*key.parts, record.fields.get("path", "")) if is_target else key.parts)
    return tree


def count_kinds(tree: set[tuple[str, ...]]) -> dict[str, int]:
    sizes = {3: "catalog", 4: "package", 6: "version", 9: "target"}
    counts = dict.fromkeys(sizes.values(), 0)
    for item in tree:
        counts[sizes[len(item)]] += 1
    return counts


def sim_stats(sim: SimProcess) -> dict[str, Any]:
    return httpx.get(sim.api_url + "_sim/stats/", timeout=10).json()


def reset_stats(sim: SimProcess) -> None:
    """Zero waldur-sim's request counters (`sim_stats`)."""
    httpx.delete(sim.api_url + "_sim/stats/", timeout=10).raise_for_status()


def writes(stats: dict[str, Any]) -> int:
    return sum(
        sum(codes.values())
        for method, codes in stats["requests"].items()
        if method in ("POST", "PUT", "PATCH", "DELETE")
    )


def eessi_subset(
    tmp: Path,
    packages: int,
    snapshot: str = "json_data_detail_2026-02-21.json",
    name: str = "subset.yaml",
) -> Path:
    """A desired file of the first `packages` packages of a real EESSI snapshot."""
    from reconciler.tools import eessi

    source = data_file("eessi", *snapshot.split("/"))
    doc = eessi.convert(eessi.load(source))
    doc["catalogs"][0]["packages"] = doc["catalogs"][0]["packages"][:packages]
    return write_yaml(tmp / name, doc)


def server_counts(api_url: str) -> dict[str, int]:
    """X-Result-Count of each collection: with `count_kinds(server_tree(...))` it shows that
    no natural key is held twice."""
    kinds = {
        "catalog": "catalogs",
        "package": "packages",
        "version": "versions",
        "target": "targets",
    }
    with httpx.Client(timeout=30) as client:
        return {
            kind: int(
                client.head(f"{api_url}marketplace-software-{path}/").headers["x-result-count"]
            )
            for kind, path in kinds.items()
        }
