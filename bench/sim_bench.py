"""waldur-sim throughput: requests per second for list pages and creates, 1 and 8 clients.

    .venv/bin/python bench/sim_bench.py [--eessi PATH] [--requests N]

The full EESSI catalog (654 packages, 1,200 versions, 16,751 targets) is written straight into
a SQLite file with waldur-sim's own store, then served by a real `waldur-sim --db` process.
Each client is a thread with its own keep-alive `httpx.Client`; responses are read but not
decoded, so the numbers are the server's. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.datafiles import EESSI_FULL, data_file
from waldur_sim.kinds import CATALOG, PACKAGE, TARGET, VERSION, KindInfo
from waldur_sim.launcher import SimProcess
from waldur_sim.store import Store

EESSI = data_file(*EESSI_FULL)
TARGETS = "marketplace-software-targets/"
PACKAGES = "marketplace-software-packages/"


def load_eessi(db: Path, source: Path) -> dict[str, int]:
    """Write the EESSI catalog into a fresh waldur-sim database; return the object counts."""
    data = json.loads(source.read_text())
    store = Store(db)
    with store.writing() as conn:
        catalog = _insert(
            store,
            conn,
            CATALOG,
            name="EESSI",
            version="2023.06",
            catalog_type="binary_runtime",
            source_url="https://eessi.io",
            description="",
            metadata="{}",
            auto_update_enabled=0,
        )
        for name, software in sorted(data["software"].items()):
            package = _insert(
                store,
                conn,
                PACKAGE,
                catalog_id=catalog,
                name=name,
                description=software.get("description") or "",
                homepage=software.get("homepage") or None,
                is_extension=0,
            )
            for key, detail in sorted(software["versions"].items()):
                module = key.split("/", 1)[1]
                version = _insert(
                    store,
                    conn,
                    VERSION,
                    package_id=package,
                    version=module.split("-")[0],
                    module_version=module,
                )
                for path in detail["targets"]:
                    family, micro = path.split("/linux/", 1)[1].split("/", 1)
                    _insert(
                        store,
                        conn,
                        TARGET,
                        version_id=version,
                        target_type="cpu_architecture",
                        target_name=family,
                        target_subtype=micro,
                        location=path,
                    )
        counts = {
            kind: conn.execute(f"SELECT COUNT(*) FROM {kind}").fetchone()[0]
            for kind in ("catalog", "package", "version", "target")
        }
    store.close()
    return counts


def _insert(store: Store, conn: sqlite3.Connection, kind: KindInfo, **values: object) -> int:
    store.insert(conn, kind, values)
    return int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])


@dataclass
class Result:
    operation: str
    clients: int
    latencies: list[float]
    wall: float

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p95 = ms[int(len(ms) * 0.95) - 1]
        rate = len(ms) / self.wall
        return (
            f"| {self.operation} | {self.clients} | {len(ms)} | {rate:,.0f} | "
            f"{statistics.fmean(ms):.1f} | {statistics.median(ms):.1f} | {p95:.1f} |"
        )


Request = Callable[[httpx.Client, int, int], httpx.Response]


def measure(sim: SimProcess, operation: str, clients: int, total: int, send: Request) -> Result:
    per_client = total // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def work(worker: int) -> None:
        headers = {"Authorization": f"Token {sim.staff_token}"}
        with httpx.Client(base_url=sim.api_url, headers=headers, timeout=60) as client:
            send(client, worker, -1)  # open the connection before the clock starts
            barrier.wait()
            for i in range(per_client):
                started = time.perf_counter()
                response = send(client, worker, i)
                latencies[worker].append(time.perf_counter() - started)
                if response.status_code >= 300 and response.request.method != "GET":
                    raise RuntimeError(f"{operation}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Result(
        operation, clients, [x for xs in latencies for x in xs], time.perf_counter() - started
    )


def list_pages(path: str, pages: int) -> Request:
    def send(client: httpx.Client, worker: int, i: int) -> httpx.Response:
        page = (worker * 7 + i) % pages + 1
        response = client.get(path, params={"page_size": 300, "page": page})
        response.read()
        return response

    return send


def create_targets(versions: list[str], tag: str) -> Request:
    def send(client: httpx.Client, worker: int, i: int) -> httpx.Response:
        if i < 0:
            return client.get("")
        body = {
            "version": versions[(worker * 131 + i) % len(versions)],
            "cpu_family": "bench",
            "cpu_microarchitecture": f"{tag}-{worker}-{i}",
        }
        return client.post(TARGETS, json=body)

    return send


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eessi", type=Path, default=EESSI)
    parser.add_argument("--requests", type=int, default=400, help="per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "eessi.sqlite3"
        started = time.perf_counter()
        counts = load_eessi(db, args.eessi)
        print(f"loaded {counts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results: list[Result] = []
        with SimProcess(db=db) as sim:
            probe = httpx.get(
                sim.api_url + "marketplace-software-versions/", params={"page_size": 300}
            )
            versions = [v["url"] for v in probe.json()]
            target_pages = -(-counts["target"] // 300)
            package_pages = -(-counts["package"] // 300)
            for clients in (1, 8):
                results.append(
                    measure(
                        sim,
                        "GET 300 targets (list page)",
                        clients,
                        args.requests,
                        list_pages(TARGETS, target_pages),
                    )
                )
            for clients in (1, 8):
                results.append(
                    measure(
                        sim,
                        "GET 300 packages, embedded trees",
                        clients,
                        args.requests // 4,
                        list_pages(PACKAGES, package_pages),
                    )
                )
            for clients in (1, 8):
                results.append(
                    measure(
                        sim,
                        "POST target (create)",
                        clients,
                        args.requests,
                        create_targets(versions, f"c{clients}"),
                    )
                )
        with SimProcess("--no-embed", db=db) as sim:
            for clients in (1, 8):
                results.append(
                    measure(
                        sim,
                        "GET 300 packages, --no-embed",
                        clients,
                        args.requests,
                        list_pages(PACKAGES, package_pages),
                    )
                )
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    print(
        f"Machine: {machine}, "
        f"SQLite {sqlite3.sqlite_version}; {datetime.now(UTC):%Y-%m-%d}. Data: EESSI 2023.06, "
        f"{sum(counts.values()):,} objects ({counts['package']} packages, {counts['version']:,} "
        f"versions, {counts['target']:,} targets).\n"
    )
    print("| operation | clients | requests | req/s | mean ms | median ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
