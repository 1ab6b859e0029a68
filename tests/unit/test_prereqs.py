"""`make test`'s first step (tests/prereqs.sh) stops with one line naming what to install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "prereqs.sh"


def _run(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("sh") or "/bin/sh", str(SCRIPT)],
        env={"PATH": path, "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_chromium_bin_that_is_not_there_stops_it_at_once():
    done = _run(os.environ["PATH"], CHROMIUM_BIN="/nonexistent")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "make test: CHROMIUM_BIN=/nonexistent is not an executable: point it at Chromium or "
        "Chrome, or unset it (apt-get install chromium)"
    ]


def test_without_the_tools_it_names_each_package_to_install(tmp_path):
    # A machine with Python and a shell only, and no apt-get (or not root): nothing to install
    # with, so one line says what is missing, by its Debian package name.
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("id",):
        (bare / tool).symlink_to(shutil.which(tool))
    done = _run(str(bare))
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.splitlines()
    packages = "chromium git openssh-client curl gnupg systemd kubernetes-client"
    assert line.startswith(f"make test: missing {packages}:"), line
    assert f"sudo apt-get install {packages}" in line


def test_with_everything_there_it_says_nothing():
    done = _run(os.environ["PATH"])
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
