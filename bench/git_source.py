"""What the Git source adds to a no-op run: `reconcile plan` of an unchanged commit, from Git
(`--git-url`, warm cache) against the same files on disk, and a bare `git fetch` of the same
repository over the same server for scale.

    .venv/bin/python bench/git_source.py [--reps 9] [--latency-ms 20]

The Git server is `git http-backend` behind a loopback HTTP server (tests/gitserver.py, the
real smart-HTTP protocol, with a token); the Waldur server is waldur-sim with the example
catalog (examples/targets.yaml) applied, so every measured plan is a no-op (checked). Each run
is a child process; medians of --reps. The goal (issue 21): the Git no-op costs at most one
fetch over the local no-op.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitserver import GitHttpServer, GitRepo  # noqa: E402
from waldur_sim.launcher import SimProcess  # noqa: E402

BIN = Path(sys.executable).parent
TOKEN = "bench-git-token"


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or ("No changes." not in done.stdout and "fetch" not in command):
        raise SystemExit(f"{' '.join(command[:3])}… failed: {done.stdout[-300:]}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "srv").mkdir()
        git = GitHttpServer(tmp / "srv", token=TOKEN)
        repo = GitRepo(tmp / "srv", tmp / "work")
        repo.write("catalog/targets.yaml", (ROOT / "examples" / "targets.yaml").read_text())
        repo.commit("catalog")
        repo.push()
        sim = SimProcess("--latency-ms", str(args.latency_ms)).start()
        try:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("WALDUR_", "RECON"))},
                "WALDUR_API_URL": sim.api_url,
                "WALDUR_API_TOKEN": sim.staff_token,
                "RECONCILE_LOCK_DIR": str(tmp),
                "RECONCILE_GIT_TOKEN": TOKEN,
                "XDG_CACHE_HOME": str(tmp / "cache"),
            }
            reconcile = str(BIN / "reconcile")
            local = [reconcile, "plan", "-f", str(repo.work / "catalog")]
            subprocess.run(
                [reconcile, "apply", "-f", str(repo.work / "catalog")], env=env, check=True
            )
            remote = [reconcile, "plan", "--git-url", git.url("catalogs"), "-f", "catalog/"]
            timed(remote, env)  # warm: the first fetch and the unpacked tree
            fetch_env = {**env, "GIT_CONFIG_COUNT": "0"}
            bare = tmp / "fetch.git"
            subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
            auth = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
            fetch = [
                "git", "-c", f"http.extraHeader=Authorization: Basic {auth}",
                "--git-dir", str(bare), "fetch", "--quiet", "--depth=1", "--force",
                git.url("catalogs"), "+main:refs/bench",
            ]  # fmt: skip
            subprocess.run(fetch, env=fetch_env, check=True)
            rows: dict[str, list[float]] = {"local": [], "git": [], "fetch": []}
            requests = 0
            for _ in range(args.reps):
                rows["local"].append(timed(local, env))
                before = len(git.requests)
                rows["git"].append(timed(remote, env))
                requests += len(git.requests) - before
                rows["fetch"].append(timed(fetch, fetch_env))
            per_run = requests / args.reps
        finally:
            sim.stop()
            git.stop()
    med = {name: statistics.median(values) for name, values in rows.items()}
    print(f"| run | median s (of {args.reps}) |")
    print("|---|---:|")
    print(f"| no-op `reconcile plan -f catalog/` (local files) | {med['local']:.3f} |")
    print(f"| no-op `reconcile plan --git-url … -f catalog/` (same commit) | {med['git']:.3f} |")
    print(f"| `git fetch --depth=1` alone (same server) | {med['fetch']:.3f} |")
    extra = med["git"] - med["local"]
    fetch_ms = med["fetch"] * 1000
    print(f"\nGit source over local: +{extra * 1000:.0f} ms; one fetch: {fetch_ms:.0f} ms")
    print(f"HTTP requests to the Git server per no-op run: {per_run:g} (one fetch)")


if __name__ == "__main__":
    main()
