"""The cache of validated desired states: a hit gives the same state without validating;
any change to a file (or to its path, or to the reading code) is a miss; problems are never
cached; an unusable cache directory costs nothing but the cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.core.errors import InputError
from reconciler.desired import cache, loader

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "targets.yaml"


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """Point the cache at a temporary directory and count real (uncached) loads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("RECONCILE_NO_CACHE", raising=False)
    calls: list[list[Path]] = []
    real = loader.load_desired

    def load_desired(paths, **kw):
        calls.append(list(paths))
        return real(paths, **kw)

    monkeypatch.setattr(loader, "load_desired", load_desired)
    monkeypatch.setattr(cache, "_MEMO", {})
    return calls


def from_disk(paths):
    """A load as a new process makes it: without the in-memory copy."""
    cache._MEMO.clear()
    return cache.load_cached(paths)


def test_a_second_load_of_unchanged_files_is_answered_from_the_cache(counted, tmp_path):
    desired = tmp_path / "d.yaml"
    desired.write_text(EXAMPLE.read_text())
    first = cache.load_cached([desired])
    second = from_disk([desired])
    assert len(counted) == 1
    assert second.records == first.records and second.policies == first.policies
    assert second.sources == (str(desired),)
    entries = list(cache.cache_dir().glob("*.json"))
    assert len(entries) == 1 and (os.stat(cache.cache_dir()).st_mode & 0o077) == 0


def test_an_edit_or_another_path_is_a_miss(counted, tmp_path):
    desired = tmp_path / "d.yaml"
    desired.write_text(EXAMPLE.read_text())
    cache.load_cached([desired])
    desired.write_text(EXAMPLE.read_text().replace("GROMACS", "GROMACS-X", 1))
    edited = cache.load_cached([desired])
    assert len(counted) == 2
    assert any(key.parts[3:4] == ("GROMACS-X",) for key in edited.records)
    moved = tmp_path / "e.yaml"
    moved.write_text(desired.read_text())
    assert cache.load_cached([moved]).sources == (str(moved),)
    assert len(counted) == 3


def test_problems_are_reported_every_time_and_never_cached(counted, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('catalogs:\n  - name: EESSI\n    version: "2023.06"\n    source_url: "(none)"\n')
    for _ in range(2):
        with pytest.raises(InputError):
            cache.load_cached([bad])
    assert len(counted) == 2
    assert not list(cache.cache_dir().glob("*.json"))


def test_an_unwritable_cache_directory_is_not_an_error(counted, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert cache.load_cached([EXAMPLE]).records
    assert from_disk([EXAMPLE]).records
    assert len(counted) == 2


def test_a_corrupt_entry_is_read_afresh(counted, tmp_path):
    desired = tmp_path / "d.yaml"
    desired.write_text(EXAMPLE.read_text())
    cache.load_cached([desired])
    (entry,) = cache.cache_dir().glob("*.json")
    entry.write_bytes(b"not json")
    assert from_disk([desired]).records
    assert len(counted) == 2


def test_a_long_running_process_reuses_the_state_in_memory(counted, tmp_path):
    desired = tmp_path / "d.yaml"
    desired.write_text(EXAMPLE.read_text())
    first = cache.load_cached([desired])
    for entry in cache.cache_dir().glob("*.json"):
        entry.unlink()  # not read from disk either
    assert cache.load_cached([desired]) is first
    desired.write_text(EXAMPLE.read_text() + "\n# an edit\n")
    assert cache.load_cached([desired]) is not first
    assert len(counted) == 2
