"""The pre-commit hook for real: `pre-commit try-repo <this repository> reconcile-validate
--files …` in a catalog repository, as a team tries it before adding three lines to its
.pre-commit-config.yaml. pre-commit clones the hook repository at a commit and pip-installs it
into a virtualenv of its own, so the test commits a copy of what the package is made of
(the working tree may hold changes not committed yet) in a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .harness import ROOT

PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))
EXAMPLE = ROOT / "examples" / "targets.yaml"
PACKAGE = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "reconciler")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """This repository's package and hook manifest, committed; pre-commit's home kept in the
    temporary directory (nothing of the user's)."""
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "waldur-catalog-reconciler"
    repo.mkdir()
    for name in PACKAGE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the hook repository")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env["PRE_COMMIT_HOME"] = str(base / "home")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return repo, env


def catalog_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "catalog-repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    return repo


def try_repo(hook: tuple[Path, dict[str, str]], repo: Path, *files: str):
    hook_path, env = hook
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_path), "reconcile-validate", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_manifest_is_what_the_docs_promise():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconcile-validate" and hook["language"] == "python"
    assert hook["entry"] == "reconcile validate -f" and hook["require_serial"] is True
    assert "reconcile-validate" in (ROOT / "docs" / "how-to" / "pre-commit.md").read_text()


def test_the_hook_passes_the_example_and_only_takes_catalog_files(hook_repo, tmp_path):
    pipeline = "stages: [test]\njob: {script: [echo]}\n"  # YAML, but not a catalog: not taken
    files = {"catalog/targets.yaml": EXAMPLE.read_text(), ".gitlab-ci.yml": pipeline}
    repo = catalog_repo(tmp_path, files)
    done = try_repo(hook_repo, repo, "catalog/targets.yaml", ".gitlab-ci.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reconcile validate (Waldur software catalog)" in done.stdout
    assert "Passed" in done.stdout


def test_the_hook_fails_a_broken_file_and_sees_every_changed_file_at_once(hook_repo, tmp_path):
    """Each try-repo builds the hook's virtualenv afresh (a temporary store): one run checks
    both a broken file and a key declared in two otherwise valid files."""
    text = EXAMPLE.read_text()
    broken = "catalogs:\n  - name: EESSI\n    version: 2023.06\n    catalog_type: binary\n"
    files = {"catalogs/a.yaml": text, "catalogs/b.yaml": text, "catalogs/bad.yaml": broken}
    repo = catalog_repo(tmp_path, files)
    done = try_repo(hook_repo, repo, *files)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "catalogs/bad.yaml:3: catalogs[0].version: must be a string" in done.stdout
    assert "catalogs/bad.yaml:4: catalogs[0].catalog_type: must be one of" in done.stdout
    assert "is declared twice" in done.stdout and "catalogs/a.yaml" in done.stdout
