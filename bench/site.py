"""The reconciler at a site's scale (issue 23): several catalogs, latency, the daemon's warm run,
a Spack-sized catalog, and the memory of three catalogs together, before and after in one run.

    .venv/bin/python bench/site.py [--reps N] [--before SRC] [--only A B D E]

Every `reconcile plan` runs as a child process against a real waldur-sim on loopback with added
latency, measured as `run.py` measures (`measure.py`: wall, CPU, peak RSS; the requests from
waldur-sim's stats). Every plan must come out empty (a no-op) and the same requests as the
floor, or the benchmark stops.

- **A. four catalogs vs one** (`--latency-ms 100`): four catalogs of the first 60 EESSI packages
  each (60 packages, 106 versions, 1,484 targets; versions 2023.06, 2025.06, 2026.01, 2026.06);
  a no-op declaring all four against one declaring the first. Goal: ≤ 1.25x.
- **B. one-shot no-op** of the full EESSI catalog against the floor loop (`floor.py`),
  at 10 ms and 20 ms. Goal: ≤ 1.5x.
- **C. the daemon's warm run** (`warm.py`: load, observe, plan in a started process) against the
  same floor. Goal: ≤ 1.2x.
- **D. a Spack-sized catalog**: 8,000 source packages, 40,000 versions, no targets (27 package
  pages), at 20 ms; requests = floor, wall against a floor loop that reads the pages 8 at a time
  (`floor.py --concurrent 8`). Goal: ≤ 1.5x.
- **E. three catalogs together**: EESSI 2023.06, a 2025.06 copy of it (the repository carries
  no 2025.06 snapshot; same size and shape) and the Spack-sized one: the no-op's peak RSS.
  Goal: ≤ 300 MB.

`--before SRC` runs every `reconcile` and warm row a second time with the reconciler of the
source tree SRC (e.g. `git archive <commit> | tar -x -C SRC`), interleaved with this tree's
runs, so both meet the same machine load. Both are then started the same way (`python -c`
with SRC or this tree first on `sys.path`). Results: bench/results/site-<time>.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from run import (
    HERE,
    RESULTS,
    ROOT,
    SNAPSHOTS,
    Bench,
    Desired,
    Run,
    check,
    machine,
    requests_text,
    run_main,
    write_desired,
)
from simdb import write_state

from reconciler.output import logs
from reconciler.tools import eessi

LAUNCH = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from reconciler.cli.main import entry; entry()"
)
EESSI_VERSIONS = ("2023.06", "2025.06", "2026.01", "2026.06")
SPACK_PACKAGES = 8_000


@dataclass
class Variant:
    name: str  # "after" (this tree) or "before"
    src: Path


@dataclass
class Result:
    scenario: str
    label: str
    variant: str
    runs: list[Run] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # in-process timings (warm runs)

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds or [r.wall for r in self.runs])

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.runs) if self.runs else 0.0


class Site:
    def __init__(self, bench: Bench, variants: list[Variant]) -> None:
        self.bench = bench
        self.variants = variants
        self.results: list[Result] = []
        work = bench.work
        full = eessi.convert(eessi.load(SNAPSHOTS["full"]))
        self.full = write_desired(work / "full.yaml", full)
        self.one, self.four = self.four_catalogs(full)
        spack = spack_doc(SPACK_PACKAGES)
        self.spack = write_desired(work / "spack.yaml", spack)
        both = copy.deepcopy(full)
        both["catalogs"][0]["version"] = "2025.06"
        three = copy.deepcopy({"catalogs": full["catalogs"] + both["catalogs"] + spack["catalogs"]})
        self.three = write_desired(work / "three.yaml", three)
        self._templates: dict[str, Path] = {}

    def four_catalogs(self, full: dict[str, Any]) -> tuple[Desired, Desired]:
        base = copy.deepcopy(full["catalogs"][0])
        base["packages"] = base["packages"][:60]
        catalogs = [copy.deepcopy(dict(base, version=version)) for version in EESSI_VERSIONS]
        one = write_desired(self.bench.work / "one.yaml", {"catalogs": catalogs[:1]})
        four = write_desired(self.bench.work / "four.yaml", {"catalogs": catalogs})
        return one, four

    def template(self, name: str) -> Path:
        """The database holding `name`'s desired state (written once, checked: a no-op)."""
        if name in self._templates:
            return self._templates[name]
        desired: Desired = getattr(self, name)
        db = self.bench.work / f"{name}.sqlite3"
        write_state(db, desired.state)
        with self.bench.server(db, latency=0) as sim:
            run = self.plan(sim, desired, self.variants[0])
        check(not any(run.output["summary"].values()), f"template {name}: {run.output}")
        self._templates[name] = db
        return db

    # -- runs -----------------------------------------------------------------------------
    def plan(self, sim: Any, desired: Desired, variant: Variant) -> Run:
        command = (sys.executable, "-c", LAUNCH, str(variant.src), "plan")
        run = self.bench.child(sim, *command, "-f", str(desired.path), "-o", "json")
        check(not any(run.output["summary"].values()), f"{desired.path.name}: not a no-op")
        check(run.output["complete"], f"{desired.path.name}: read incomplete")
        return run

    def floor(self, sim: Any, desired: Desired, *flags: str) -> Run:
        command = (sys.executable, str(HERE / "floor.py"), *flags, *desired.catalogs())
        return self.bench.child(sim, *command)

    def warm(self, sim: Any, desired: Desired, variant: Variant, reps: int) -> list[float]:
        command = (sys.executable, str(HERE / "warm.py"), str(variant.src), str(desired.path))
        run = self.bench.child(sim, *command, str(reps))
        check(run.output["changes"] == 0 and run.output["complete"], "warm run: not a no-op")
        return [float(s) for s in run.output["seconds"]]

    def result(self, scenario: str, label: str, variant: str = "") -> Result:
        for found in self.results:
            if (found.scenario, found.label, found.variant) == (scenario, label, variant):
                return found
        made = Result(scenario, label, variant)
        self.results.append(made)
        return made

    # -- scenarios ------------------------------------------------------------------------
    def catalogs(self) -> None:
        scenario = "A four catalogs vs one, 100 ms"
        with self.bench.server(self.template("four"), latency=100) as sim:
            for variant in self.variants:  # untimed: bytecode and desired-state caches
                self.plan(sim, self.one, variant)
                self.plan(sim, self.four, variant)
            for _ in range(self.bench.reps):
                for variant in self.variants:
                    one = self.plan(sim, self.one, variant)
                    four = self.plan(sim, self.four, variant)
                    check(four.total == 1 + 4 * (one.total - 1), f"four: {four.requests}")
                    self.result(scenario, "one catalog", variant.name).runs.append(one)
                    self.result(scenario, "four catalogs", variant.name).runs.append(four)

    def no_op(self, latency: int) -> None:
        scenario = f"B no-op EESSI, {latency} ms"
        warm_scenario = f"C daemon warm run, {latency} ms"
        with self.bench.server(self.template("full"), latency=latency) as sim:
            for variant in self.variants:
                self.plan(sim, self.full, variant)
            for _ in range(self.bench.reps):
                floor = self.floor(sim, self.full)
                self.result(scenario, "floor (plain httpx loop)").runs.append(floor)
                for variant in self.variants:
                    run = self.plan(sim, self.full, variant)
                    check(run.total == floor.total, f"no-op: {run.requests} vs {floor.requests}")
                    self.result(scenario, "reconcile plan", variant.name).runs.append(run)
                    seconds = self.warm(sim, self.full, variant, 3)
                    self.result(warm_scenario, "warm run", variant.name).seconds.extend(seconds)

    def spack_no_op(self) -> None:
        scenario = "D Spack-sized no-op, 20 ms"
        with self.bench.server(self.template("spack"), latency=20) as sim:
            for variant in self.variants:
                self.plan(sim, self.spack, variant)
            for _ in range(self.bench.reps):
                floor = self.floor(sim, self.spack, "--concurrent", "8")
                self.result(scenario, "floor (pages 8 at a time)").runs.append(floor)
                for variant in self.variants:
                    run = self.plan(sim, self.spack, variant)
                    if variant.name == "after":  # before: one more, its dialect probe
                        check(
                            run.total == floor.total, f"spack: {run.requests} vs {floor.requests}"
                        )
                    self.result(scenario, "reconcile plan", variant.name).runs.append(run)

    def three_no_op(self) -> None:
        scenario = "E EESSI 2023.06 + 2025.06 + Spack, 20 ms"
        with self.bench.server(self.template("three"), latency=20) as sim:
            for variant in self.variants:
                self.plan(sim, self.three, variant)
            for _ in range(self.bench.reps):
                for variant in self.variants:
                    run = self.plan(sim, self.three, variant)
                    self.result(scenario, "reconcile plan", variant.name).runs.append(run)


def spack_doc(packages: int) -> dict[str, Any]:
    """A Spack-sized source catalog: `packages` packages of 1-9 versions (5 on average, as
    Spack's 8,931 packages have 43,776 versions), no targets."""
    return {
        "catalogs": [
            {
                "name": "Spack",
                "version": "2025.01",
                "catalog_type": "source_package",
                "description": "A Spack-sized catalog, generated for the benchmark",
                "auto_update_enabled": False,
                "packages": [
                    {
                        "name": f"spack-pkg-{i:05d}",
                        "description": f"Synthetic Spack package {i}",
                        "homepage": f"https://example.org/spack-pkg-{i:05d}",
                        "versions": [{"version": f"{v}.{i % 7}.0"} for v in range(1 + i % 9)],
                    }
                    for i in range(packages)
                ],
            }
        ]
    }


# -- report --------------------------------------------------------------------------------


def ratio(site: Site, scenario: str, label: str, base: str, variant: str) -> float:
    base_variant = "" if base.startswith("floor") else variant
    return (
        site.result(scenario, label, variant).wall / site.result(scenario, base, base_variant).wall
    )


def goals(site: Site, variant: str) -> list[tuple[str, float, float, str]]:
    """(goal, measured, limit, unit) for one variant."""
    out = [
        (
            "A four catalogs ÷ one, 100 ms",
            ratio(site, "A four catalogs vs one, 100 ms", "four catalogs", "one catalog", variant),
            1.25,
            "x",
        )
    ]
    for latency in (10, 20):
        floor = site.result(f"B no-op EESSI, {latency} ms", "floor (plain httpx loop)").wall
        plan = site.result(f"B no-op EESSI, {latency} ms", "reconcile plan", variant).wall
        warm = site.result(f"C daemon warm run, {latency} ms", "warm run", variant).wall
        out.append((f"B no-op EESSI ÷ floor, {latency} ms", plan / floor, 1.5, "x"))
        out.append((f"C daemon warm run ÷ floor, {latency} ms", warm / floor, 1.2, "x"))
    spack = "D Spack-sized no-op, 20 ms"
    floor = site.result(spack, "floor (pages 8 at a time)").wall
    out.append(
        (
            "D Spack-sized ÷ concurrent floor",
            site.result(spack, "reconcile plan", variant).wall / floor,
            1.5,
            "x",
        )
    )
    rss = site.result("E EESSI 2023.06 + 2025.06 + Spack, 20 ms", "reconcile plan", variant)
    out.append(("E three catalogs: peak RSS", rss.median("rss_mb"), 300, " MB"))
    return out


def report(site: Site, info: dict[str, Any]) -> None:
    rows = []
    lines = [
        "| scenario | run | variant | n | wall s | requests | CPU s | peak RSS MB |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    for r in site.results:
        requests = requests_text(r.runs[0].requests) if r.runs else "-"
        n = len(r.seconds or r.runs)
        cpu = f"{r.median('cpu'):.2f}" if r.runs else ""
        rss = f"{r.median('rss_mb'):.0f}" if r.runs else ""
        lines.append(
            f"| {r.scenario} | {r.label} | {r.variant or '-'} | {n} | {r.wall:.3f} "
            f"| {requests} | {cpu} | {rss} |"
        )
        rows.append(
            {
                "scenario": r.scenario,
                "run": r.label,
                "variant": r.variant,
                "wall_s": r.wall,
                "walls": [x.wall for x in r.runs] or r.seconds,
                "cpu_s": r.median("cpu"),
                "peak_rss_mb": r.median("rss_mb"),
                "requests": r.runs[0].requests if r.runs else {},
            }
        )
    names = [v.name for v in site.variants]
    goal_lines = [
        "| goal | " + " | ".join(names) + " | limit |",
        "|---|" + "---:|" * len(names) + "---:|",
    ]
    measured = {name: goals(site, name) for name in names}
    for i, (goal, _, limit, unit) in enumerate(measured[names[0]]):
        cells = []
        for name in names:
            value = measured[name][i][1]
            text = f"{value:.0f}{unit}" if unit == " MB" else f"{value:.2f}{unit}"
            cells.append(text if value <= limit else f"**{text}**")
        goal_lines.append(f"| {goal} | " + " | ".join(cells) + f" | ≤ {limit}{unit} |")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    doc = {"machine": info, "rows": rows, "goals": {n: measured[n] for n in names}}
    (RESULTS / f"site-{stamp}.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(
        f"\nMachine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, "
        f"{info['date']}; load average {info['loadavg_start'][0]:.1f} → "
        f"{info['loadavg_end'][0]:.1f}; medians of {info['reps']}; took "
        f"{info['bench_seconds'] / 60:.1f} min.\n"
    )
    print("\n".join(lines))
    print()
    print("\n".join(goal_lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per scenario")
    parser.add_argument("--before", type=Path, metavar="SRC", help="an older source tree")
    parser.add_argument("--only", nargs="*", choices=("A", "B", "D", "E"), help="scenarios")
    args = parser.parse_args()
    logs.configure("warning")
    variants = [Variant("after", ROOT)]
    if args.before:
        check((args.before / "reconciler").is_dir(), f"{args.before}: no reconciler/ in it")
        variants.append(Variant("before", args.before.resolve()))
    info = machine() | {"reps": args.reps, "variants": [v.name for v in variants]}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reconciler-site-") as tmp:
        bench = Bench(Path(tmp), args.reps, 1, 20)
        bench.warm_up()
        print("preparing inputs and template databases …", flush=True)
        site = Site(bench, variants)
        chosen = set(args.only or "ABDE")
        steps = {
            "A": [site.catalogs],
            "B": [lambda: site.no_op(10), lambda: site.no_op(20)],
            "D": [site.spack_no_op],
            "E": [site.three_no_op],
        }
        for name in "ABDE":
            if name in chosen:
                print(f"scenario {name} …", flush=True)
                for step in steps[name]:
                    step()
                for r in site.results:  # so far, in case a later scenario fails
                    if r.scenario[0] == name or (name == "B" and r.scenario[0] == "C"):
                        print(f"  {r.scenario} | {r.label} | {r.variant} | {r.wall:.3f} s")
        info["loadavg_end"] = os.getloadavg()
        info["bench_seconds"] = time.perf_counter() - started
        if chosen == set("ABDE"):
            report(site, info)
        else:
            for r in site.results:
                rss = r.median("rss_mb")
                print(f"{r.scenario} | {r.label} | {r.variant} | {r.wall:.3f} s | {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    run_main(main)
