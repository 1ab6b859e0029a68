"""What loader catalogs cost in requests (issue 20): the wait for a load, and a no-op.

    .venv/bin/python bench/loaders.py                   # a 60 s load: about 2 minutes
    .venv/bin/python bench/loaders.py --load-seconds 10 # quicker, same method

Runs the installed `reconcile` against a real `waldur-sim --dialect current` whose loads take
`--load-seconds` in its background worker (upstream's loaders on the EESSI data in data/), and
counts the requests the server answered (`/api/_sim/stats/`, reset before each run):

1. **wait**: `reconcile apply` of a file declaring EESSI 2023.06 with `loader: eessi` on a fresh
   server: the catalog's POST, the `update_catalog` POST, and the looks at the catalog row
   while the load runs (goal: at most 15 requests for the wait of a 60 s load);
2. **no-op**: `reconcile plan` of the same catalog once loaded, in the `loader:` form (with and
   without package expectations) and, as today, declared in full (`reconcile export --full`):
   the loader form must cost no more.

Prints a Markdown table (for bench/README.md) and exits non-zero when a run is wrong.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from run import by_method, requests_text, reset_stats, sim_stats

from waldur_sim.launcher import SimProcess

RECONCILE = str(Path(sys.executable).with_name("reconcile"))
OFFERING = "HPC Cluster"


def loader_doc(expect: bool) -> dict[str, Any]:
    catalog: dict[str, Any] = {"name": "EESSI", "version": "2023.06", "loader": "eessi"}
    if expect:
        catalog["expect"] = {"packages": ["GROMACS"], "architectures": ["x86_64/amd/zen3"]}
    catalog["offerings"] = [{"offering": OFFERING, "enabled_cpu_family": ["x86_64"]}]
    return {"catalogs": [catalog]}


def run(sim: SimProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"WALDUR_API_URL": sim.api_url, "WALDUR_API_TOKEN": sim.staff_token, "PATH": "/usr/bin"}
    env["RECONCILE_LOCK_DIR"] = tempfile.gettempdir()
    return subprocess.run([RECONCILE, *args], env=env, capture_output=True, text=True, check=False)


def counted(sim: SimProcess, *args: str, codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
    reset_stats(sim)
    done = run(sim, *args)
    if done.returncode not in codes:
        raise SystemExit(f"reconcile {' '.join(args)} exited {done.returncode}:\n{done.stdout}")
    stats = sim_stats(sim)
    catalog = stats["kinds"].get("catalog", {})
    return {"total": stats["total"], "by_method": by_method(stats), "catalog": catalog, "out": done}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimProcess(
            "--dialect", "current", "--offering", OFFERING, "--load-seconds", str(args.load_seconds)
        ) as sim,
    ):
        work = Path(tmp)
        plain = work / "loader.yaml"
        plain.write_text(yaml.safe_dump(loader_doc(expect=False), sort_keys=False))
        expecting = work / "expect.yaml"
        expecting.write_text(yaml.safe_dump(loader_doc(expect=True), sort_keys=False))
        apply = counted(sim, "apply", "-f", str(plain), "--progress", "lines")
        if "[done: loaded" not in apply["out"].stdout:
            raise SystemExit(f"the load did not finish:\n{apply['out'].stdout}")
        # each look at the catalog row prints one progress line
        looks = sum(
            line.startswith("load EESSI 2023.06:") for line in apply["out"].stderr.splitlines()
        )
        wait = looks + 1  # and the update_catalog POST
        rows.append(
            (
                f"apply: create, load ({args.load_seconds:g} s), wait, link",
                requests_text(apply["by_method"]),
                f"wait: {wait} (update_catalog POST + {looks} looks at the row)",
            )
        )
        if args.load_seconds >= 60 and wait > 15:
            raise SystemExit(f"a {args.load_seconds:g} s load cost {wait} requests (goal 15)")
        full = work / "full.yaml"
        exported = run(sim, "export", "--full", "--out", str(full))
        if exported.returncode != 0:
            raise SystemExit(exported.stderr)
        noops = {}
        for label, path in (
            ("no-op, loader form", plain),
            ("no-op, loader form + package expectations", expecting),
            ("no-op, today: the same catalog declared in full", full),
        ):
            found = counted(sim, "plan", "-f", str(path), "--detailed-exitcode")
            if "No changes." not in found["out"].stdout:
                raise SystemExit(f"{label}: not a no-op:\n{found['out'].stdout}")
            noops[label] = found["total"]
            rows.append((label, requests_text(found["by_method"]), f"{found['total']} requests"))
        today = noops["no-op, today: the same catalog declared in full"]
        if any(n > today for n in noops.values()):
            raise SystemExit(f"a loader no-op costs more than today's: {noops}")
    print("| run | requests by method | note |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
