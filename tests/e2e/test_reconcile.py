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


def _read_only_server(sim, tmp_path, *flags):
    """The example applied to a writable server, then served read-only like current upstream
    (versions and targets), with an edited desired file that changes every kind."""
    db = tmp_path / "sim.sqlite3"
    writable = sim(db=db)
    assert reconcile(writable, "-f", str(EXAMPLE)).returncode == 0
    writable.stop()
    server = sim("--read-only-kinds", "version,target", *flags, db=db)
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
    return server, write_yaml(tmp_path / "edited.yaml", doc)


def _statuses(result: dict) -> dict[tuple[str, str], set[str]]:
    statuses: dict[tuple[str, str], set[str]] = {}
    for change in result["changes"]:
        statuses.setdefault((change["kind"], change["action"]), set()).add(change["status"])
    return statuses


def _writes_of(stats: dict, kind: str) -> int:
    methods = stats["kinds"].get(kind, {})
    return sum(n for method, n in methods.items() if method in ("POST", "PUT", "PATCH"))


def test_a_read_only_server_gets_no_doomed_write(sim, tmp_path):
    """OPTIONS says versions and targets are read-only: those changes are planned apart,
    never sent; catalogs and packages are applied; deletes work; exit 3."""
    server, edited = _read_only_server(sim, tmp_path)
    same = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(EXAMPLE))
    assert same.returncode == 0 and "No changes." in same.stdout
    before = server_tree(server.api_url)

    plan = reconcile(server, "--dry-run", "-o", "json", "--max-delete", "1000", "-f", str(edited))
    planned = json.loads(plan.stdout)
    assert planned["capabilities"] == "checked"
    apart = [c for c in planned["changes"] if not c["applicable"]]
    assert {(c["kind"], c["action"]) for c in apart} == {
        ("version", "create"),
        ("target", "create"),
        ("target", "update"),
    }
    assert all("read-only" in c["reason"] or "cannot be created" in c["reason"] for c in apart)
    assert planned["summary"]["not_applicable"] == len(apart)
    assert all(c["applicable"] for c in planned["changes"] if c["action"] == "delete")

    requests_before = sim_stats(server)
    done = reconcile(server, "-o", "json", "--max-delete", "1000", "-f", str(edited))
    assert done.returncode == 3, done.stdout + done.stderr
    stats = sim_stats(server)
    assert _writes_of(stats, "version") == _writes_of(requests_before, "version")
    assert _writes_of(stats, "target") == _writes_of(requests_before, "target")  # zero sent
    statuses = _statuses(json.loads(done.stdout))
    assert statuses[("package", "update")] == {"done"}
    assert statuses[("version", "create")] == {"not_applicable"}
    assert statuses[("target", "create")] == {"not_applicable"}
    assert statuses[("target", "update")] == {"not_applicable"}
    assert statuses[("target", "delete")] == {"done"}  # DELETE works upstream too
    assert statuses[("version", "delete")] == {"done"}

    after = server_tree(server.api_url)
    assert not any(t[4:5] == ("9.9",) for t in after if len(t) >= 6)  # nothing invented
    assert len([t for t in after if len(t) == 9]) < len([t for t in before if len(t) == 9])

    text = reconcile(server, "--dry-run", "--max-delete", "1000", "-f", str(edited))
    assert text.returncode == 0
    assert "Not applicable on this server" in text.stdout
    assert "read-only through this server's API" in text.stdout
    assert "not applicable on this server." in text.stdout  # in the summary line


def test_without_capabilities_a_refused_kind_costs_one_write(sim, tmp_path):
    """OPTIONS blocked (a proxy, an older server): the plan says so, and the first refusal
    of a kind stops its writes for the run."""
    server, edited = _read_only_server(
        sim, tmp_path, "--fault-methods", "OPTIONS", "--fault-rate", "1", "--fault-seed", "1"
    )
    fast = {"RECONCILE_MAX_ATTEMPTS": "2", "RECONCILE_RETRY_BACKOFF": "0.01"}
    before = sim_stats(server)
    done = reconcile(server, "-o", "json", "--max-delete", "1000", "-f", str(edited), env=fast)
    assert done.returncode == 3, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["capabilities"].startswith("not checked")
    stats = sim_stats(server)
    version_posts = stats["kinds"]["version"].get("POST", 0) - before["kinds"].get(
        "version", {}
    ).get("POST", 0)
    assert 1 <= version_posts <= 3  # one create, its 500 retried at most twice
    targets = stats["kinds"]["target"]
    assert targets.get("PATCH", 0) == 0, targets  # refused at its first create: none started
    assert 1 <= targets.get("POST", 0) <= 2, targets  # that create, retried once (attempts 2)
    statuses = _statuses(result)
    assert statuses[("package", "update")] == {"done"}
    assert statuses[("version", "create")] == {"failed"}
    refused = result["result"]["refused"]
    assert "HTTP 500" in refused["write version"] and "read-only" in refused["write version"]


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


def test_a_plan_reports_a_problem_in_its_files_before_one_in_the_client_settings(tmp_path):
    """The files load on a thread while the client is built: whichever fails, the files'
    problem is the one reported (file, line, field), and a good file lets the client's own
    problem through."""
    broken = tmp_path / "broken.yaml"
    broken.write_text('catalogs:\n  - name: EESSI\n    version: "2023.06"\n    colour: blue\n')
    plain_remote = "http://waldur.example.org/api/"  # refused before any request: not loopback
    both = reconcile(None, "plan", "-f", str(broken), api_url=plain_remote, token=None)
    assert both.returncode == 1, both.stderr
    assert f"{broken}:4: catalogs[0].colour: unknown field" in both.stderr
    assert "http" not in both.stderr.replace(str(broken), "")
    client_only = reconcile(None, "plan", "-f", str(EXAMPLE), api_url=plain_remote, token=None)
    assert client_only.returncode == 1, client_only.stderr
    assert "waldur.example.org" in client_only.stderr and "desired state" not in client_only.stderr
    assert "Traceback" not in both.stderr + client_only.stderr
