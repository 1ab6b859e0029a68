"""Only trusted commits: `git verify-commit` against an allowed-signers file or a GPG keyring.

SSH signatures (``gpg.format=ssh``) are checked against ``gpg.ssh.allowedSignersFile`` (one
line per person: ``email namespaces="git" ssh-ed25519 AAAA…``); OpenPGP signatures against
the keyring in a GnuPG home directory (``GNUPGHOME``). A commit without a signature, or
signed by a key that neither lists, fails; the caller keeps the last good commit.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from reconciler.core.errors import ConfigError

_GOOD = re.compile(r'Good "git" signature for (\S+)|Good signature from "([^"]+)"')


class Verifier:
    def __init__(self, allowed_signers: str = "", gpg_home: str = "") -> None:
        for what, name in (("allowed-signers file", allowed_signers), ("GPG home", gpg_home)):
            if name and not Path(name).exists():
                raise ConfigError(f"the {what} {name} does not exist")
        self.allowed_signers = allowed_signers
        self.gpg_home = gpg_home
        self.last_problem = ""

    @property
    def active(self) -> bool:
        return bool(self.allowed_signers or self.gpg_home)

    def check(self, repo: Path, sha: str, env: dict[str, str]) -> str | None:
        """Who signed `sha` (the principal or the key's user id), or None when the signature
        is missing or not allowed (`last_problem` then says which)."""
        config = ["-c", "gpg.ssh.allowedSignersFile=" + (self.allowed_signers or "/dev/null")]
        env = dict(env)
        if self.gpg_home:
            env["GNUPGHOME"] = self.gpg_home
        done = subprocess.run(
            ["git", "--git-dir", str(repo), *config, "verify-commit", sha],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode == 0:
            match = _GOOD.search(done.stderr)
            return (match.group(1) or match.group(2)) if match else "an allowed key"
        if not done.stderr.strip():
            self.last_problem = "not signed"
        elif any(s in done.stderr for s in ("No principal matched", "No public key")):
            self.last_problem = "signed by a key that is not allowed"
        else:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            self.last_problem = "not verified: " + (lines[-1] if lines else "bad signature")
        return None
