"""Run `reconcile daemon` as a real process and read its JSON log lines and endpoints."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .harness import RECONCILE


class DaemonProcess:
    def __init__(
        self,
        api_url: str | None,
        token: str | None,
        files: list[Path],
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """`api_url` and `token` None: no WALDUR_API_URL, no WALDUR_API_TOKEN."""
        command = [
            RECONCILE,
            "daemon",
            "--listen",
            "127.0.0.1:0",
            "--log-level",
            "info",
            "--log-format",
            "json",
        ]
        for f in files:
            command += ["-f", str(f)]
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("WALDUR_", "RECONCILE_"))
        }
        if api_url is not None:
            full_env["WALDUR_API_URL"] = api_url
        if token is not None:
            full_env["WALDUR_API_TOKEN"] = token
        full_env.update(
            {
                "RECONCILE_RETRY_BACKOFF": "0.05",
                "RECONCILE_MAX_ATTEMPTS": "2",
                "RECONCILE_LOCK_DIR": "/tmp",
                # a run's deadline is the interval by default: 1 s intervals here are about
                # scheduling, and a loaded test machine must not turn them into deadlines
                "RECONCILE_RUN_TIMEOUT": "120",
                **(env or {}),
            }
        )
        self.proc = subprocess.Popen(
            [*command, *args],
            env=full_env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        listening = self.wait_for(lambda e: e.get("event") == "listening", timeout=15)
        self.url: str = listening["url"]

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.raw.append(line)
                with contextlib.suppress(ValueError):  # a non-JSON line stays in .raw only
                    self.events.append(json.loads(line))

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20, after: int = 0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.snapshot()[after:]:
                if predicate(event):
                    return event
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"no such log event within {timeout}s; log tail: {''.join(self.raw[-15:])}"
        )

    def runs_ended(self) -> list[dict[str, Any]]:
        return [e for e in self.snapshot() if e.get("event") == "run end"]

    def wait_runs(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.runs_ended()) < count:
            assert time.monotonic() < deadline, f"fewer than {count} runs in {timeout}s"
            assert self.proc.poll() is None, "".join(self.raw[-15:])
            time.sleep(0.05)
        return self.runs_ended()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path.lstrip("/"), timeout=5)

    def metric(self, name: str, **labels: str) -> float:
        for line in self.get("metrics").text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            have = head[len(name) :].strip("{}")
            if ",".join(sorted(have.split(","))) == wanted or (not labels and head == name):
                return float(value)
        return 0.0

    def terminate(self, timeout: float = 40) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
