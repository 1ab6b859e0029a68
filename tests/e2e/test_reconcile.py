"""The real `reconcile` CLI against a real waldur-sim process: plan → apply → plan."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import yaml

from .harness import (
    ROOT,
    count_kinds,
    desired_tree,
    plan_json,
    reconcile,
    server_tree,
    sim_stats,
    write_yaml,
    writes,
)

EXAMPLE = ROOT / "examples" / "targets.yaml"


@pytest.mark.parametrize("dialect", ["legacy", "current"])
def test_plan_apply_plan_converges_in_both_dialects(sim, dialect):
    server = sim("--dialect", dialect)
    first = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(EXAMPLE))
    assert first.returncode == 2, first.stderr
    assert "undetermined" in first.stdout  # empty server: says it cannot tell yet
    assert writes(sim_stats(server)) == 0  # a dry run writes nothing

    applied = reconcile(server, "-f", str(EXAMPLE))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    summary = first.stdout.strip().splitlines()[-1]
    created = int(summary.split()[1])
    assert f"Apply: {created} done, 0 failed" in applied.stdout
    assert server_tree(server.api_url) == desired_tree(EXAMPLE)

    again = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(EXAMPLE))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    assert f"API dialect: {dialect} (detected" in again.stdout


def test_update_prune_and_unmanaged_fields(sim, tmp_path):
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    doc = yaml.safe_load(EXAMPLE.read_text())
    catalog = doc["catalogs"][0]
    gromacs = next(p for p in catalog["packages"] if p["name"] == "GROMACS")
    gromacs["description"] = "Molecular dynamics."
    dropped = catalog["packages"].pop()  # one package no longer declared
    edited = write_yaml(tmp_path / "edited.yaml", doc)

    # Someone sets a field the file does not manage: it must not show in the plan.
    with httpx.Client(headers={"Authorization": f"Token {server.staff_token}"}) as http:
        pkgs = http.get(
            server.api_url + "marketplace-software-packages/", params={"name_exact": "GROMACS"}
        ).json()
        assert http.patch(pkgs[0]["url"], json={"is_extension": True}).status_code == 200

    refused = reconcile(server, "plan", "-f", str(edited))
    assert refused.returncode == 4 and "raise --max-delete to at least" in refused.stderr
    allow = ("--max-delete", "100")
    plan = plan_json(server, edited, extra=allow)
    changes = {(c["action"], c["kind"], c["key"].get("package")) for c in plan["changes"]}
    assert changes == {("update", "package", "GROMACS"), ("delete", "package", dropped["name"])}
    update = next(c for c in plan["changes"] if c["action"] == "update")
    assert list(update["fields"]) == ["description"]
    assert update["fields"]["description"]["new"] == "Molecular dynamics."
    delete = next(c for c in plan["changes"] if c["action"] == "delete")
    assert delete["cascade"] > 0  # its versions and targets go with it

    catalog["prune"] = False
    kept = write_yaml(tmp_path / "kept.yaml", doc)
    plan = plan_json(server, kept)
    assert [c["action"] for c in plan["changes"]] == ["update"]

    applied = reconcile(server, "-f", str(edited), *allow)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert reconcile(server, "plan", "--detailed-exitcode", "-f", str(edited)).returncode == 0
    assert not any(item[3:4] == (dropped["name"],) for item in server_tree(server.api_url))


def test_absent_catalog_is_deleted_and_other_catalogs_untouched(sim, tmp_path):
    server = sim()
    doc = yaml.safe_load(EXAMPLE.read_text())
    other = copy.deepcopy(doc)
    other["catalogs"][0]["version"] = "2025.06"
    other["catalogs"][0]["packages"] = other["catalogs"][0]["packages"][:1]
    both = write_yaml(tmp_path / "both.yaml", {"catalogs": doc["catalogs"] + other["catalogs"]})
    assert reconcile(server, "-f", str(both)).returncode == 0
    before = server_tree(server.api_url)

    gone = {"catalogs": [{"name": "EESSI", "version": "2025.06", "state": "absent"}]}
    absent = write_yaml(tmp_path / "absent.yaml", gone)
    assert reconcile(server, "plan", "-f", str(absent)).returncode == 4  # 1 catalog + subtree
    allow = ("--max-delete", "1000")
    plan = plan_json(server, absent, extra=allow)
    assert [(c["action"], c["kind"]) for c in plan["changes"]] == [("delete", "catalog")]
    applied = reconcile(server, "-f", str(absent), *allow)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = server_tree(server.api_url)
    assert after == {t for t in before if t[1] != "2025.06"}  # 2023.06 is untouched


def test_json_output_after_apply_has_statuses_and_result(sim):
    server = sim()
    done = reconcile(server, "apply", "-o", "json", "-f", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["format_version"] == "1"
    assert doc["api_dialect"] == "undetermined"
    assert {c["status"] for c in doc["changes"]} == {"done"}
    assert doc["result"]["summary"]["done"] == doc["summary"]["create"] == len(doc["changes"])
    first = doc["changes"][0]
    assert first["kind"] == "catalog" and first["before"] is None
    assert first["key"] == {
        "catalog": "EESSI",
        "catalog_version": "2023.06",
        "catalog_type": "binary_runtime",
    }


def test_read_only_versions_and_targets_like_current_upstream(sim, tmp_path):
    db = tmp_path / "sim.sqlite3"
    writable = sim(db=db)
    assert reconcile(writable, "-f", str(EXAMPLE)).returncode == 0
    writable.stop()
    server = sim("--read-only-kinds", "version,target", db=db)

    same = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(EXAMPLE))
    assert same.returncode == 0 and "No changes." in same.stdout

    doc = yaml.safe_load(EXAMPLE.read_text())
    catalog = doc["catalogs"][0]
    packages = {p["name"]: p for p in catalog["packages"]}
    packages["GROMACS"]["description"] = "changed by the test"
    packages["GROMACS"]["versions"].append({"version": "9.9", "module_version": "9.9-test"})
    packages["Python"]["versions"][0]["targets"] = [  # one new target, the others dropped
        {"cpu_family": "x86_64", "cpu_microarchitecture": "intel/haswell", "path": "/p/haswell"}
    ]
    catalog["target_defaults"]["path"] = "/moved/{cpu_family}/{cpu_microarchitecture}"
    packages["LAMMPS"]["versions"] = packages["LAMMPS"]["versions"][:1]  # keep one version
    edited = write_yaml(tmp_path / "edited.yaml", doc)
    before = server_tree(server.api_url)

    done = reconcile(server, "-o", "json", "--max-delete", "1000", "-f", str(edited))
    assert done.returncode == 3, done.stdout + done.stderr
    result = json.loads(done.stdout)
    statuses: dict[tuple[str, str], set[str]] = {}
    for change in result["changes"]:
        statuses.setdefault((change["kind"], change["action"]), set()).add(change["status"])
    assert statuses[("package", "update")] == {"done"}
    assert statuses[("version", "create")] == {"failed"}  # POST → 500 HTML
    assert statuses[("target", "create")] == {"failed", "skipped"}  # its version never came
    assert statuses[("target", "update")] <= {"failed", "not_attempted"}  # 200, nothing stored
    assert "not_attempted" in statuses[("target", "update")]  # judged refused after a few
    assert statuses[("target", "delete")] == {"done"}  # DELETE works upstream too
    assert statuses[("version", "delete")] == {"done"}
    refused = result["result"]["refused"]
    assert set(refused) == {"create version", "create target", "update target"}
    assert "did not store path" in refused["update target"]
    assert "HTTP 500" in refused["create version"] and "read-only" in refused["create version"]

    after = server_tree(server.api_url)
    assert not any(t[4:5] == ("9.9",) for t in after if len(t) >= 6)  # nothing invented
    paths = {t[8] for t in after if len(t) == 9}
    assert not any(p.startswith("/moved/") for p in paths)  # the ignored PATCH stayed ignored
    assert len([t for t in after if len(t) == 9]) < len([t for t in before if len(t) == 9])

    text = reconcile(server, "--max-delete", "1000", "-f", str(edited))
    assert text.returncode == 3
    assert "Refused by the server (create version)" in text.stdout


def test_non_staff_token_writes_nothing_and_exits_1(sim):
    server = sim()
    done = reconcile(server, "-f", str(EXAMPLE), token="user")
    assert done.returncode == 1
    assert "not staff" in done.stderr and server.user_token not in done.stderr + done.stdout
    assert writes(sim_stats(server)) == 0
    assert count_kinds(server_tree(server.api_url))["catalog"] == 0


def test_invalid_token_and_unreachable_server_exit_1_without_traceback(sim):
    server = sim()
    bad = reconcile(server, "--dry-run", "-f", str(EXAMPLE), token="not-a-real-token-42")
    assert bad.returncode == 1 and "401" in bad.stderr and "Traceback" not in bad.stderr
    assert "not-a-real-token-42" not in bad.stderr + bad.stdout
    down = reconcile(
        None,
        "--dry-run",
        "-f",
        str(EXAMPLE),
        api_url="http://127.0.0.1:9/api/",
        env={"RECONCILE_MAX_ATTEMPTS": "2", "RECONCILE_RETRY_BACKOFF": "0.01"},
    )
    assert down.returncode == 1 and "cannot connect" in down.stderr
    assert "Traceback" not in down.stderr
