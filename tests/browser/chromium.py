"""Headless Chromium driven over the DevTools protocol through a pipe: no package needed.

`Browser` starts one Chromium (``--remote-debugging-pipe``: the protocol's JSON messages,
each ended by a NUL byte, on file descriptors 3 and 4) and `Browser.page` opens a tab with a
given viewport, colour scheme and script setting. A `Page` records what the browser itself saw:
every request the page made (``Network.requestWillBeSent``), every console message, script
error and Content-Security-Policy violation (``Log.entryAdded``, ``Runtime.*``), so a test can
assert that no request left the page, and reads the rendered DOM with ``Runtime.evaluate``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
ENV = "CHROMIUM_BIN"


def find_chromium() -> str | None:
    """$CHROMIUM_BIN if set (and executable), else the first of `NAMES` on PATH."""
    given = os.environ.get(ENV, "")
    if given:
        return given if os.path.isfile(given) and os.access(given, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_message(tests: list[str]) -> str:
    """Why the browser tests failed without running, and how to make them run."""
    given = os.environ.get(ENV, "")
    looked = (
        f"${ENV}={given} is not an executable file"
        if given
        else (f"none of {', '.join(NAMES)} is on PATH and ${ENV} is not set")
    )
    listed = "\n".join(f"  {t}" for t in tests) or "  (the tests using the `browser` fixture)"
    return (
        f"headless Chromium is needed and was not found ({looked}).\n"
        f"These {len(tests)} browser test(s) did NOT run:\n{listed}\n"
        "Install it: `sudo apt-get install chromium` (Debian, Ubuntu; `.ci/run` installs it "
        "when it runs as root), or point $CHROMIUM_BIN at a Chromium or Chrome binary. "
        "The project's tests never skip: this is a failure until the browser is there."
    )


class ProtocolError(RuntimeError):
    pass


class Browser:
    def __init__(self, executable: str, profile: Path, timeout: float = 20.0) -> None:
        self.timeout = timeout
        profile.mkdir(parents=True, exist_ok=True)
        self.log_path = profile / "chromium.log"
        to_child, from_parent = os.pipe()  # the browser reads commands on its fd 3
        to_parent, from_child = os.pipe()  # and writes answers and events on its fd 4
        # Move both child ends well above 4 first, so that the dup2s cannot clobber each other.
        read_end = fcntl.fcntl(to_child, fcntl.F_DUPFD_CLOEXEC, 100)
        write_end = fcntl.fcntl(from_child, fcntl.F_DUPFD_CLOEXEC, 100)
        os.close(to_child)
        os.close(from_child)
        args = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile / 'profile'}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--font-render-hinting=none",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        with open(self.log_path, "wb") as log:
            self.pid = os.posix_spawn(
                executable,
                args,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log.fileno(), 1),
                    (os.POSIX_SPAWN_DUP2, log.fileno(), 2),
                    (os.POSIX_SPAWN_DUP2, read_end, 3),
                    (os.POSIX_SPAWN_DUP2, write_end, 4),
                ],
                setsid=True,  # its own process group: stopped as a whole in `close`
            )
        os.close(read_end)
        os.close(write_end)
        self._out = os.fdopen(from_parent, "wb", buffering=0)
        self._in = os.fdopen(to_parent, "rb", buffering=0)
        self._next = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()
        self.version = self.send("Browser.getVersion")

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self._in.read(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self._cond.notify_all()

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        with self._cond:
            self._next += 1
            ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while ident not in self._answers:
                if self._closed:
                    raise ProtocolError(f"Chromium exited; see {self.log_path}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProtocolError(f"no answer to {method} within {self.timeout}s")
                self._cond.wait(left)
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(
        self, method: str, session: str | None, after: int = 0, timeout: float | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise ProtocolError(f"no {method} event within {timeout or self.timeout}s")
                self._cond.wait(left)

    def page(
        self,
        width: int = 1280,
        height: int = 800,
        *,
        dark: bool = False,
        script: bool = True,
    ) -> Page:
        return Page(self, width, height, dark=dark, script=script)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # helpers (zygote, renderers) it left behind
        self._out.close()
        self._in.close()


class Page:
    """One tab: navigate, read the DOM, take screenshots; every request and message kept."""

    def __init__(
        self, browser: Browser, width: int, height: int, *, dark: bool, script: bool
    ) -> None:
        self.browser = browser
        self.width, self.height = width, height
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        self.start = len(browser.events)
        for domain in ("Network", "Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        scheme = "dark" if dark else "light"
        self.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
        )
        if not script:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.load_seconds = 0.0

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def _events(self, *methods: str) -> list[dict[str, Any]]:
        with self.browser._cond:
            found = list(self.browser.events[self.start :])
        return [e for e in found if e.get("sessionId") == self.session and e["method"] in methods]

    def goto(self, url: str, timeout: float = 30.0) -> Page:
        mark = len(self.browser.events)
        started = time.monotonic()
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise ProtocolError(f"navigating to {url}: {answer['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, after=mark, timeout=timeout)
        self.load_seconds = time.monotonic() - started
        return self

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (the DevTools protocol evaluates
        it even when the page's own scripts are disabled)."""
        answer = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise ProtocolError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def media(self, media: str) -> None:
        """Emulate a media type (`print`, or `` for the screen)."""
        scheme = [{"name": "prefers-color-scheme", "value": "light"}]
        self.send("Emulation.setEmulatedMedia", {"media": media, "features": scheme})

    def requests(self) -> list[str]:
        """Every URL the page asked for, in order (the page itself included)."""
        return [e["params"]["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def blocked(self) -> dict[str, str]:
        """URL → why the browser refused to load it (e.g. ``csp``) before it was sent."""
        urls = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in self._events("Network.requestWillBeSent")
        }
        return {
            urls.get(e["params"]["requestId"], "?"): e["params"]["blockedReason"]
            for e in self._events("Network.loadingFailed")
            if e["params"].get("blockedReason")
        }

    def problems(self) -> list[str]:
        """Script errors, console errors and warnings, CSP violations, failed loads."""
        found = []
        for event in self._events(
            "Log.entryAdded",
            "Runtime.exceptionThrown",
            "Runtime.consoleAPICalled",
            "Network.loadingFailed",
        ):
            params = event["params"]
            if event["method"] == "Log.entryAdded":
                entry = params["entry"]
                if entry["level"] in ("error", "warning") or entry["source"] == "security":
                    found.append(f"{entry['source']}: {entry['text']}")
            elif event["method"] == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif event["method"] == "Runtime.consoleAPICalled":
                if params["type"] in ("error", "warning", "assert"):
                    found.append(f"console.{params['type']}: {params['args']}")
            else:
                found.append(f"load failed: {params}")
        return found

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or the whole page) as tests/artifacts/NAME."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data))
        return path

    def pdf(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        data = self.send("Page.printToPDF", {"printBackground": False})["data"]
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(ProtocolError):
            self.browser.send("Target.closeTarget", {"targetId": self.target})
