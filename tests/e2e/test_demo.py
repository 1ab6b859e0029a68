"""`make demo` as a newcomer runs it: plan, apply, plan again against its own waldur-sim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .harness import cli_env

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_applies_the_example_and_ends_in_no_changes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        env=cli_env(None, token=None),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "waldur-sim is serving http://127.0.0.1:" in out
    first, applied, again = (
        out.split("== Plan (dry run)")[1].split("== Apply: make the server match")[0],
        out.split("== Apply: make the server match")[1].split("== Plan again")[0],
        out.split("== Plan again")[1],
    )
    assert "Plan: 70 to create, 0 to update, 0 to delete." in first
    assert "+ link EESSI 2025.06 → HPC cluster A" in first  # offerings.yaml's links
    assert "Apply: 70 done, 0 failed, 0 skipped, 0 not attempted." in applied
    again = again.split("== Loader catalog")[0]
    assert "No changes." in again and "(exit code 0)" in again
    loader_plan, loader_apply, loader_again = out.split("== Loader catalog, ")[1:]
    assert "Plan: 2 to create, 0 to update, 0 to delete, 1 to load." in loader_plan
    assert "↻ load EESSI 2023.06" in loader_apply
    assert "[done: loaded: 654 packages, 1,200 versions, 16,751 targets]" in loader_apply
    assert "+ link EESSI 2023.06 → HPC cluster A" in loader_apply
    assert "No changes." in loader_again and "(exit code 0)" in loader_again
    assert out.rstrip().endswith("now match examples/.")
