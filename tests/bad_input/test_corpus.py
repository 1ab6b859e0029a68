"""The bad-input corpus: every file here is refused with a readable problem that names the
file, the line and the field, in bounded time and memory; plus the cases that cannot be
committed (a 100 MB file, paths that are not files), generated in a temporary directory."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
import yaml

from reconciler.core.errors import InputError
from reconciler.desired.loader import load_desired

HERE = Path(__file__).parent
EXPECTED: dict[str, dict] = yaml.safe_load((HERE / "expected.yaml").read_text())
CASES = sorted(p.name for p in HERE.glob("*.yaml") if p.name != "expected.yaml")


def refuse(paths: list[Path]) -> tuple[list[str], int]:
    """The problems and the peak of Python memory while loading (bounded work shows as bounded
    memory; the time it takes belongs to no test: machines are shared and noisy)."""
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            load_desired(paths)
        return info.value.problems, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_every_case_has_an_expectation_and_vice_versa() -> None:
    assert sorted(EXPECTED) == CASES
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_case_is_refused_with_file_line_field_and_message(name: str) -> None:
    path = HERE / name
    problems, peak = refuse([path])
    want = EXPECTED[name]
    prefix = f"{path}:{want['line']}: " + (f"{want['field']}: " if want["field"] else "")
    assert problems[0].startswith(prefix), problems[0]
    for fragment in want["fragments"]:
        assert fragment in problems[0], problems[0]
    assert all(problem.startswith(f"{path}:") for problem in problems)
    assert not any("Traceback" in p or "pydantic" in p or "Input should" in p for p in problems)
    assert peak < 16 * 2**20


def test_the_corpus_at_once_reports_every_file(tmp_path: Path) -> None:
    problems, _ = refuse([HERE / name for name in CASES])
    named = {problem.split(":", 1)[0] for problem in problems}
    assert named == {str(HERE / name) for name in CASES}


def test_a_100_mb_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # real content at the start, the rest sparse
        handle.write(b'catalogs:\n  - {name: EESSI, version: "2023.06"}\n')
        handle.truncate(100 * 2**20)
    problems, peak = refuse([path])
    assert problems == [f"{path}: the file is 100.0 MiB, over the 20 MiB limit"]
    assert peak < 2**20  # refused unread: well under the file's size in memory


def test_a_file_just_over_a_smaller_limit(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text('catalogs:\n  - {name: EESSI, version: "2023.06"}\n' + "#" * 5000 + "\n")
    with pytest.raises(InputError, match=r"is 4\.9 KiB, over the 4 KiB limit"):
        load_desired([path], max_bytes=4096)


@pytest.mark.timeout(10)
def test_paths_that_are_not_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    problems, _ = refuse([fifo, Path("/dev/null"), tmp_path / "missing.yaml"])
    assert problems == [
        f"{fifo}: is a FIFO (named pipe), not a regular file",
        "/dev/null: is a device, not a regular file",
        f"{tmp_path / 'missing.yaml'}: no such file or directory",
    ]


@pytest.mark.timeout(10)
def test_a_fifo_inside_a_directory_is_refused_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text('catalogs: [{name: A, version: "1"}]\n')
    os.mkfifo(tmp_path / "b.yaml")
    problems, _ = refuse([tmp_path])
    assert problems == [f"{tmp_path / 'b.yaml'}: is a FIFO (named pipe), not a regular file"]


def test_a_flat_file_at_the_size_limit_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "flat.yaml"
    count = 3_000_000  # ~6 MB: three times the value limit
    path.write_text("catalogs: [" + "a," * (count - 1) + "a]\n")
    problems, peak = refuse([path])
    assert any("more than 1,000,000 values in one file" in p for p in problems)
    assert peak < 400 * 2**20  # stopped at the limit, not after building 3,000,000 values
