"""The Git source: the desired files of exactly one commit of a remote repository.

Each `GitSource.update` runs `git fetch` of one branch or tag into a bare cache repository
(``$XDG_CACHE_HOME/waldur-catalog-reconciler/git/<digest of the URL>``), resolves it to a
commit, checks the commit's signature when an allowed-signers file (or a GPG keyring) is
given (`source.verify`), and unpacks that commit's tree (``git archive``) into
``trees/<sha>``: the files a run reads are those of one commit, never a working copy that
moves under it. An unchanged commit costs one fetch.

What happens on each failure (the caller keeps the last good `Checkout`):

- the fetch fails (server down, bad credentials, unknown ref): `FetchFailed`;
- the commit is unsigned or signed by a key not allowed: `CommitRefused` (the commit is not
  unpacked, its files never read).

Credentials never go into the URL, the command line or an error message: an HTTPS token is
sent as an ``http.extraHeader`` given to git through ``GIT_CONFIG_*`` environment variables
of the child process; SSH uses ``GIT_SSH_COMMAND`` with the key, a pinned known_hosts file
and ``StrictHostKeyChecking=yes``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.core.errors import ConfigError, ExitCode, ReconcileError
from reconciler.core.secret import Secret
from reconciler.core.urls import public_url
from reconciler.source.verify import Verifier

TARGET = "refs/reconcile/target"
#: Trees of older commits kept beside the current one (a run in progress may still read one).
KEEP_TREES = 2
_FORGES = (
    (re.compile(r"^(?:https://|ssh://git@|git@)(github\.com)[:/](.+?)(?:\.git)?/?$"), "commit"),
    (re.compile(r"^(?:https://|ssh://git@|git@)(gitlab\.com)[:/](.+?)(?:\.git)?/?$"), "-/commit"),
    (re.compile(r"^(?:https://|ssh://git@|git@)(codeberg\.org)[:/](.+?)(?:\.git)?/?$"), "commit"),
)


class FetchFailed(ReconcileError):
    """The repository could not be fetched (the last good commit stays applied)."""


class CommitRefused(ReconcileError):
    """The commit's signature is missing or not from an allowed key."""

    exit_code = ExitCode.REFUSED

    def __init__(self, message: str, sha: str) -> None:
        super().__init__(message)
        self.sha = sha


@dataclass(frozen=True)
class GitConfig:
    url: str
    ref: str = "main"
    path: str = ""
    cache_dir: Path | None = None
    token: Secret | None = None
    username: str = "x-access-token"
    ssh_key: str = ""
    known_hosts: str = ""
    allowed_signers: str = ""
    gpg_home: str = ""
    timeout: float = 120.0


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    author: str
    timestamp: int  # committer time, Unix seconds
    link: str | None  # the commit's page on a known forge
    signed_by: str = ""  # the key that signed it, when verification is on

    def json(self) -> dict[str, object]:
        return {
            "sha": self.sha,
            "short": self.sha[:12],
            "subject": self.subject,
            "author": self.author,
            "committed_at": self.timestamp,
            "link": self.link,
            "signed_by": self.signed_by or None,
        }


@dataclass(frozen=True)
class Checkout:
    """One commit's files, unpacked: read them under `root`."""

    commit: Commit
    root: Path
    url: str  # the repository URL without credentials
    ref: str


def forge_link(url: str, sha: str) -> str | None:
    for pattern, route in _FORGES:
        match = pattern.match(url)
        if match:
            return f"https://{match.group(1)}/{match.group(2)}/{route}/{sha}"
    return None


class GitSource:
    def __init__(self, config: GitConfig) -> None:
        if shutil.which("git") is None:
            raise ConfigError("the Git source needs the git program; install git")
        if urlsplit(config.url).password:
            raise ConfigError(
                "the Git URL holds a password; give the token with RECONCILE_GIT_TOKEN or "
                "--git-token-file instead (a URL is printed in logs and pages)"
            )
        self.config = config
        base = config.cache_dir or _default_cache()
        digest = hashlib.sha256(config.url.encode()).hexdigest()[:16]
        self.repo = base / digest
        self.trees = base / f"{digest}-trees"
        self.verifier = Verifier(config.allowed_signers, config.gpg_home)
        self.fetches = 0

    # -- git -------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", LC_ALL="C")
        c = self.config
        headers = []
        if c.token is not None and c.token:
            pair = f"{c.username}:{c.token.get_secret_value()}".encode()
            headers.append(f"Authorization: Basic {base64.b64encode(pair).decode()}")
        for index, value in enumerate(headers):
            env[f"GIT_CONFIG_KEY_{index}"] = "http.extraHeader"
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        env["GIT_CONFIG_COUNT"] = str(len(headers))
        if c.ssh_key or c.known_hosts:
            ssh = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
            if c.known_hosts:
                ssh += ["-o", f"UserKnownHostsFile={c.known_hosts}"]
            if c.ssh_key:
                ssh += ["-i", c.ssh_key, "-o", "IdentitiesOnly=yes"]
            env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        return env

    def _git(self, *args: str, what: str) -> str:
        try:
            done = subprocess.run(
                ["git", "--git-dir", str(self.repo), *args],
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=self.config.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FetchFailed(f"{what}: git took more than {self.config.timeout:.0f} s") from None
        if done.returncode != 0:
            detail = _last_lines(done.stderr) or f"exit status {done.returncode}"
            raise FetchFailed(f"{what}: {detail}")
        return done.stdout

    def _init(self) -> None:
        if (self.repo / "HEAD").is_file():
            return
        self.repo.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._git("init", "--quiet", "--bare", str(self.repo), what="creating the Git cache")

    # -- one run ---------------------------------------------------------------------------------
    def update(self) -> Checkout:
        """Fetch, resolve, verify and unpack the ref's commit (see the module docstring)."""
        try:
            return self._update()
        except OSError as exc:  # the cache: a read-only file system, a full disk
            raise FetchFailed(
                f"cannot write the Git cache {self.repo.parent}: {exc.strerror or exc}; give a "
                "writable directory with --git-cache (RECONCILE_GIT_CACHE)"
            ) from None

    def _update(self) -> Checkout:
        self._init()
        c = self.config
        where = f"fetching {c.ref} from {public_url(c.url)}"
        self._git(
            "fetch", "--quiet", "--no-tags", "--depth=1", "--force", c.url,
            f"+{c.ref}:{TARGET}", what=where,
        )  # fmt: skip
        self.fetches += 1
        commit = self._describe(f"{TARGET}^{{commit}}")
        sha = commit.sha
        if self.verifier.active:
            signer = self.verifier.check(self.repo, sha, self._env())
            if signer is None:
                raise CommitRefused(
                    f"commit {sha[:12]} ({commit.subject!r} by {commit.author}) is "
                    f"{self.verifier.last_problem}; it is not applied",
                    sha,
                )
            commit = Commit(**{**commit.__dict__, "signed_by": signer})
        root = self._unpack(sha)
        if c.path:
            root = root / c.path
            if not root.is_dir():
                raise FetchFailed(f"commit {sha[:12]} has no directory {c.path!r}")
        return Checkout(commit, root, public_url(c.url), c.ref)

    def _describe(self, ref: str) -> Commit:
        """The commit `ref` names (one `git show`: its hash, subject, author and time)."""
        text = self._git(
            "show", "-s", "--format=%H%x00%s%x00%an <%ae>%x00%ct", ref, what=f"reading {ref}"
        )
        sha, subject, author, stamp = [*text.rstrip("\n").split("\x00"), "", "", "", "0"][:4]
        return Commit(sha, subject, author, int(stamp or 0), forge_link(self.config.url, sha))

    def _unpack(self, sha: str) -> Path:
        tree = self.trees / sha
        if tree.is_dir():
            return tree
        self.trees.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=self.trees, prefix=f".{sha[:12]}-"))
        archive = partial / ".archive.tar"
        self._git("archive", "--format=tar", "-o", str(archive), sha, what=f"unpacking {sha}")
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        archive.unlink()
        os.replace(partial, tree)
        self._prune(keep=tree)
        return tree

    def _prune(self, keep: Path) -> None:
        others = sorted(
            (p for p in self.trees.iterdir() if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_TREES - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
        os.utime(keep)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "waldur-catalog-reconciler" / "git"


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:])
