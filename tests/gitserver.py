"""A real Git server on loopback for the tests: `git http-backend` (Git's own smart-HTTP
server, as a CGI program) behind a small threaded HTTP server, optionally asking for a token
(Basic auth, as GitHub and GitLab take one). The protocol is Git's, not a folder copy.

`GitRepo` is a work repository the test commits to and pushes from (plain `git`, with a fixed
identity and, if asked, SSH signing).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


def need(program: str, package: str) -> str:
    found = shutil.which(program)
    assert found, f"{program} is needed by this test; install it (Debian/Ubuntu: {package})"
    return found


class GitHttpServer:
    """Serves every bare repository under `root` at http://127.0.0.1:PORT/NAME.git."""

    def __init__(self, root: Path, token: str | None = None) -> None:
        need("git", "apt-get install git")
        self.root = root
        self.token = token
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.git"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fetches(self) -> int:
        """upload-pack POSTs answered 200 (one per fetch that negotiated)."""
        with self.lock:
            return sum(1 for m, p, s in self.requests if p.endswith("upload-pack") and s == 200)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _authorised(self) -> bool:
                if server.token is None:
                    return True
                expected = base64.b64encode(f"x-access-token:{server.token}".encode()).decode()
                return self.headers.get("Authorization", "") == f"Basic {expected}"

            def _cgi(self) -> None:
                path, _, query = self.path.partition("?")
                if not self._authorised():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    with server.lock:
                        server.requests.append((self.command, path, 401))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(server.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "REMOTE_ADDR": "127.0.0.1",
                }
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                done = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
                )
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                with server.lock:
                    server.requests.append((self.command, path, status))

            do_GET = _cgi
            do_POST = _cgi

        return Handler


class GitRepo:
    """A bare repository `NAME.git` under `server_root` and a work clone to commit from."""

    def __init__(self, server_root: Path, work: Path, name: str = "catalogs") -> None:
        self.bare = server_root / f"{name}.git"
        self.work = work
        git = need("git", "apt-get install git")
        subprocess.run([git, "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        subprocess.run([git, "init", "-q", "-b", "main", str(work)], check=True)
        self.git("remote", "add", "origin", str(self.bare))
        self.signing_key: Path | None = None

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ann Admin",
            "GIT_AUTHOR_EMAIL": "ann@example.org",
            "GIT_COMMITTER_NAME": "Ann Admin",
            "GIT_COMMITTER_EMAIL": "ann@example.org",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.work.parent),
        }
        done = subprocess.run(
            ["git", "-C", str(self.work), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def write(self, relative: str, data: Any) -> None:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")

    def commit(self, message: str, *, sign: bool = False) -> str:
        self.git("add", "-A")
        signing = []
        if sign:
            assert self.signing_key is not None
            signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={self.signing_key}"]
            self.git(*signing, "commit", "-q", "-S", "--allow-empty", "-m", message)
        else:
            self.git("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, *, force: bool = False) -> None:
        self.git("push", "-q", *(["--force"] if force else []), "origin", "HEAD:main")

    def ssh_signing(self, directory: Path) -> Path:
        """Make an SSH signing key; returns an allowed-signers file that lists it."""
        keygen = need("ssh-keygen", "apt-get install openssh-client")
        key = directory / "signing_key"
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "ann", "-f", str(key)], check=True
        )
        self.signing_key = key
        allowed = directory / "allowed_signers"
        public = (directory / "signing_key.pub").read_text().strip()
        allowed.write_text(f'ann@example.org namespaces="git" {public}\n')
        return allowed
