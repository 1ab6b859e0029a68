"""Replay real drift: apply one EESSI snapshot, then plan and apply the next one.

The expected plan is computed here straight from the two JSON files (sets of packages,
module versions and (module version, install path) pairs), not through the reconciler.
"""

from __future__ import annotations

import json

import yaml

from reconciler.tools import eessi

from .harness import count_kinds, data_file, plan_json, reconcile, server_tree, write_yaml

OLD = ("eessi", "history", "json_data_detail_2025-03-03.json")
NEW = ("eessi", "history", "json_data_detail_2025-05-28.json")


def sets(path):
    software = json.loads(path.read_text())["software"]
    packages = set(software)
    versions = {(name, mod) for name, s in software.items() for mod in s["versions"]}
    pairs = {
        (name, mod, target)
        for name, s in software.items()
        for mod, v in s["versions"].items()
        for target in v["targets"]
    }
    return packages, versions, pairs, software


def expected_changes(old, new):
    p0, v0, t0, _ = old
    p1, v1, t1, _ = new
    creates = len(p1 - p0) + len(v1 - v0) + len(t1 - t0)
    # Deletes: only the topmost object that goes; the server cascades the rest.
    deletes = (
        len(p0 - p1)
        + len({v for v in v0 - v1 if v[0] in p1})
        + len({t for t in t0 - t1 if t[:2] in v1})
    )
    return creates, deletes


def test_replay_two_real_snapshots(sim, tmp_path):
    old_path, new_path = data_file(*OLD), data_file(*NEW)
    old, new = sets(old_path), sets(new_path)
    want_create, want_delete = expected_changes(old, new)
    assert want_create > 3000 and want_delete > 0  # real drift in both directions

    old_file = write_yaml(tmp_path / "old.yaml", eessi.convert(eessi.load(old_path)))
    new_file = write_yaml(tmp_path / "new.yaml", eessi.convert(eessi.load(new_path)))
    server = sim()
    first = reconcile(server, "-f", str(old_file))
    assert first.returncode == 0, first.stderr[-2000:]
    tree = server_tree(server.api_url)
    counts = count_kinds(tree)
    assert (counts["package"], counts["version"], counts["target"]) == (
        len(old[0]),
        len(old[1]),
        len(old[2]),
    )

    allow = ("--max-delete", "1000")
    plan = plan_json(server, new_file, extra=allow)
    assert plan["summary"]["create"] == want_create
    assert plan["summary"]["delete"] == want_delete
    common = old[0] & new[0]
    changed_text = {
        n
        for n in common
        if (old[3][n].get("description") or "").strip()
        != (new[3][n].get("description") or "").strip()
    }
    assert plan["summary"]["update"] == len(changed_text)

    applied = reconcile(server, "-f", str(new_file), *allow)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    again = reconcile(server, "plan", "--detailed-exitcode", "-f", str(new_file))
    assert again.returncode == 0 and "No changes." in again.stdout
    counts = count_kinds(server_tree(server.api_url))
    assert (counts["package"], counts["version"], counts["target"]) == (
        len(new[0]),
        len(new[1]),
        len(new[2]),
    )


def test_import_keeps_every_pair_of_the_snapshot(tmp_path):
    """The converter is compact (target_defaults) but loses nothing."""
    from reconciler.core.model import Kind
    from reconciler.desired.loader import load_desired

    path = data_file(*NEW)
    _, versions, pairs, _ = sets(path)
    state = load_desired([write_yaml(tmp_path / "d.yaml", eessi.convert(eessi.load(path)))])
    got_pairs = {
        (k.parts[3], f"{k.parts[3]}/{k.parts[5]}", r.fields["path"])
        for k, r in state.records.items()
        if k.kind is Kind.TARGET
    }
    assert got_pairs == pairs
    doc = yaml.safe_load((tmp_path / "d.yaml").read_text())
    explicit = sum(
        1 for p in doc["catalogs"][0]["packages"] for v in p["versions"] if "targets" in v
    )
    assert explicit < len(versions) / 10  # most versions use target_defaults
