"""The repository carries everything its tests, demo and benchmarks read.

A fresh clone has nothing beside it: a reference to a path outside the tree (the reference
material some developers keep in ../shared, an absolute home or work directory) works on one
machine and fails on every other. This scans every tracked text file for such references.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.datafiles import DATA, data_file

ROOT = Path(__file__).resolve().parents[2]
#: Spellings of "outside this tree": ../anything, a parent of the root joined with a name,
#: and the folders the project's developers keep beside it.
OUTSIDE = re.compile(
    r"""\.\./(?:shared|data|\.\.)/"""  # ../shared/…, ../../…
    r"""|(?:ROOT|HERE|REPO)\.parent\b"""  # the folder that holds the clone
    r"""|["'/]shared/data\b|["']shared["']"""  # ".../shared/data/…", / "shared"
    r"""|["']/work/""",  # this workplace's absolute paths
)
CHECKED_SUFFIXES = {".py", ".sh", ".yaml", ".yml", ".toml", ".cfg", ".md", ""}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).suffix in CHECKED_SUFFIXES]


def test_no_file_refers_to_a_path_outside_the_repository():
    this = Path(__file__).resolve()
    found = []
    for path in tracked_files():
        if path.resolve() == this or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "references outside the repository:\n" + "\n".join(found)


def test_the_scan_catches_the_spellings_it_is_for():
    for line in (
        'SHARED = ROOT.parent / "shared"',
        'EESSI = Path(__file__).resolve().parents[2] / "shared/data/x.json"',
        "see ../shared/waldur-api.md",
        'open("/work/shared/data/README.md")',
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search('ROOT = Path(__file__).resolve().parents[2] / "tests"')


def test_every_carried_data_file_decompresses_and_is_described():
    readme = (DATA / "README.md").read_text()
    packed = sorted(DATA.rglob("*.xz"))
    assert len(packed) == 9  # 7 EESSI lists and samples, 2 sources of the sim's loaders
    for path in packed:
        relative = path.relative_to(DATA)
        assert relative.name in readme, f"data/README.md does not describe {relative}"
        plain = data_file(*relative.with_suffix("").parts)
        assert plain.stat().st_size > path.stat().st_size  # really decompressed
        assert plain.read_bytes()[:1] == b"{"
    assert sum(p.stat().st_size for p in packed) < 5 * 1024 * 1024  # "a few MB at most"


def test_the_benchmarks_start():
    """`make bench` imports what exists (the suite does not run the benchmarks otherwise)."""
    import sys

    for script in ("bench/run.py", "bench/sim_bench.py"):
        done = subprocess.run(
            [sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True
        )
        assert done.returncode == 0, f"{script}: {done.stderr[-2000:]}"
        assert "usage:" in done.stdout, script
