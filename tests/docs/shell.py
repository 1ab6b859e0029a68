"""One bash for one page: commands run in order in the same shell, as a reader types them.

`cd`, `export`, shell variables and background jobs (`reconcile daemon … &`, then `kill %1`)
carry from one command to the next, across the page's blocks. Standard output and standard
error are read together (what the reader sees), up to a marker line the shell prints after each
command with its exit status; `$?` is kept for the next command, so `$ echo $?` shows it. At the
end the whole process group is terminated, background jobs included.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path


class ShellError(RuntimeError):
    pass


class Shell:
    def __init__(self, cwd: Path, env: Mapping[str, str], timeout: float = 120.0) -> None:
        self.timeout = timeout
        self._marker = f"__docs_test_{uuid.uuid4().hex}__"
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, command: str) -> tuple[int, str]:
        """Run one command; its exit status and everything it printed."""
        assert self._process.stdin is not None
        script = (
            f"{{ {command}\n}} </dev/null\n"
            f"__rc=$?; printf '\\n%s %d\\n' {self._marker} $__rc; (exit $__rc)\n"
        )
        self._process.stdin.write(script)
        self._process.stdin.flush()
        out: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                raise ShellError(
                    f"no end after {self.timeout:.0f} s; output so far:\n{''.join(out)}"
                ) from None
            if line is None:
                raise ShellError(f"the shell exited; output:\n{''.join(out)}")
            if line.startswith(self._marker):
                text = "".join(out)
                return int(line.split()[1]), text[:-1] if text.endswith("\n") else text
            out.append(line)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
