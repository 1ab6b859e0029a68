"""The daemon's warm run, timed in a process of its own: load the desired file (its cache),
observe, plan, as `reconcile daemon` does per run once it is started.

    WALDUR_API_URL=… WALDUR_API_TOKEN=… python bench/warm.py SRC DESIRED.yaml REPS

`SRC` is the source tree whose `reconciler` is imported (this checkout, or an older one for a
before/after comparison). One untimed run first (connections, caches), then `REPS` timed ones,
each with the cyclic collector paused as the daemon's `reconcile_once` does. Prints JSON: the
seconds of each run, and the plan's summary of the last one (it must be empty for a no-op).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    src, desired, reps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, src)
    from reconciler.core.memory import bulk
    from reconciler.core.plan import make_plan
    from reconciler.core.secret import Secret
    from reconciler.desired.cache import load_cached
    from reconciler.remote.client import ClientConfig, WaldurClient
    from reconciler.remote.observe import observe

    config = ClientConfig(
        api_url=os.environ["WALDUR_API_URL"],
        token=Secret(os.environ["WALDUR_API_TOKEN"]),
        allow_insecure_http=True,
    )
    times: list[float] = []
    with WaldurClient(config) as client:
        for rep in range(reps + 1):
            started = time.perf_counter()
            state = load_cached([desired])
            with bulk():
                plan = make_plan(state, observe(client, state))
            if rep:
                times.append(time.perf_counter() - started)
    changes = len(plan.changes)
    json.dump({"seconds": times, "changes": changes, "complete": plan.complete}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
