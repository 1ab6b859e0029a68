"""The site builds with `mkdocs build --strict` (a broken link or anchor, or a page left out of
the nav, fails), offline: no web fonts, nothing fetched at build time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from .sessions import DOCS, ROOT


def _nav_files(nav: list) -> list[str]:
    files: list[str] = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            files += _nav_files(value) if isinstance(value, list) else [value]
    return files


def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(  # never --quiet: it hides the warnings --strict counts
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert (tmp_path / "index.html").exists()
    assert (tmp_path / "search" / "search_index.js").exists()  # the offline search


def test_every_page_is_in_the_nav_and_the_theme_fetches_nothing():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed = set(_nav_files(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages == listed, f"not in the nav: {pages - listed}; missing files: {listed - pages}"
    assert config["theme"]["font"] == "false"  # Material would fetch Google Fonts
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert "offline" in plugins and "privacy" not in plugins


def test_images_the_pages_show_exist():
    for page in DOCS.rglob("*.md"):
        text = page.read_text()
        for ref in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            assert (page.parent / ref).resolve().is_file(), f"{page}: {ref}"
            assert Path(ref).suffix == ".png"
