"""`SimProcess`: run waldur-sim as a real child process (for tests, the demo and benchmarks).

    with SimProcess("--dialect", "current") as sim:
        httpx.get(sim.api_url + "marketplace-software-catalogs/")

The child is `python -m waldur_sim --host 127.0.0.1 --port 0 …` with the tokens passed in
its environment (never on its command line). `start()` waits for the one line the server prints
when it is ready and learns the port from it; if the server exits or stays silent, the error
says so and includes what it wrote to stderr. Both output pipes are drained by threads, so the
child never blocks on a full pipe. `stop()` sends SIGTERM, waits, and kills as a last resort.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from waldur_sim.auth import DEFAULT_OWNER_TOKEN, DEFAULT_STAFF_TOKEN, DEFAULT_USER_TOKEN

_READY = re.compile(r"^waldur-sim listening on (http://\S+?)/api/$")


class SimProcessError(RuntimeError):
    """waldur-sim did not start, or did not stop."""


class SimProcess:
    """A waldur-sim child process on a free loopback port."""

    def __init__(
        self,
        *args: str,
        db: Path | str | None = None,
        staff_token: str = DEFAULT_STAFF_TOKEN,
        user_token: str = DEFAULT_USER_TOKEN,
        owner_token: str = DEFAULT_OWNER_TOKEN,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self.args = list(args) + (["--db", str(db)] if db is not None else [])
        self.staff_token = staff_token
        self.user_token = user_token
        self.owner_token = owner_token
        self.startup_timeout = startup_timeout
        self._env = dict(env) if env is not None else None
        self._process: subprocess.Popen[str] | None = None
        self._base_url = ""
        self._ready = threading.Event()
        self._stdout: deque[str] = deque(maxlen=200)
        self._stderr: deque[str] = deque(maxlen=200)
        self._drains: list[threading.Thread] = []

    # -- what a caller uses -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash)."""
        if not self._base_url:
            raise SimProcessError("waldur-sim is not running")
        return self._base_url

    @property
    def api_url(self) -> str:
        """`http://127.0.0.1:PORT/api/`."""
        return f"{self.base_url}/api/"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        if self._process is None:
            raise SimProcessError("waldur-sim is not running")
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    @property
    def stderr(self) -> str:
        """The last lines the server wrote to stderr."""
        return "".join(self._stderr)

    @property
    def stdout(self) -> str:
        return "".join(self._stdout)

    def start(self) -> SimProcess:
        if self._process is not None:
            raise SimProcessError("waldur-sim is already started")
        command = [sys.executable, "-m", "waldur_sim", "--host", "127.0.0.1", "--port", "0"]
        env = dict(os.environ if self._env is None else self._env)
        env["WALDUR_SIM_STAFF_TOKEN"] = self.staff_token
        env["WALDUR_SIM_USER_TOKEN"] = self.user_token
        env["WALDUR_SIM_OWNER_TOKEN"] = self.owner_token
        self._process = subprocess.Popen(
            [*command, *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        pipes = ((self._process.stdout, self._stdout), (self._process.stderr, self._stderr))
        self._drains = [
            threading.Thread(target=self._drain, args=pipe, daemon=True) for pipe in pipes
        ]
        for thread in self._drains:
            thread.start()
        if not self._ready.wait(self.startup_timeout) or not self._base_url:
            exited = self._ready.is_set()
            code = self.stop()
            for thread in self._drains:
                thread.join(timeout=2)
            state = (
                f"exited with status {code} before it was ready"
                if exited
                else f"was not ready within {self.startup_timeout:g} s"
            )
            raise SimProcessError(
                f"waldur-sim {state} (args: {' '.join(self.args) or 'none'}); "
                f"stderr:\n{self.stderr}"
            )
        return self

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status."""
        process = self._process
        if process is None:
            return 0
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        return process.returncode

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _drain(self, stream: IO[str] | None, sink: deque[str]) -> None:
        if stream is None:
            return
        for line in stream:
            sink.append(line)
            match = _READY.match(line.strip()) if not self._base_url else None
            if match:
                self._base_url = match[1]
                self._ready.set()
        self._ready.set()  # the process ended: stop waiting
