"""`make demo`: start waldur-sim on a free loopback port with a temporary database and two
offerings, then plan, apply, and plan again (which must show `No changes.` and exit 0) the
desired state in examples/ (targets.yaml: a real EESSI subset; offerings.yaml: a catalog and
the offerings that expose it).

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


def main() -> int:
    desired = HERE
    with SimProcess(*OFFERINGS) as sim:
        env = {**os.environ, "WALDUR_API_URL": sim.api_url, "WALDUR_API_TOKEN": sim.staff_token}
        print(
            f"waldur-sim is serving {sim.api_url} (temporary database; offerings "
            '"HPC cluster A" and "HPC cluster B")\n',
            flush=True,
        )
        for title, flags, expected in STEPS:
            command = ["reconcile", *flags, "-f", os.path.relpath(desired)]
            print(f"== {title}\n$ {' '.join(command)}", flush=True)
            done = subprocess.run([RECONCILE, *flags, "-f", str(desired)], env=env, check=False)
            print(f"(exit code {done.returncode})\n", flush=True)
            if done.returncode not in expected:
                print(f"demo failed: expected exit code {sorted(expected)}", file=sys.stderr)
                return 1
    print("Demo done: the catalogs on the server now match examples/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
