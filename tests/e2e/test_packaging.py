"""Installable for real: `python -m build` makes an sdist and, from that sdist, a wheel (so the
sdist holds everything the package needs); `twine check --strict` accepts both; the wheel has
every subpackage (waldur-sim too), both console scripts, the licence and the README; and the
wheel installed into a fresh virtualenv runs `reconcile` and `waldur-sim` from itself."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from .harness import ROOT

BIN = Path(sys.executable).parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "reconciler", "waldur_sim")


def run(*args: str | Path, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of what the package is made of (setuptools
    from the virtualenv: no package index needed)."""
    base = tmp_path_factory.mktemp("build")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", base / "dist", src)
    return base / "dist"


def test_build_makes_an_sdist_and_a_wheel_that_twine_accepts(dist):
    sdists, wheels = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1
    done = run(BIN / "twine", "check", "--strict", *sdists, *wheels)
    assert done.stdout.count("PASSED") == 2


def test_the_sdist_holds_the_package_the_licence_and_the_readme(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert _modules() <= names


def _modules() -> set[str]:
    """Every module of the distribution's two programs: the reconciler and waldur-sim."""
    return {
        p.relative_to(ROOT).as_posix()
        for root in ("reconciler", "waldur_sim")
        for p in (ROOT / root).rglob("*.py")
    }


def test_the_wheel_has_every_subpackage_the_scripts_the_licence_and_the_readme(dist):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_string(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    packages = {
        p.parent.relative_to(ROOT).as_posix()
        for root in ("reconciler", "waldur_sim")
        for p in (ROOT / root).rglob("__init__.py")
    }
    assert {"waldur_sim", "waldur_sim/loaders", "reconciler/core"} <= packages
    assert len(packages) >= 10
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    assert _modules() <= names
    assert "reconcile = reconciler.cli.main:entry" in entry_points
    assert "waldur-sim = waldur_sim.server:main" in entry_points
    assert f"{info}/licenses/LICENSE" in names
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith("# waldur-catalog-reconciler")
    assert metadata["Requires-Python"] == ">=3.11"


def test_the_wheel_installed_alone_runs_its_commands(dist, tmp_path):
    """A fresh virtualenv with only the wheel (its dependencies seen through a .pth file
    pointing at this virtualenv's site-packages: no index needed), outside the checkout."""
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
        "--no-deps", "--no-index", wheel)  # fmt: skip
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = run(python, "-c", purelib, cwd=tmp_path)
    (Path(site.stdout.strip()) / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    imported = "import waldur_sim.server as s; print(s.__file__)"
    where = run(python, "-c", imported, cwd=tmp_path)
    assert where.stdout.startswith(str(venv))  # the wheel's copy, not the checkout's
    done = run(venv / "bin" / "reconcile", "validate", "-f", ROOT / "examples" / "targets.yaml",
               cwd=tmp_path)  # fmt: skip
    assert done.stdout.startswith("Valid: 1 file(s)")
    sim = subprocess.Popen(
        [venv / "bin" / "waldur-sim", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        assert sim.stdout.readline().startswith("waldur-sim listening on http://127.0.0.1:")
    finally:
        sim.terminate()
        assert sim.wait(timeout=30) == 0
