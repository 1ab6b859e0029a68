"""Numbered scenarios in tests/scenarios/NN-name/scenario.yaml, each run against its own
waldur-sim: apply `initial`, make the `edits` behind the reconciler's back with plain HTTP,
plan `desired` and compare with `changes`; then apply and check that a re-plan is empty.

A change is written `SYMBOL KIND KEY[: changed fields][ (+cascaded children)]`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.core.model import Key, Kind, format_key

from .harness import ROOT, reconcile

SCENARIOS = sorted(p.parent for p in (ROOT / "tests" / "scenarios").glob("*/scenario.yaml"))
SYMBOL = {"create": "+", "update": "~", "delete": "-"}


def describe(change: dict[str, Any]) -> str:
    kind = Kind[change["kind"].upper()]
    key = Key(kind, tuple(change["key"].values()))
    text = f"{SYMBOL[change['action']]} {kind.label} {format_key(key)}"
    if change["fields"]:
        text += ": " + ", ".join(change["fields"])
    if change.get("cascade"):
        text += f" (+{change['cascade']})"
    return text


def apply_edits(api_url: str, token: str, edits: list[dict[str, Any]]) -> None:
    collections = {
        "catalog": "catalogs",
        "package": "packages",
        "target": "targets",
        "version": "versions",
    }
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=10) as http:
        for edit in edits:
            params = dict(edit.get("where", {}))
            if "package" in edit:
                pkg = http.get(
                    api_url + "marketplace-software-packages/",
                    params={"name_exact": edit["package"]},
                ).json()
                params["package_uuid"] = pkg[0]["uuid"]
            url = f"{api_url}marketplace-software-{collections[edit['kind']]}/"
            found = http.get(url, params=params).json()
            assert len(found) == 1, f"edit {edit} matched {len(found)} objects"
            answer = http.patch(found[0]["url"], json=edit["patch"])
            assert answer.status_code == 200, answer.text


def test_every_scenario_folder_is_listed():
    assert [p.name for p in SCENARIOS][:8] == [
        "01-create-from-empty",
        "02-update-fields",
        "03-prune-on",
        "04-prune-off",
        "05-state-absent",
        "06-unmanaged-fields",
        "07-current-dialect",
        "08-explicit-targets",
    ]


@pytest.mark.parametrize("folder", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario(sim, folder: Path):
    spec = yaml.safe_load((folder / "scenario.yaml").read_text())
    server = sim(*spec.get("server", []))
    flags = [str(f) for f in spec.get("flags", [])]
    if spec.get("initial"):
        done = reconcile(
            server, "apply", "--max-delete", "1000", "-f", str(folder / spec["initial"])
        )
        assert done.returncode == 0, done.stdout + done.stderr
    apply_edits(server.api_url, server.staff_token, spec.get("edits", []))
    desired = str(folder / spec["desired"])

    planned = reconcile(server, "plan", "-o", "json", "--detailed-exitcode", *flags, "-f", desired)
    assert planned.returncode == spec["exit"], planned.stderr
    plan = json.loads(planned.stdout)
    assert [describe(c) for c in plan["changes"]] == spec["changes"]
    if "dialect" in spec:
        assert plan["api_dialect"] == spec["dialect"]

    applied = reconcile(server, "apply", *flags, "-f", desired)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = reconcile(server, "plan", "--detailed-exitcode", "-f", desired)
    assert again.returncode == 0 and "No changes." in again.stdout, again.stdout
