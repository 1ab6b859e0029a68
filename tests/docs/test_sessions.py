"""Every shell session of the tutorials and how-to guides runs, against a waldur-sim of its own.

Per page: a fresh waldur-sim (with the page's `docs-test: sim` arguments), a temporary working
directory holding copies of `examples/` and `data/`, the environment a reader has after the
tutorial's first steps (`WALDUR_API_URL`, `WALDUR_API_TOKEN` of the staff user, the venv's
`reconcile` and `waldur-sim` first on PATH), and one bash for the whole page. Each command must
exit 0 (unless the next one is `echo $?`, which shows its status) and print the lines shown
under it, in order (rules: `sessions.missing`). `127.0.0.1:8765`, waldur-sim's default address,
stands for the page's sim, and `127.0.0.1:9090`, the daemon's, for a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from waldur_sim.launcher import SimProcess

from .sessions import ROOT, Block, Page, missing, pages, parse
from .shell import Shell

PAGES = pages()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(sim: SimProcess, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALDUR_", "RECONCILE_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        WALDUR_API_URL=sim.api_url,
        WALDUR_API_TOKEN=sim.staff_token,
        NO_COLOR="1",
        TERM="dumb",
        HOME=env.get("HOME", "/tmp"),
        XDG_CACHE_HOME=str(workdir / ".cache"),  # the page's own, as a reader's would be
    )
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITLAB_CI", None)
    return env


def _where(page: Page, line: int) -> str:
    return f"{page.name}:{line}"


def run_page(page: Page, workdir: Path) -> int:
    """Run the page's blocks in order; the number of commands run."""
    shutil.copytree(ROOT / "examples", workdir / "examples")
    shutil.copytree(ROOT / "data", workdir / "data")
    ran = 0
    with SimProcess(*page.sim_args) as sim:
        daemon_port = _free_port()

        def local(text: str) -> str:
            host = sim.base_url.removeprefix("http://")
            text = text.replace("127.0.0.1:8765", host)
            return text.replace("127.0.0.1:9090", f"127.0.0.1:{daemon_port}")

        shell = Shell(workdir, _environment(sim, workdir))
        try:
            for block in page.blocks:
                ran += _run_block(page, block, shell, workdir, local)
        finally:
            shell.close()
    return ran


def _run_block(
    page: Page, block: Block, shell: Shell, workdir: Path, local: Callable[[str], str]
) -> int:
    if block.kind == "file":
        target = workdir / block.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(local(block.content), encoding="utf-8")
        return 0
    if block.kind == "setup":
        status, out = shell.run(local(block.content))
        assert status == 0, f"{_where(page, block.line)}: setup exited {status}:\n{out}"
        return 0
    if block.kind != "session":
        return 0
    for command in block.commands:
        status, out = shell.run(local(command.text))
        where = _where(page, command.line)
        if status != 0 and not command.may_fail:
            pytest.fail(
                f"{where}: `{command.text}` exited {status} (a command that may fail is "
                f"followed by `$ echo $?`); it printed:\n{out}"
            )
        lost = missing([local(e) for e in command.expected], out)
        if lost is not None:
            pytest.fail(f"{where}: `{command.text}` did not print {lost!r}; it printed:\n{out}")
    return len(block.commands)


def test_there_are_pages_to_run() -> None:
    names = [p.relative_to(ROOT).as_posix() for p in PAGES]
    assert "docs/tutorials/waldur-sim.md" in names and "README.md" in names
    assert sum(n.startswith("docs/how-to/") for n in names) >= 10, names


@pytest.mark.parametrize("path", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_sessions_run(path: Path, tmp_path: Path, docs_counts: dict[str, int]) -> None:
    page = parse(path)
    unmarked = [b.line for b in page.blocks if b.kind == "unmarked"]
    assert not unmarked, (
        f"{page.name}: shell blocks at lines {unmarked} are neither ```console sessions "
        "(run here) nor marked <!-- docs-test: skip REASON --> (see docs/contributing.md)"
    )
    ran = run_page(page, tmp_path)
    assert ran == page.count("commands")
    docs_counts["commands"] += ran
    docs_counts["skipped blocks"] += page.count("skip")
    docs_counts["pages"] += 1
