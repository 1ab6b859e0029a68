"""Catalogs that Waldur's own loaders fill, end to end: the real `reconcile` CLI against a real
waldur-sim whose catalog actions run upstream's loaders on local sources in a background worker.

The sim's control endpoint (`/api/_sim/loaders/`) stands in for what an operator cannot
control on a real server: a source that fails or drops a package, loads held back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import (
    RECONCILE,
    cli_env,
    plan_json,
    reconcile,
    sim_stats,
    write_yaml,
    writes,
)
from tests.waiting import wait_until
from waldur_sim.launcher import SimProcess

OFFERING = "HPC Cluster"
CATALOGS = "marketplace-software-catalogs/"


def eessi_file(
    tmp_path: Path,
    *,
    expect: dict[str, Any] | None = None,
    refresh: str | None = None,
    offerings: bool = True,
    name: str = "loaders.yaml",
) -> Path:
    catalog: dict[str, Any] = {
        "name": "EESSI",
        "version": "2023.06",
        "loader": "eessi",
        "auto_update_enabled": False,
    }
    if expect is not None:
        catalog["expect"] = expect
    if refresh is not None:
        catalog["refresh"] = refresh
    if offerings:
        catalog["offerings"] = [
            {
                "offering": OFFERING,
                "enabled_cpu_family": ["x86_64"],
                "enabled_cpu_microarchitectures": ["generic", "amd/zen3"],
            }
        ]
    return write_yaml(tmp_path / name, {"catalogs": [catalog]})


GOOD_EXPECT = {"packages": ["GROMACS"], "architectures": ["x86_64/amd/zen3"], "min_packages": 600}


def start(sim: Any, *args: str) -> SimProcess:
    return sim("--dialect", "current", "--offering", OFFERING, *args)


def control(server: SimProcess, **changes: Any) -> dict[str, Any]:
    """Change the sim's loaders (sources, failures, hold, load time) at runtime."""
    answer = httpx.patch(server.api_url + "_sim/loaders/", json=changes, timeout=10)
    answer.raise_for_status()
    return answer.json()


def catalog_rows(server: SimProcess) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Token {server.staff_token}"}
    answer = httpx.get(server.api_url + CATALOGS, headers=headers, timeout=10)
    return answer.json()


def eessi_row(server: SimProcess) -> dict[str, Any]:
    rows = [r for r in catalog_rows(server) if (r["name"], r["version"]) == ("EESSI", "2023.06")]
    assert len(rows) == 1, rows
    return rows[0]


def links(server: SimProcess) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Token {server.staff_token}"}
    offerings = httpx.get(
        server.api_url + "marketplace-provider-offerings/", headers=headers, timeout=10
    ).json()
    found = [o for o in offerings if o["name"] == OFFERING]
    return found[0].get("software_catalogs") or []


PLANNED = (0, 2, 3)  # no changes, changes (--detailed-exitcode), expectations unmet
DETAILED = ("--detailed-exitcode",)


def test_one_apply_creates_loads_waits_checks_and_links(sim, tmp_path):
    server = start(sim)
    path = eessi_file(tmp_path, expect=GOOD_EXPECT)
    done = reconcile(server, "apply", "-f", str(path), "--progress", "lines")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "↻ load EESSI 2023.06" in done.stdout
    assert "[done: loaded: 654 packages" in done.stdout
    assert "load EESSI 2023.06: ok" in done.stderr  # the wait, shown as it goes
    row = eessi_row(server)
    assert row["last_successful_update"] and row["update_errors"] == ""
    assert row["package_count"] == 654 and row["auto_update_enabled"] is False
    assert [link["catalog"]["uuid"] for link in links(server)] == [row["uuid"]]
    doc = plan_json(server, path, extra=DETAILED, ok=PLANNED)
    assert doc["exit"] == 0 and doc["changes"] == [] and doc["expectations_unmet"] == {}
    assert "654 packages, 1,200 versions, 16,751 targets" in doc["loaders"][0]
    again = reconcile(server, "plan", "-f", str(path))
    assert again.stdout.rstrip().endswith("No changes."), again.stdout


def test_the_plan_shows_the_load_with_its_reason_and_counts_it(sim, tmp_path):
    server = start(sim)
    path = eessi_file(tmp_path)
    doc = plan_json(server, path, extra=DETAILED, ok=PLANNED)
    assert doc["exit"] == 2
    loads = [c for c in doc["changes"] if c["action"] == "load"]
    assert loads == [
        {
            "action": "load",
            "kind": "catalog",
            "key": {
                "catalog": "EESSI",
                "catalog_version": "2023.06",
                "catalog_type": "binary_runtime",
            },
            "before": None,
            "after": {"loader": "eessi", "version": "2023.06"},
            "fields": {},
            "applicable": True,
            "reason": "new catalog: create the row at its declared version, then load it",
            "running": False,
        }
    ]
    assert doc["summary"]["load"] == 1 and doc["summary"]["create"] == 2
    markdown = reconcile(server, "plan", "-o", "markdown", "-f", str(path)).stdout
    assert "1 to load" in markdown and "↻" in markdown
    assert writes(sim_stats(server)) == 0


def test_a_failing_load_exits_1_with_the_servers_text(sim, tmp_path):
    server = start(sim, "--load-fail", "eessi", "--load-seconds", "0.2")
    path = eessi_file(tmp_path, offerings=False)
    done = reconcile(server, "apply", "-f", str(path), "--progress", "none")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[failed: Catalog update failed: Catalog loading failed: Failed to fetch EESSI" in (
        done.stdout
    )
    assert server.staff_token not in done.stdout + done.stderr
    doc = plan_json(server, path, extra=DETAILED, ok=PLANNED)
    assert doc["exit"] == 2  # the next run loads again
    assert doc["changes"][0]["reason"].startswith("the last load failed (Catalog update failed")


def test_a_load_slower_than_the_timeout_exits_3_and_the_next_run_finishes_it(sim, tmp_path):
    server = start(sim)
    control(server, hold=True)
    path = eessi_file(tmp_path, offerings=False)
    done = reconcile(server, "apply", "-f", str(path), "--load-timeout", "1", "--progress", "none")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "[loading: still loading; the next run checks it]" in done.stdout
    doc = plan_json(server, path, ok=PLANNED)
    assert doc["changes"][0]["running"] is True
    assert "a load is running" in doc["changes"][0]["reason"]
    posts = sim_stats(server)["requests"]["POST"].get("202", 0)
    # the next run, while the load is still held: it waits (one look, then released)
    waiting = subprocess.Popen(
        [RECONCILE, "apply", "-f", str(path), "--progress", "lines"],
        env=cli_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert waiting.stderr is not None
    first = waiting.stderr.readline()  # "apply: 1 changes to make", then the looks
    while "load EESSI 2023.06: loading" not in first:
        assert first, "the next apply ended without waiting for the load"
        first = waiting.stderr.readline()
    control(server, hold=False)
    out, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, out
    assert "[done: loaded: 654 packages" in out
    assert sim_stats(server)["requests"]["POST"].get("202", 0) == posts  # waited, sent nothing


def test_unmet_expectations_exit_3_naming_the_gaps(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    expect = {
        "packages": ["GROMACS", "NoSuchThing"],
        "architectures": ["x86_64/amd/zen3", "riscv64/generic"],
        "min_packages": 10_000,
    }
    path = eessi_file(tmp_path, expect=expect, offerings=False)
    done = reconcile(server, "apply", "-f", str(path), "-o", "json")
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)
    load = next(c for c in result["changes"] if c["action"] == "load")
    assert load["status"] == "unmet"
    assert load["gaps"] == [
        "654 packages, at least 10,000 expected",
        "package GROMACS has no build for riscv64/generic",
        "package NoSuchThing is missing",
    ]
    text = reconcile(server, "plan", "-f", str(path))
    assert text.returncode == 3
    assert "Expectation unmet: EESSI 2023.06: package NoSuchThing is missing" in text.stdout
    markdown = reconcile(server, "plan", "-o", "markdown", "-f", str(path)).stdout
    assert "**Expectations unmet**" in markdown and "riscv64/generic" in markdown
    report = reconcile(server, "report", "-f", str(path), "--format", "markdown")
    assert report.returncode == 0, report.stderr
    assert "expectation unmet: EESSI 2023.06: package NoSuchThing is missing" in report.stdout
    assert "654 packages, 1,200 versions, 16,751 targets on the server" in report.stdout
    assert "No differences" in report.stdout  # the loader's contents are not differences


def test_refresh_loads_again_once_the_last_load_is_older_than_the_policy(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    daily = eessi_file(tmp_path, refresh="1d", offerings=False)
    assert reconcile(server, "apply", "-f", str(daily)).returncode == 0
    first = eessi_row(server)["last_successful_update"]
    assert plan_json(server, daily, ok=PLANNED)["changes"] == []
    soon = eessi_file(tmp_path, refresh="1s", offerings=False, name="soon.yaml")

    def due() -> bool:
        return any(c["action"] == "load" for c in plan_json(server, soon, ok=PLANNED)["changes"])

    wait_until(due, "the load to be older than refresh: 1s", timeout=30)
    assert "older than refresh: 1s" in plan_json(server, soon, ok=PLANNED)["changes"][0]["reason"]
    assert reconcile(server, "apply", "-f", str(soon)).returncode == 0
    assert eessi_row(server)["last_successful_update"] > first


def test_a_package_that_left_the_source_is_announced_and_counted(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    path = eessi_file(tmp_path, refresh="1s", offerings=False)
    assert reconcile(server, "apply", "-f", str(path)).returncode == 0
    control(server, drop={"EESSI": ["AmberTools"]})
    wait_until(
        lambda: plan_json(server, path, ok=PLANNED)["changes"], "a refresh to be due", timeout=30
    )
    doc = plan_json(server, path, ok=PLANNED)
    assert any(
        "packages and versions no longer in the source are deleted" in n for n in doc["notes"]
    )
    done = reconcile(server, "apply", "-f", str(path), "--progress", "none")
    assert done.returncode == 0, done.stdout
    assert "653 packages" in done.stdout and "1 package fewer" in done.stdout
    assert eessi_row(server)["package_count"] == 653


def test_export_writes_the_loader_form_and_round_trips(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    path = eessi_file(tmp_path)
    assert reconcile(server, "apply", "-f", str(path)).returncode == 0
    out = tmp_path / "export.yaml"
    done = reconcile(server, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "loader: eessi" in text and "packages:" not in text
    doc = plan_json(server, out, extra=DETAILED, ok=PLANNED)
    assert doc["exit"] == 0 and doc["changes"] == []
    full = tmp_path / "full.yaml"
    assert reconcile(server, "export", "--full", "--out", str(full)).returncode == 0
    assert "loader:" not in full.read_text() and "GROMACS" in full.read_text()


def test_discover_tells_what_the_loaders_offer(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    assert reconcile(server, "apply", "-f", str(eessi_file(tmp_path))).returncode == 0
    done = reconcile(server, "discover", "-o", "json")
    assert done.returncode == 0, done.stderr
    offers = {o["name"]: o for o in json.loads(done.stdout)["loaders"]}
    assert offers["EESSI"]["existing_version"] == "2023.06"
    assert offers["EESSI"]["latest_version"] == "2025.06"
    assert offers["EESSI"]["update_available"] is True
    assert offers["Spack"]["existing"] is False
    text = reconcile(server, "discover").stdout
    assert "Update available (EESSI 2025.06)" in text


def test_a_server_without_the_actions_gets_no_writes(sim, tmp_path):
    server = start(sim, "--no-catalog-actions")
    path = eessi_file(tmp_path)
    done = reconcile(server, "apply", "-f", str(path), "--progress", "none")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Not applicable on this server (3, never sent)" in done.stdout
    assert "this server has no catalog loader actions" in done.stdout
    assert writes(sim_stats(server)) == 0
    assert catalog_rows(server) == []
    gone = reconcile(server, "discover")
    assert gone.returncode == 1 and "no discover action" in gone.stderr


def test_the_daemon_records_a_running_load_and_checks_it_on_its_next_runs(sim, daemons, tmp_path):
    server = start(sim)
    control(server, hold=True)
    path = eessi_file(tmp_path, offerings=False)
    daemon = daemons(server.api_url, server.staff_token, [path], "--interval", "1s")

    def state() -> str:
        loads = daemon.get("status.json").json().get("loads") or []
        return loads[0]["state"] if loads else ""

    wait_until(lambda: state() == "loading", "the daemon to show the load running", timeout=30)
    assert daemon.metric("reconcile_catalog_loading", catalog="EESSI 2023.06") == 1
    runs = [r for r in daemon.get("status.json").json()["runs"] if r["result"] != "running"]
    assert runs and {r["result"] for r in runs} == {"success"}  # a running load is no failure
    assert "<td>EESSI 2023.06</td><td>loading</td>" in daemon.get("/").text
    control(server, hold=False)
    wait_until(lambda: state() == "ok", "the daemon to see the load done", timeout=60)
    assert daemon.metric("reconcile_catalog_loading", catalog="EESSI 2023.06") == 0
    assert sim_stats(server)["requests"]["POST"].get("202", 0) == 1  # one load, not one per run


def test_a_saved_plan_with_a_load_applies_exactly(sim, tmp_path):
    server = start(sim, "--load-seconds", "0.2")
    path = eessi_file(tmp_path)
    saved = tmp_path / "plan.json"
    assert reconcile(server, "plan", "-f", str(path), "--out", str(saved)).returncode == 0
    done = reconcile(server, "apply", str(saved), "--progress", "none")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[done: loaded: 654 packages" in done.stdout
    assert eessi_row(server)["package_count"] == 654 and len(links(server)) == 1
