"""The reconciler at catalog scale (issue 6): five scenarios and two baselines in one run.

    .venv/bin/python bench/run.py [--quick] [--reps N] [--long-reps N] [--naive-stride N]

Every scenario runs the installed `reconcile` command as a child process against a real
`waldur-sim --latency-ms 20` on loopback and measures the child: wall time, CPU seconds and
peak RSS (from `os.wait4`), and the requests the server answered, by method (waldur-sim's
`/api/_sim/stats/`, reset before each run). A server that a run changes is started afresh for
every repetition on a copy of a template database, written once by `simdb.write_state` and
checked with a `reconcile plan` that must come out empty. Medians over `--reps` repetitions
(default 3); the two runs of about a minute or half a minute each (the full load, and the
sequential floor of the no-embed no-op) are repeated `--long-reps` times (default 1), so that
`make bench` takes about five minutes. `--quick`: one repetition of everything.

Scenarios: (1) full EESSI load from empty, (2) no-op on the full EESSI catalog, (3) real drift
(2025-05-28 loaded, then plan and apply 2026-02-18), (4) a synthetic 100,000-target no-op (the
plan step alone, in-process, and the whole run), (5) 2 and 3 against `waldur-sim --no-embed`.
Baselines: `floor.py` (the no-op's listing pages, plain httpx loop) and `naive.py` (a hand-
written sequential sync; on a strided subset of packages, extrapolated by its request count).

Writes bench/results/<UTC time>.json and bench/results/latest.json, prints markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from floor import read_floor  # noqa: E402
from naive import predicted_requests  # noqa: E402
from simdb import write_state  # noqa: E402

from reconciler.core.model import DesiredState, Key, Kind  # noqa: E402
from reconciler.core.plan import make_plan  # noqa: E402
from reconciler.desired import cache  # noqa: E402
from reconciler.desired.cache import load_cached  # noqa: E402
from reconciler.desired.loader import load_desired  # noqa: E402
from reconciler.output import logs  # noqa: E402
from reconciler.remote.client import ClientConfig, WaldurClient  # noqa: E402
from reconciler.remote.observe import observe  # noqa: E402
from reconciler.tools import eessi  # noqa: E402
from tests.datafiles import EESSI_FULL, data_file  # noqa: E402
from waldur_sim.launcher import SimProcess  # noqa: E402

SNAPSHOTS = {
    "full": data_file(*EESSI_FULL),
    "old": data_file("eessi", "history", "json_data_detail_2025-05-28.json"),
    "new": data_file("eessi", "history", "json_data_detail_2026-02-18.json"),
}
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
WRITES = ("POST", "PUT", "PATCH", "DELETE")
MAX_DELETE = ("--max-delete", "100000")
SYNTHETIC_TARGETS = 100_000
ARCHITECTURES = (
    *(f"x86_64/{m}" for m in ("generic", "amd/zen2", "amd/zen3", "amd/zen4", "intel/haswell")),
    *(f"x86_64/intel/{m}" for m in ("skylake_avx512", "cascadelake", "icelake", "sapphirerapids")),
    *(f"aarch64/{m}" for m in ("generic", "a64fx", "neoverse_n1", "neoverse_v1", "nvidia/grace")),
)


class BenchError(RuntimeError):
    """A run failed or its result is wrong: the numbers would mean nothing."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


# -- measurements --------------------------------------------------------------------------


@dataclass
class Run:
    """One measured process (or an extrapolation of one)."""

    wall: float
    cpu: float
    rss_mb: float
    requests: dict[str, int]
    output: Any = field(default=None, repr=False)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.requests.items() if method in WRITES)


@dataclass
class Row:
    """A line of the table: the medians of a scenario's repetitions."""

    scenario: str
    label: str
    runs: list[Run]
    note: str = ""
    floor: Row | None = None
    naive: Row | None = None

    def median(self, name: str) -> float:
        return statistics.median(getattr(run, name) for run in self.runs)

    @property
    def wall(self) -> float:
        return self.median("wall")

    @property
    def requests(self) -> dict[str, int]:
        return self.runs[0].requests

    @property
    def vs_floor(self) -> float | None:
        return self.wall / self.floor.wall if self.floor else None

    @property
    def vs_naive(self) -> float | None:
        return self.naive.wall / self.wall if self.naive else None

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "run": self.label,
            "wall_s": self.wall,
            "cpu_s": self.median("cpu"),
            "peak_rss_mb": self.median("rss_mb"),
            "requests": self.requests,
            "requests_per_s": self.runs[0].total / self.wall if self.wall else None,
            "vs_floor": self.vs_floor,
            "naive_speedup": self.vs_naive,
            "note": self.note,
            "runs": [{k: v for k, v in asdict(r).items() if k != "output"} for r in self.runs],
        }


def by_method(stats: dict[str, Any]) -> dict[str, int]:
    return {m: sum(codes.values()) for m, codes in sorted(stats["requests"].items())}


def sim_stats(sim: SimProcess) -> dict[str, Any]:
    return httpx.get(sim.api_url + "_sim/stats/", timeout=10).json()


def reset_stats(sim: SimProcess) -> None:
    httpx.delete(sim.api_url + "_sim/stats/", timeout=10).raise_for_status()


class Bench:
    def __init__(self, work: Path, reps: int, long_reps: int, latency: int) -> None:
        self.work = work
        self.reps = reps
        self.long_reps = long_reps
        self.latency = latency
        self._copies = 0
        # Children run as an installed reconciler would: with cached bytecode (kept in the
        # work directory, so the source tree stays clean) and none of the caller's settings.
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WALDUR_", "RECONCILE_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        self.env |= {
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
            "RECONCILE_LOCK_DIR": str(work),
            "XDG_CACHE_HOME": str(work / "cache"),  # the desired-state cache, private to a run
        }

    @contextmanager
    def server(
        self, template: Path | None, *flags: str, latency: int | None = None
    ) -> Iterator[SimProcess]:
        """waldur-sim on a fresh copy of `template` (or an empty database)."""
        args = ("--latency-ms", str(self.latency if latency is None else latency), *flags)
        if template is None:
            with SimProcess(*args) as sim:
                yield sim
            return
        self._copies += 1
        db = self.work / f"copy-{self._copies}.sqlite3"
        shutil.copyfile(template, db)
        try:
            with SimProcess(*args, db=db) as sim:
                yield sim
        finally:
            for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                path.unlink(missing_ok=True)

    def child(
        self,
        sim: SimProcess,
        *command: str,
        ok: tuple[int, ...] = (0,),
        extra_env: dict[str, str] | None = None,
    ) -> Run:
        """Run `command` against `sim` (through `measure.py`) and measure it."""
        reset_stats(sim)
        env = self.env | {"WALDUR_API_URL": sim.api_url, "WALDUR_API_TOKEN": sim.staff_token}
        env |= extra_env or {}
        out, err, result = (self.work / name for name in ("stdout", "stderr", "result.json"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run(
                [sys.executable, str(HERE / "measure.py"), str(result), *command],
                env=env,
                stdout=stdout,
                stderr=stderr,
                check=True,
            )
        measured = json.loads(result.read_text())
        if measured["returncode"] not in ok:
            tail = err.read_text(errors="replace")[-3000:]
            raise BenchError(f"{' '.join(command)} exited {measured['returncode']}:\n{tail}")
        text = out.read_text()
        return Run(
            wall=measured["wall"],
            cpu=measured["cpu"],
            rss_mb=measured["rss_mb"],
            requests=by_method(sim_stats(sim)),
            output=json.loads(text) if text.lstrip().startswith("{") else None,
        )

    def reconcile(
        self,
        sim: SimProcess,
        command: str,
        desired: Path,
        *extra: str,
        extra_env: dict[str, str] | None = None,
    ) -> Run:
        argv = (str(BIN / "reconcile"), command, "-f", str(desired), "-o", "json", *extra)
        return self.child(sim, *argv, extra_env=extra_env)

    def warm_up(self) -> None:
        """Compile every module the children import, once, before anything is timed."""
        modules = "reconciler.cli.run, reconciler.desired.loader, reconciler.engine.runner"
        code = f"import httpx, deepdiff, {modules}"
        subprocess.run([sys.executable, "-c", code], env=self.env, check=True)


# -- inputs --------------------------------------------------------------------------------


@dataclass
class Desired:
    path: Path
    state: DesiredState

    @property
    def objects(self) -> int:
        return len(self.state.records)

    def catalogs(self) -> list[str]:
        return [f"{k.parts[0]}@{k.parts[1]}" for k in self.state.catalogs()]


def write_desired(path: Path, doc: dict[str, Any]) -> Desired:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return Desired(path, load_desired([path]))


def synthetic_doc(targets: int) -> dict[str, Any]:
    """One catalog of ⌈targets / 28⌉ packages x 2 versions x 14 CPU targets (EESSI's shape)."""
    per_package = 2 * len(ARCHITECTURES)
    packages = [
        {
            "name": f"pkg-{i:05d}",
            "description": f"Synthetic package number {i}",
            "homepage": f"https://example.org/pkg-{i:05d}",
            "versions": [
                {"version": f"{v}.0", "module_version": f"{v}.0-foss-2023b"} for v in (1, 2)
            ],
        }
        for i in range(math.ceil(targets / per_package))
    ]
    catalog = {
        "name": "Synthetic",
        "version": "100k",
        "description": "Generated for the benchmark",
        "auto_update_enabled": False,
        "target_defaults": {
            "architectures": list(ARCHITECTURES),
            "path": "/cvmfs/synthetic/{catalog_version}/{cpu_family}/{cpu_microarchitecture}",
        },
        "packages": packages,
    }
    return {"catalogs": [catalog]}


def subset_doc(doc: dict[str, Any], names: set[str]) -> dict[str, Any]:
    catalog = dict(doc["catalogs"][0])
    catalog["packages"] = [p for p in catalog["packages"] if p["name"] in names]
    return {"catalogs": [catalog]}


def package_names(doc: dict[str, Any]) -> set[str]:
    return {p["name"] for p in doc["catalogs"][0]["packages"]}


# -- scenarios -----------------------------------------------------------------------------


class Scenarios:
    def __init__(self, bench: Bench, stride: int) -> None:
        self.bench = bench
        self.stride = stride
        self.rows: list[Row] = []
        self.extra: dict[str, Any] = {}
        work = bench.work
        docs = {name: eessi.convert(eessi.load(path)) for name, path in SNAPSHOTS.items()}
        self.docs = docs
        self.full = write_desired(work / "full.yaml", docs["full"])
        self.old = write_desired(work / "old.yaml", docs["old"])
        self.new = write_desired(work / "new.yaml", docs["new"])
        self.synthetic = write_desired(work / "synthetic.yaml", synthetic_doc(SYNTHETIC_TARGETS))
        self.templates = {
            name: self.template(name, desired)
            for name, desired in (
                ("full", self.full),
                ("old", self.old),
                ("synthetic", self.synthetic),
            )
        }

    def template(self, name: str, desired: Desired) -> Path:
        db = self.bench.work / f"{name}.sqlite3"
        write_state(db, desired.state)
        with self.bench.server(db, latency=0) as sim:
            run = self.bench.reconcile(sim, "plan", desired.path)
        check(not any(run.output["summary"].values()), f"template {name}: {run.output['summary']}")
        return db

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {row.scenario} / {row.label}: {row.wall:.2f} s, {row.requests}", flush=True)
        return row

    def repeat(self, measure: Callable[[], Run], reps: int | None = None) -> list[Run]:
        return [measure() for _ in range(reps or self.bench.reps)]

    # 1 -----------------------------------------------------------------------------------
    def full_load(self) -> Row:
        def measure() -> Run:
            with self.bench.server(None) as sim:
                run = self.bench.reconcile(sim, "apply", self.full.path)
            created = self.full.objects
            check(run.output["summary"]["create"] == created, f"full load: {run.output['summary']}")
            check(run.output["result"]["summary"]["done"] == created, "full load: not all done")
            check(run.requests.get("POST") == created and run.writes == created, f"{run.requests}")
            return run

        note = f"{self.full.objects:,} objects created"
        runs = self.repeat(measure, self.bench.long_reps)
        return self.add(Row("1 full EESSI load", "reconcile apply", runs, note))

    # 2 and 5 -----------------------------------------------------------------------------
    def no_op(
        self, name: str, desired: Desired, template: Path, *flags: str, floor_reps: int = 0
    ) -> Row:
        embedded = "--no-embed" not in flags
        floor_reps = floor_reps or self.bench.reps
        floor_cmd = [sys.executable, str(HERE / "floor.py"), *flags]
        ours: list[Run] = []
        cold: list[Run] = []  # without the desired-state cache: a fresh CI runner
        floors: list[Run] = []
        no_cache = {"RECONCILE_NO_CACHE": "1"}

        def plan(extra_env: dict[str, str] | None = None) -> Run:
            run = self.bench.reconcile(sim, "plan", desired.path, extra_env=extra_env)
            check(not any(run.output["summary"].values()), f"{name}: {run.output['summary']}")
            check(run.writes == 0, f"{name}: a no-op wrote: {run.requests}")
            path = run.output["http"]["read_path"]
            check((path == "embedded") == embedded, f"{name}: read via {path}")
            return run

        with self.bench.server(template, *flags) as sim:
            plan()  # untimed: fills the desired-state cache, as any earlier run would have
            for rep in range(self.bench.reps):  # interleaved: a busier machine hits all
                ours.append(plan())
                if embedded:
                    cold.append(plan(no_cache))
                if rep < floor_reps:
                    floors.append(self.bench.child(sim, *floor_cmd, *desired.catalogs()))
        floor = self.add(Row(name, "floor (plain httpx loop)", floors))
        if cold:
            self.add(Row(name, "reconcile plan, no cache (fresh runner)", cold, floor=floor))
        return self.add(Row(name, "reconcile plan", ours, floor=floor))

    # 3 and 5 -----------------------------------------------------------------------------
    def drift(self, name: str, *flags: str) -> tuple[Row, Row]:
        plans: list[Run] = []
        applies: list[Run] = []
        for rep in range(self.bench.reps):
            with self.bench.server(self.templates["old"], *flags) as sim:
                plan = self.bench.reconcile(sim, "plan", self.new.path, *MAX_DELETE)
                check(plan.writes == 0, f"{name}: plan wrote")
                apply = self.bench.reconcile(sim, "apply", self.new.path, *MAX_DELETE)
                changes = sum(apply.output["summary"].values())
                check(apply.output["summary"] == plan.output["summary"], f"{name}: plans differ")
                check(apply.output["result"]["summary"]["done"] == changes, f"{name}: not done")
                check(apply.writes == changes, f"{name}: {apply.writes} writes, {changes} changes")
                if rep == 0:
                    again = self.bench.reconcile(sim, "plan", self.new.path)
                    check(not any(again.output["summary"].values()), f"{name}: not converged")
            plans.append(plan)
            applies.append(apply)
        summary = plans[0].output["summary"]
        note = "plan: {create:,} create, {update:,} update, {delete:,} delete".format(**summary)
        plan_row = self.add(Row(name, "reconcile plan", plans, note))
        return plan_row, self.add(Row(name, "reconcile apply", applies, "all done"))

    # 4 -----------------------------------------------------------------------------------
    def synthetic_no_op(self) -> tuple[Row, Row]:
        desired = self.synthetic
        with self.bench.server(self.templates["synthetic"], latency=0) as sim:
            config = ClientConfig(api_url=sim.api_url)
            with WaldurClient(config) as client:
                observed = observe(client, desired.state)
        check(observed.complete and len(observed.records) == desired.objects, "100k: observe")
        timings = []
        for _ in range(max(self.bench.reps, 3)):
            gc.collect()
            started = time.perf_counter()
            plan = make_plan(desired.state, observed)
            timings.append(time.perf_counter() - started)
            check(plan.empty, "100k: the plan is not empty")
        targets = sum(1 for k in desired.state.records if k.kind is Kind.TARGET)
        self.extra["plan_step_100k"] = {"seconds": timings, "targets": targets}
        del observed, plan
        gc.collect()
        steps = [Run(t, t, 0.0, {}) for t in timings]
        note = f"{targets:,} targets, {desired.objects:,} objects; make_plan alone, in-process"
        step = self.add(Row("4 synthetic 100k no-op", "plan step (make_plan)", steps, note))
        return step, self.no_op("4 synthetic 100k no-op", desired, self.templates["synthetic"])

    # naive --------------------------------------------------------------------------------
    def naive(self, name: str, old: Desired | None, new: Desired, writes: Counter[str]) -> Row:
        """naive.py on every `stride`-th package; extrapolated by its request count."""
        names = package_names(self.docs["new"] if old else self.docs["full"])
        if old is not None:
            names |= package_names(self.docs["old"])
        chosen = set(sorted(names)[:: self.stride])
        tag = "drift" if old else "load"
        new_doc = self.docs["new"] if old else self.docs["full"]
        sub_new = write_desired(self.bench.work / f"naive-{tag}.yaml", subset_doc(new_doc, chosen))
        template = None
        sub_old: Desired | None = None
        if old is not None:
            sub_old = write_desired(
                self.bench.work / f"naive-{tag}-old.yaml", subset_doc(self.docs["old"], chosen)
            )
            template = self.bench.work / f"naive-{tag}.sqlite3"
            write_state(template, sub_old.state)
        naive_cmd = [sys.executable, str(HERE / "naive.py")]
        with self.bench.server(template) as sim:
            plan = self.bench.reconcile(sim, "plan", sub_new.path, *MAX_DELETE)
            sub_writes = _writes(plan.output["summary"])
            measured = self.bench.child(sim, *naive_cmd, "-f", str(sub_new.path))
            after = self.bench.reconcile(sim, "plan", sub_new.path)
        check(not any(after.output["summary"].values()), f"naive {tag}: wrong end state")
        existing_sub = list(sub_old.state.records) if sub_old else []
        model = predicted_requests(existing_sub, sub_new.state, sub_writes)
        check(
            dict(model) == measured.requests,
            f"naive {tag}: model {dict(model)} != measured {measured.requests}",
        )
        existing: list[Key] = list(old.state.records) if old else []
        full = predicted_requests(existing, new.state, writes)
        factor = sum(full.values()) / measured.total
        estimate = Run(
            wall=measured.wall * factor,
            cpu=measured.cpu * factor,
            rss_mb=measured.rss_mb,
            requests=dict(sorted(full.items())),
        )
        note = (
            f"extrapolated x{factor:.1f} from {len(chosen)} of {len(names)} packages "
            f"(measured: {measured.wall:.1f} s for {measured.total:,} requests, the number "
            "the count model predicts)"
        )
        self.extra[f"naive_{tag}_subset"] = asdict(measured) | {"packages": len(chosen)}
        return Row(name, "naive (sequential, 1 request/object)", [estimate], note)


def _writes(summary: dict[str, int]) -> Counter[str]:
    return Counter(
        {"POST": summary["create"], "PATCH": summary["update"], "DELETE": summary["delete"]}
    )


# -- no-op phases (in-process) ----------------------------------------------------------------


def no_op_phases(bench: Bench, scenarios: Scenarios) -> dict[str, float]:
    """Where a no-op's time goes, measured in this process (medians)."""
    desired = scenarios.full

    def timed(action: Callable[[], object]) -> float:
        times = []
        for _ in range(max(bench.reps, 3)):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def startup(code: str) -> float:
        return timed(
            lambda: subprocess.run([sys.executable, "-c", code], env=bench.env, check=True)
        )

    os.environ["XDG_CACHE_HOME"] = str(bench.work / "cache")
    load_cached([desired.path])  # filled, as the child runs before left it
    phases = {
        "python + httpx import (floor's start-up)": startup("import httpx"),
        "python + imports of `reconcile plan`": startup(
            "import reconciler.cli.main, reconciler.cli.run, reconciler.desired.cache"
        ),
        "load + validate the desired file (no cache)": timed(lambda: load_desired([desired.path])),
        "load the desired file (cache hit, a new process)": timed(
            lambda: (cache._MEMO.clear(), load_cached([desired.path]))
        ),
    }
    with bench.server(scenarios.templates["full"]) as sim:
        with WaldurClient(ClientConfig(api_url=sim.api_url)) as client:
            phases["observe (4 requests)"] = timed(lambda: observe(client, desired.state))
            observed = observe(client, desired.state)

            def warm_run() -> None:  # what the daemon does per run, in its warm process
                state = load_cached([desired.path])
                make_plan(state, observe(client, state))

            phases["daemon warm run (load, observe, plan)"] = timed(warm_run)
        phases["make_plan"] = timed(lambda: make_plan(desired.state, observed))
        catalogs = [(k.parts[0], k.parts[1]) for k in desired.state.catalogs()]
        phases["floor loop (4 requests)"] = timed(lambda: read_floor(sim.api_url, catalogs, True))
    return phases


# -- report --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": os.getloadavg(),
    }


def requests_text(requests: dict[str, int]) -> str:
    return " · ".join(f"{m} {n:,}" for m, n in requests.items()) or "-"


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | run | n | wall s | requests | req/s | CPU s | peak RSS MB | ÷ floor "
        "| naive ÷ ours | note |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        total = row.runs[0].total
        rate = f"{total / row.wall:,.0f}" if total else "-"
        rss = f"{row.median('rss_mb'):.0f}" if row.median("rss_mb") else "-"
        floor = f"{row.vs_floor:.2f}x" if row.vs_floor is not None else ""
        naive = f"**{row.vs_naive:.1f}x**" if row.vs_naive is not None else ""
        lines.append(
            f"| {row.scenario} | {row.label} | {len(row.runs)} | {row.wall:.2f} "
            f"| {requests_text(row.requests)} "
            f"| {rate} | {row.median('cpu'):.2f} | {rss} | {floor} | {naive} | {row.note} |"
        )
    return "\n".join(lines)


def noop_goals(rows: dict[str, Row], phases: dict[str, float]) -> list[tuple[str, str, bool]]:
    noop, floor = rows["noop"], rows["noop"].floor
    assert floor is not None
    warm = phases["daemon warm run (load, observe, plan)"]
    return [
        (
            "no-op EESSI: requests ≤ floor + 2",
            f"{noop.runs[0].total} vs floor {floor.runs[0].total}",
            noop.runs[0].total <= floor.runs[0].total + 2,
        ),
        (
            "no-op EESSI: wall ≤ 1.5x floor",
            f"{noop.wall:.2f} s vs {floor.wall:.2f} s = {noop.vs_floor:.2f}x",
            (noop.vs_floor or 0) <= 1.5,
        ),
        (
            "daemon warm run ≤ 1.2x floor",
            f"{warm:.2f} s vs {floor.wall:.2f} s = {warm / floor.wall:.2f}x",
            warm <= 1.2 * floor.wall,
        ),
    ]


def goals(s: Scenarios, rows: dict[str, Row]) -> list[tuple[str, str, bool]]:
    """The goals of the full run besides the no-op's (`noop_goals`)."""
    load, load_naive = rows["load"], rows["load"].naive
    drift, drift_naive = rows["drift"], rows["drift"].naive
    assert load_naive is not None and drift_naive is not None
    changes = sum(rows["drift_plan"].runs[0].output["summary"].values())
    plan_step = rows["plan_step"].wall
    rss = rows["synthetic"].median("rss_mb")
    return [
        (
            "full load: ≥ 8x faster than naive",
            f"{load.vs_naive:.1f}x ({load.wall:.1f} s vs {load_naive.wall:.0f} s)",
            (load.vs_naive or 0) >= 8,
        ),
        (
            "full load: write requests = objects created",
            f"{load.runs[0].writes:,} = {s.full.objects:,}",
            all(r.writes == s.full.objects for r in load.runs),
        ),
        (
            "drift: write requests = changes in the plan",
            f"{drift.runs[0].writes:,} = {changes:,}",
            all(r.writes == changes for r in drift.runs),
        ),
        (
            "drift: ≥ 8x faster than naive",
            f"{drift.vs_naive:.1f}x ({drift.wall:.1f} s vs {drift_naive.wall:.0f} s)",
            (drift.vs_naive or 0) >= 8,
        ),
        ("100k: plan step ≤ 2 s", f"{plan_step:.2f} s", plan_step <= 2),
        ("100k: no-op peak RSS ≤ 300 MB", f"{rss:.0f} MB", rss <= 300),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions per scenario")
    parser.add_argument("--long-reps", type=int, default=1, help="repetitions of the long runs")
    parser.add_argument("--quick", action="store_true", help="one repetition, smaller naive run")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument(
        "--naive-stride", type=int, help="naive runs on every N-th package (default 64; quick 128)"
    )
    parser.add_argument(
        "--only",
        choices=("noop",),
        help="noop: only scenario 2 (no-op of the full EESSI catalog, its floor, its phases)",
    )
    args = parser.parse_args()
    reps, long = (1, 1) if args.quick else (args.reps, args.long_reps)
    stride = args.naive_stride or (128 if args.quick else 64)
    logs.configure("warning")
    info = machine() | {"reps": reps, "long_reps": long, "latency_ms": args.latency_ms}
    info["naive_stride"] = stride
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        bench = Bench(Path(tmp), reps, long, args.latency_ms)
        bench.warm_up()
        print("preparing inputs and template databases …", flush=True)
        s = Scenarios(bench, stride)
        rows: dict[str, Row] = {}
        rows["noop"] = s.no_op("2 no-op EESSI", s.full, s.templates["full"])
        if args.only == "noop":
            phases = no_op_phases(bench, s)
            return report(s, rows, phases, noop_goals(rows, phases), info, started, args, reps)
        rows["plan_step"], rows["synthetic"] = s.synthetic_no_op()
        rows["load"] = s.full_load()
        rows["drift_plan"], rows["drift"] = s.drift("3 drift 2025-05-28 → 2026-02-18")
        flat = ("--no-embed",)
        s.no_op("5 no-op EESSI, --no-embed", s.full, s.templates["full"], *flat, floor_reps=long)
        _, drift_flat = s.drift("5 drift, --no-embed", "--no-embed")
        print("naive baselines …", flush=True)
        created = Counter({"POST": s.full.objects})
        rows["load"].naive = s.add(s.naive("1 full EESSI load", None, s.full, created))
        drift_writes = _writes(rows["drift_plan"].runs[0].output["summary"])
        rows["drift"].naive = s.add(s.naive("3 drift", s.old, s.new, drift_writes))
        drift_flat.naive = rows["drift"].naive
        phases = no_op_phases(bench, s)
    checked = noop_goals(rows, phases) + goals(s, rows)
    return report(s, rows, phases, checked, info, started, args, reps)


def report(
    s: Scenarios,
    rows: dict[str, Row],
    phases: dict[str, float],
    checked: list[tuple[str, str, bool]],
    info: dict[str, Any],
    started: float,
    args: argparse.Namespace,
    reps: int,
) -> int:
    """Write the JSON results and print the tables."""
    long = info["long_reps"]
    info["loadavg_end"] = os.getloadavg()
    info["bench_seconds"] = time.perf_counter() - started
    report = {
        "machine": info,
        "rows": [row.summary() for row in s.rows],
        "no_op_phases_s": phases,
        "goals": [{"goal": g, "measured": m, "met": ok} for g, m, ok in checked],
        **s.extra,
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print()
    print(
        f"Machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, {info['date']}; "
        f"load average {info['loadavg_start'][0]:.1f} → {info['loadavg_end'][0]:.1f}; "
        f"waldur-sim --latency-ms {args.latency_ms}; medians of {reps} (long runs: {long}); "
        f"bench took {info['bench_seconds'] / 60:.1f} min.\n"
    )
    print(table(sorted(s.rows, key=lambda row: row.scenario[0])))
    print("\n| no-op EESSI, in-process phases | median s |\n|---|---:|")
    for phase, seconds in phases.items():
        print(f"| {phase} | {seconds:.3f} |")
    print("\n| goal | measured | met |\n|---|---|---|")
    for goal, measured, ok in checked:
        print(f"| {goal} | {measured} | {'yes' if ok else '**no**'} |")
    return 0


def run_main(main: Callable[[], int]) -> NoReturn:
    """Exit with `main()`'s status; a `BenchError` is one line on stderr and status 1."""
    try:
        raise SystemExit(main())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    run_main(main)
