"""Size and render time of `reconcile report` for the full EESSI catalog (654 packages,
1,200 versions, 16,751 targets on 14 architectures).

    .venv/bin/python bench/report.py [--reps 5] [--out DIR]

The catalog comes from the real EESSI snapshot (`tests/datafiles.py` `EESSI_FULL`, converted
by `reconciler.tools.eessi` and loaded by the real loader). The server's side is the same
records with a few differences made on purpose (a target and a version gone, a package that
the files do not declare), so the report compares, as `reconcile report -f` does. Timed
in-process, median of `--reps`: building the model (`build_report`) and rendering it as HTML
and as Markdown. Reading the server is not timed here (a no-op plan's read: see README.md).
When headless Chromium is installed, the HTML file is also opened in it (`tests/browser`): the
time until its load event, and the time the filter box takes to narrow 654 packages to one.
`--out DIR` also writes the two files, to open them.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.core.model import DesiredState, Kind, ObservedState, Record  # noqa: E402
from reconciler.desired.loader import load_desired  # noqa: E402
from reconciler.output.report import Report, build_report  # noqa: E402
from reconciler.output.report_html import render_html  # noqa: E402
from reconciler.output.report_markdown import render_markdown  # noqa: E402
from reconciler.tools import eessi  # noqa: E402
from tests.browser.chromium import Browser, find_chromium  # noqa: E402
from tests.datafiles import EESSI_FULL, data_file  # noqa: E402


def eessi_desired() -> DesiredState:
    doc = eessi.convert(eessi.load(data_file(*EESSI_FULL)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eessi.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return load_desired([path])


def drifted(desired: DesiredState) -> ObservedState:
    """The server: the declared records, less a target and a version, plus a package."""
    records = dict(desired.records)
    targets = sorted(k for k in records if k.kind is Kind.TARGET and k.parts[3] == "GROMACS")
    del records[targets[0]]
    version = next(k for k in sorted(records) if k.kind is Kind.VERSION and k.parts[3] == "Python")
    for key in [k for k in records if k.parts[:6] == version.parts]:
        del records[key]
    catalog = next(k for k in records if k.kind is Kind.CATALOG)
    extra = catalog.child("not-declared")
    records[extra] = Record(extra)
    sizes = {catalog: sum(1 for k in records if k.kind is not Kind.CATALOG)}
    return ObservedState(records=records, catalog_sizes=sizes)


def timed(action: Callable[[], object], reps: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(reps):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


FILTER = (
    "(() => {const t = performance.now(); const f = document.getElementById('filter');"
    "f.value = 'gromacs'; f.dispatchEvent(new Event('input'));"
    "void document.body.offsetHeight; return performance.now() - t})()"
)


def browser_times(page: str, reps: int) -> None:
    executable = find_chromium()
    if executable is None:
        print("browser: chromium not installed, not measured")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        browser = Browser(executable, Path(tmp) / "chromium")
        loads, filters = [], []
        try:
            for _ in range(reps):
                tab = browser.page(1280, 900).goto(path.as_uri())
                loads.append(tab.load_seconds)
                filters.append(tab.evaluate(FILTER) / 1000)
                tab.close()
        finally:
            browser.close()
    load, narrow = statistics.median(loads), statistics.median(filters)
    print(
        f"browser ({browser.version.get('product')}, 1280x900): load event {load:.3f} s, "
        f"filter to one package {narrow:.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write report.html and report.md here")
    args = parser.parse_args()
    desired = eessi_desired()
    observed = drifted(desired)
    counts = {kind.label: sum(1 for k in desired.records if k.kind is kind) for kind in Kind}
    print(f"EESSI 2023.06 as declared: {counts}")

    def build() -> Report:
        return build_report(observed, desired, source="http://waldur.example/api/", generated="-")

    t_model, report = timed(build, args.reps)
    assert isinstance(report, Report)
    t_html, page = timed(lambda: render_html(report), args.reps)
    t_md, text = timed(lambda: render_markdown(report), args.reps)
    assert isinstance(page, str) and isinstance(text, str)
    catalog = report.catalogs[0]
    print(
        f"{len(catalog.packages)} packages x {len(catalog.architectures)} architectures, "
        f"{catalog.differences()} differences marked"
    )
    rows = [
        ("model (build_report)", t_model, None),
        ("HTML (render_html)", t_html, len(page.encode())),
        ("Markdown (render_markdown)", t_md, len(text.encode())),
    ]
    print(f"median of {args.reps}:")
    print("| step | time s | size |")
    print("|---|---:|---:|")
    for name, seconds, size in rows:
        shown = "" if size is None else f"{size / 1024:,.0f} KiB ({size:,} bytes)"
        print(f"| {name} | {seconds:.3f} | {shown} |")
    packed = len(gzip.compress(page.encode()))
    print(f"HTML gzipped (as a CI artifact is stored): {packed / 1024:,.0f} KiB")
    browser_times(page, args.reps)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.html").write_text(page, encoding="utf-8")
        (args.out / "report.md").write_text(text, encoding="utf-8")
        print(f"wrote {args.out / 'report.html'} and {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
