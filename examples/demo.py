"""`make demo`: start waldur-sim on a free loopback port with a temporary database and two
offerings, then plan, apply, and plan again (which must show `No changes.` and exit 0) the
desired state in examples/ (targets.yaml: a real EESSI subset; offerings.yaml: a catalog and
the offerings that expose it). Then the same three steps for loaders.yaml (a catalog Waldur's
own EESSI loader fills) against a second waldur-sim that speaks current Waldur, whose loads run
in the background: the apply creates the row, asks for the load, waits for it, checks the
expectations and links the catalog.

Each step runs the real `reconcile` command, exactly as an operator would type it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from waldur_sim.launcher import SimProcess

HERE = Path(__file__).resolve().parent
OFFERINGS = ("--offering", "HPC cluster A", "--offering", "HPC cluster B")
RECONCILE = str(Path(sys.executable).with_name("reconcile"))
STEPS = (
    ("Plan (dry run): what would change", ["--dry-run"], {0}),
    ("Apply: make the server match", [], {0}),
    ("Plan again: nothing left to do", ["--dry-run", "--detailed-exitcode"], {0}),
)
LOADER_STEPS = (
    ("Loader catalog, plan: create the row, load it, link it", ["--dry-run"], {0}),
    ("Loader catalog, apply: Waldur's loader fills it, reconcile waits", [], {0}),
    ("Loader catalog, plan again: nothing left to do", ["--dry-run", "--detailed-exitcode"], {0}),
)
#: (files, waldur-sim's flags, what it is, the steps)
PARTS = (
    (("targets.yaml", "offerings.yaml"), OFFERINGS, "temporary database", STEPS),
    (
        ("loaders.yaml",),
        (*OFFERINGS, "--dialect", "current", "--load-seconds", "3"),
        "current Waldur: loads take 3 s in the background",
        LOADER_STEPS,
    ),
)


def part(files: tuple[str, ...], sim_flags: tuple[str, ...], what: str, steps: tuple) -> bool:
    paths = [HERE / name for name in files]
    with SimProcess(*sim_flags) as sim:
        env = {**os.environ, "WALDUR_API_URL": sim.api_url, "WALDUR_API_TOKEN": sim.staff_token}
        print(
            f"waldur-sim is serving {sim.api_url} ({what}; offerings "
            '"HPC cluster A" and "HPC cluster B")\n',
            flush=True,
        )
        for title, flags, expected in steps:
            shown = [arg for path in paths for arg in ("-f", os.path.relpath(path))]
            print(f"== {title}\n$ {' '.join(['reconcile', *flags, *shown])}", flush=True)
            given = [arg for path in paths for arg in ("-f", str(path))]
            done = subprocess.run([RECONCILE, *flags, *given], env=env, check=False)
            print(f"(exit code {done.returncode})\n", flush=True)
            if done.returncode not in expected:
                print(f"demo failed: expected exit code {sorted(expected)}", file=sys.stderr)
                return False
    return True


def main() -> int:
    for files, sim_flags, what, steps in PARTS:
        if not part(files, sim_flags, what, steps):
            return 1
    print("Demo done: the catalogs on the server now match examples/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
