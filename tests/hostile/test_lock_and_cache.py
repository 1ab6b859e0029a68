"""The apply lock is one per server however its URL is spelled, is never reached through a
planted link and is never another user's; the desired-state cache runs no code and uses
only entries this user wrote (signed, not writable by others)."""

from __future__ import annotations

import json
import os
import pickle
import stat
import tempfile
from pathlib import Path

import pytest

from reconciler.core.errors import GuardRefused
from reconciler.desired import cache, cachefile
from reconciler.desired.files import expand
from reconciler.engine import locks
from tests.e2e.harness import ROOT, count_kinds, reconcile, server_tree, sim_stats, writes

EXAMPLE = ROOT / "examples" / "targets.yaml"


# -- the lock ---------------------------------------------------------------------------------


def test_one_server_is_one_lock_however_it_is_spelled(tmp_path):
    same = [
        "http://127.0.0.1:8000/api/",
        "http://localhost:8000/api",
        "HTTP://LocalHost:8000//api/",
        "http://[::1]:8000/api/",
    ]
    assert len({locks.lock_path(url, str(tmp_path)) for url in same}) == 1
    others = ["https://localhost:8000/api/", "http://localhost:8001/api/", "http://h:80/x/api/"]
    assert len({locks.lock_path(url, str(tmp_path)) for url in [same[0], *others]}) == 4
    assert locks.server_key("https://w.example.org/api/") == "https://w.example.org:443/api/"


@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost"])
def test_an_apply_through_localhost_waits_for_one_through_127_0_0_1(sim, tmp_path, spelling):
    """A second apply to the server waits, then refuses: also when it names it otherwise."""
    server = sim()
    assert "127.0.0.1" in server.api_url
    api_url = server.api_url.replace("127.0.0.1", spelling)
    with locks.exclusive(server.api_url, wait=0, directory=str(tmp_path)):
        done = reconcile(
            server,
            "-f",
            str(EXAMPLE),
            "--lock-wait",
            "0.5",
            api_url=api_url,
            env={"RECONCILE_LOCK_DIR": str(tmp_path)},
        )
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"another reconcile (pid {os.getpid()})" in done.stderr
    assert "Nothing was written" in done.stderr
    assert count_kinds(server_tree(server.api_url))["catalog"] == 0
    assert reconcile(server, "--dry-run", "-f", str(EXAMPLE)).returncode == 0  # plans don't lock


def test_a_symlink_planted_at_the_lock_path_is_not_followed(sim, tmp_path):
    server = sim()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    locks.lock_path(server.api_url, str(tmp_path)).symlink_to(victim)
    done = reconcile(server, "-f", str(EXAMPLE), env={"RECONCILE_LOCK_DIR": str(tmp_path)})
    assert done.returncode == 4, done.stdout + done.stderr
    assert "is a symbolic link: not followed" in done.stderr
    assert victim.read_text() == "precious\n"
    assert writes(sim_stats(server)) == 0


def test_a_lock_file_of_another_user_is_refused(tmp_path, monkeypatch):
    path = locks.lock_path("http://127.0.0.1:9/api/", str(tmp_path))
    path.write_text("")
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with (
        pytest.raises(GuardRefused, match="not a file of this user's"),
        locks.exclusive("http://127.0.0.1:9/api/", wait=0, directory=str(tmp_path)),
    ):
        pass


def test_the_default_lock_directory_is_the_users_own(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = locks.lock_path("http://127.0.0.1:9/api/")
    assert path.parent == tmp_path / f"waldur-reconcile-{os.geteuid()}"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.parent.chmod(0o777)  # opened to others (or made so by someone else): not used
    with pytest.raises(GuardRefused, match="not a directory of this user's alone"):
        locks.lock_path("http://127.0.0.1:9/api/")


# -- the cache --------------------------------------------------------------------------------


def cache_env(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


def entry_of(tmp_path: Path, desired: Path, monkeypatch) -> Path:
    """The cache entry `reconcile plan -f DESIRED` reads, as the CLI computes it."""
    for name, value in cache_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    key = cache.digest(expand([desired], []))
    assert key is not None
    return cache.cache_dir() / f"{key}{cachefile.SUFFIX}"


def forged(entry: Path) -> dict:
    """The state of `entry` with a package `Backdoor` added under the first catalog."""
    document = json.loads(entry.read_bytes().partition(b"\n")[2])
    catalog = next(i for i, r in enumerate(document["records"]) if r[0] == 0)
    document["records"].append([1, catalog, ["Backdoor"], {}, "planted"])  # a package
    return document


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a crafted pickle does when it is loaded
        return (Path.write_text, (self.marker, "code ran"))


def test_a_crafted_pickle_in_the_cache_runs_nothing(sim, tmp_path, monkeypatch):
    server = sim()
    entry = entry_of(tmp_path, EXAMPLE, monkeypatch)
    marker = tmp_path / "code-ran"
    entry.parent.mkdir(parents=True, mode=0o700)
    entry.with_suffix(".pickle").write_bytes(pickle.dumps(_Payload(marker)))
    entry.write_bytes(pickle.dumps(_Payload(marker)))  # where the JSON entry belongs, too
    done = reconcile(server, "plan", "-f", str(EXAMPLE), env=cache_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert "Plan: 62 to create" in done.stdout  # the files, read afresh


def test_a_forged_entry_is_ignored_unsigned_and_when_others_may_write_it(
    sim, tmp_path, monkeypatch
):
    server = sim()
    entry = entry_of(tmp_path, EXAMPLE, monkeypatch)
    env = cache_env(tmp_path)
    assert reconcile(server, "plan", "-f", str(EXAMPLE), env=env).returncode == 0
    document = forged(entry)

    body = json.dumps(document).encode()
    entry.write_bytes(b"0" * 64 + b"\n" + body)  # well-formed, but not signed here
    unsigned = reconcile(server, "plan", "-f", str(EXAMPLE), env=env)
    assert unsigned.returncode == 0 and "Backdoor" not in unsigned.stdout

    key = cachefile.signing_key(create=False)
    assert key is not None
    entry.write_bytes(cachefile._signature(key, body) + b"\n" + body)
    entry.chmod(0o664)  # signed, but the group may write it
    group_writable = reconcile(server, "plan", "-f", str(EXAMPLE), env=env)
    assert group_writable.returncode == 0 and "Backdoor" not in group_writable.stdout

    entry.write_bytes(cachefile._signature(key, body) + b"\n" + body)
    entry.chmod(0o600)  # only now is it this user's own entry: it is used (the test bites)
    trusted = reconcile(server, "plan", "-f", str(EXAMPLE), env=env)
    assert "Backdoor" in trusted.stdout


def test_the_cache_directory_is_put_back_to_0700(sim, tmp_path):
    server = sim()
    directory = tmp_path / "cache" / "waldur-catalog-reconciler"
    directory.mkdir(parents=True, mode=0o755)
    directory.chmod(0o755)
    assert reconcile(server, "plan", "-f", str(EXAMPLE), env=cache_env(tmp_path)).returncode == 0
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.suffix for p in directory.iterdir()] == [".json"]
    key = tmp_path / "state" / "waldur-catalog-reconciler" / "cache-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
