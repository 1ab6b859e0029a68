"""Signed commits, checked by `git verify-commit`: SSH signatures against an allowed-signers
file, OpenPGP signatures against a GnuPG keyring; an unsigned commit or one signed by another
key is refused. The repository is a bare one fetched over git's file transport (the Git
server tests are tests/e2e/test_git_source.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.source.git import CommitRefused, GitConfig, GitSource
from tests.gitserver import GitRepo, need


def source(tmp_path: Path, repo: GitRepo, **options: str) -> GitSource:
    return GitSource(GitConfig(url=f"file://{repo.bare}", cache_dir=tmp_path / "cache", **options))


def make_repo(tmp_path: Path) -> GitRepo:
    (tmp_path / "srv").mkdir()
    repo = GitRepo(tmp_path / "srv", tmp_path / "work")
    repo.write("catalog.yaml", "catalogs: []\n")
    return repo


def test_ssh_signatures_of_allowed_keys_only(tmp_path):
    repo = make_repo(tmp_path)
    (tmp_path / "other").mkdir()
    other = GitRepo(tmp_path / "other", tmp_path / "other-work")
    not_allowed = other.ssh_signing(tmp_path / "other")
    allowed = repo.ssh_signing(tmp_path)
    sha = repo.commit("signed", sign=True)
    repo.push()
    checkout = source(tmp_path, repo, allowed_signers=str(allowed)).update()
    assert checkout.commit.sha == sha and checkout.commit.signed_by == "ann@example.org"
    assert (checkout.root / "catalog.yaml").read_text() == "catalogs: []\n"

    with pytest.raises(CommitRefused, match="is signed by a key that is not allowed"):
        source(tmp_path, repo, allowed_signers=str(not_allowed)).update()
    unsigned = repo.commit("unsigned")
    repo.push()
    with pytest.raises(CommitRefused, match=f"commit {unsigned[:12]} .* is not signed") as caught:
        source(tmp_path, repo, allowed_signers=str(allowed)).update()
    assert caught.value.sha == unsigned
    assert list((tmp_path / "cache").glob(f"*-trees/{sha}"))
    assert not list((tmp_path / "cache").glob(f"*-trees/{unsigned}"))  # never unpacked


@pytest.fixture
def gpg_homes():
    """GnuPG homes made by the test; their gpg-agent is stopped afterwards."""
    homes: list[Path] = []
    yield homes
    for home in homes:
        subprocess.run(
            ["gpgconf", "--kill", "all"],
            env={**os.environ, "GNUPGHOME": str(home)},
            capture_output=True,
            check=False,
        )


def gpg_key(home: Path, uid: str, homes: list[Path]) -> str:
    gpg = need("gpg", "apt-get install gnupg")
    home.mkdir(mode=0o700)
    homes.append(home)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [gpg, "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    listing = subprocess.run(
        [gpg, "--batch", "--with-colons", "--list-secret-keys"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


def test_gpg_signatures_of_keyring_keys_only(tmp_path, gpg_homes):
    repo = make_repo(tmp_path)
    signer = tmp_path / "signer"
    fingerprint = gpg_key(signer, "Ann Admin <ann@example.org>", gpg_homes)
    keyring = tmp_path / "keyring"
    keyring.mkdir(mode=0o700)
    gpg_homes.append(keyring)
    exported = subprocess.run(
        ["gpg", "--batch", "--export", fingerprint],
        env={**os.environ, "GNUPGHOME": str(signer)}, check=True, capture_output=True,
    ).stdout  # fmt: skip
    subprocess.run(
        ["gpg", "--batch", "--import"], input=exported,
        env={**os.environ, "GNUPGHOME": str(keyring)}, check=True, capture_output=True,
    )  # fmt: skip
    repo.git("add", "-A")
    done = subprocess.run(
        ["git", "-C", str(repo.work), "-c", f"user.signingkey={fingerprint}",
         "-c", "user.name=Ann Admin", "-c", "user.email=ann@example.org",
         "commit", "-q", "-S", "-m", "signed with GPG"],
        env={**os.environ, "GNUPGHOME": str(signer)}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    repo.push()
    checkout = source(tmp_path, repo, gpg_home=str(keyring)).update()
    assert "ann@example.org" in checkout.commit.signed_by

    stranger = tmp_path / "stranger"
    gpg_key(stranger, "Mallory <mallory@example.org>", gpg_homes)
    with pytest.raises(CommitRefused, match="signed by a key that is not allowed"):
        source(tmp_path, repo, gpg_home=str(stranger)).update()
