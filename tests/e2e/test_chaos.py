"""Chaos: a real EESSI subset applied through injected faults until it converges.

After convergence the server is read with a fresh, fault-free waldur-sim on the same
database and plain HTTP: it must equal the desired state exactly, hold no natural key twice,
and the catalog the file does not declare must be untouched. The numbers each run reports
(runs, faults, retries) are printed for the issue's note (`pytest -s` shows them).
"""

from __future__ import annotations

import json

import pytest

from .harness import (
    count_kinds,
    desired_tree,
    eessi_subset,
    reconcile,
    server_counts,
    server_tree,
    sim_stats,
    write_yaml,
)

FAST_RETRIES = {
    "RECONCILE_TIMEOUT": "1",
    "RECONCILE_RETRY_BACKOFF": "0.02",
    "RECONCILE_MAX_ATTEMPTS": "6",
    "RECONCILE_MAX_RETRY_TIME": "15",
    "RECONCILE_CONCURRENCY": "8",
}
FAULTS = {
    "errors": ["--fault-rate", "0.15"],
    "throttle": ["--throttle", "150"],
    "drops": ["--drop-rate", "0.25"],
    "stalls": ["--stall-rate", "0.03", "--stall-seconds", "2"],
    "all": [
        "--fault-rate",
        "0.1",
        "--throttle",
        "200",
        "--drop-rate",
        "0.15",
        "--stall-rate",
        "0.02",
        "--stall-seconds",
        "2",
    ],
}
BYSTANDER = {
    "catalogs": [
        {
            "name": "Local",
            "version": "1",
            "packages": [
                {
                    "name": "mytool",
                    "versions": [
                        {
                            "version": "1.0",
                            "targets": [{"architecture": "x86_64/generic", "path": "/opt/mytool"}],
                        }
                    ],
                }
            ],
        }
    ]
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_converges_through_faults_without_duplicates(sim, tmp_path, fault):
    desired = eessi_subset(tmp_path, 25)
    db = tmp_path / "sim.sqlite3"
    clean = sim(db=db)
    bystander = write_yaml(tmp_path / "local.yaml", BYSTANDER)
    assert reconcile(clean, "-f", str(bystander)).returncode == 0
    untouched = server_tree(clean.api_url)
    clean.stop()

    server = sim(*FAULTS[fault], "--fault-seed", "7", db=db)
    retries, codes = 0, []
    for _ in range(20):
        done = reconcile(server, "apply", "-o", "json", "-f", str(desired), env=FAST_RETRIES)
        codes.append(done.returncode)
        assert done.returncode in (0, 1, 3), done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        if done.returncode == 1:
            assert done.stderr.startswith("error: "), done.stderr[-2000:]
            continue
        doc = json.loads(done.stdout)
        retries += doc["http"]["retries"]
        assert doc["summary"]["delete"] == 0  # nothing here is ever deleted
        if done.returncode == 0 and doc["summary"]["create"] == 0:
            break
    else:
        pytest.fail(f"no convergence after {len(codes)} runs: exit codes {codes}")
    stats = sim_stats(server)
    server.stop()

    check = sim(db=db)
    tree = server_tree(check.api_url)
    assert tree == desired_tree(desired) | untouched
    assert server_counts(check.api_url) == count_kinds(tree)  # no natural key twice
    assert "DELETE" not in stats["requests"]  # zero deletes sent
    injected = sum(stats["faults"].values())
    assert injected > 0
    print(
        f"\nchaos[{fault}]: runs={len(codes)} exit codes={codes} faults={stats['faults']} "
        f"retries={retries} requests={stats['total']} duplicates=0 deletes=0"
    )
