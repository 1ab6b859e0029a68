"""`reconcile daemon` end to end against a real waldur-sim."""

from __future__ import annotations

import httpx
import yaml

from tests.waiting import wait_until

from .harness import ROOT, count_kinds, eessi_subset, server_tree, sim_stats, write_yaml

EXAMPLE = ROOT / "examples" / "targets.yaml"


def test_converges_repairs_drift_and_follows_the_file(sim, daemons, tmp_path):
    server = sim()
    desired = write_yaml(tmp_path / "desired.yaml", yaml.safe_load(EXAMPLE.read_text()))
    d = daemons(server.api_url, server.staff_token, [desired], "--interval", "1s")
    assert d.get("healthz").status_code == 200
    d.wait_runs(1)
    want = server_tree(server.api_url)
    assert count_kinds(want)["target"] > 0
    assert d.get("readyz").json() == {"ready": True, "reason": "ok"}

    # Drift behind its back: a package deleted, a path edited. Repaired at the next run.
    with httpx.Client(headers={"Authorization": f"Token {server.staff_token}"}) as http:
        pkg = http.get(
            server.api_url + "marketplace-software-packages/", params={"name_exact": "LAMMPS"}
        ).json()[0]
        assert http.delete(pkg["url"]).status_code == 204
        tgt = http.get(
            server.api_url + "marketplace-software-targets/", params={"page_size": 1}
        ).json()[0]
        assert http.patch(tgt["url"], json={"path": "/edited"}).status_code == 200
    runs = len(d.runs_ended())
    d.wait_runs(runs + 2)
    assert server_tree(server.api_url) == want

    # A changed desired file takes effect at the next run.
    doc = yaml.safe_load(desired.read_text())
    doc["catalogs"][0]["packages"][0]["description"] = "edited in Git"
    write_yaml(desired, doc)
    runs = len(d.runs_ended())
    d.wait_runs(runs + 2)
    pkg = httpx.get(
        server.api_url + "marketplace-software-packages/",
        params={"name_exact": doc["catalogs"][0]["packages"][0]["name"]},
    ).json()[0]
    assert pkg["description"] == "edited in Git"

    # /metrics counts the runs and the changes made.
    assert d.metric("reconcile_runs_total", result="success") >= len(d.runs_ended()) - 1
    assert d.metric("reconcile_changes_total", kind="package", action="update", status="done") == 1
    assert (
        d.metric("reconcile_changes_total", kind="package", action="create", status="done") == 6
    )  # 5 at first, LAMMPS again after its deletion
    assert d.metric("reconcile_last_success_timestamp_seconds") > 0
    assert d.metric("reconcile_http_requests_total", method="GET", status="200") > 0

    # Two runs never overlap: starts and ends alternate, each end closing its own start.
    open_run = None
    for event in d.snapshot():
        if event.get("event") == "run start":
            assert open_run is None, "a run started while another was going"
            open_run = event["run_id"]
        elif event.get("event") == "run end":
            assert event["run_id"] == open_run
            open_run = None
    code, _ = d.terminate()
    assert code == 0


def test_invalid_file_causes_no_writes_and_not_ready(sim, daemons, tmp_path):
    server = sim()
    desired = write_yaml(tmp_path / "desired.yaml", yaml.safe_load(EXAMPLE.read_text()))
    d = daemons(server.api_url, server.staff_token, [desired], "--interval", "1s")
    d.wait_runs(1)
    before = server_tree(server.api_url)
    doc = yaml.safe_load(desired.read_text())
    doc["catalogs"][0]["packages"] = doc["catalogs"][0]["packages"][:1]
    text = yaml.safe_dump(doc).replace("version: '2023.06'", "version: 2023.06")
    desired.write_text(text + "bogus_key: 1\n")  # would delete 4 packages if it were valid
    runs = len(d.runs_ended())
    ended = d.wait_runs(runs + 2)
    assert ended[-1]["result"] == "failure"
    ready = d.get("readyz")
    assert ready.status_code == 503 and "failed" in ready.json()["reason"]
    assert server_tree(server.api_url) == before
    failed = [e for e in d.snapshot() if e.get("event") == "run failed"]
    assert "bogus_key" in failed[-1]["error"] and "desired.yaml:" in failed[-1]["error"]
    assert d.metric("reconcile_runs_total", result="failure") >= 2
    assert d.proc.poll() is None  # still running


def test_server_down_then_back(sim, daemons, tmp_path):
    db = tmp_path / "sim.sqlite3"
    server = sim(db=db)
    port = server.port
    d = daemons(server.api_url, server.staff_token, [EXAMPLE], "--interval", "1s")
    d.wait_runs(1)
    assert d.get("readyz").status_code == 200
    server.stop()
    runs = len(d.runs_ended())
    d.wait_runs(runs + 2, timeout=40)
    assert d.runs_ended()[-1]["result"] == "failure"
    assert d.get("readyz").status_code == 503
    assert d.get("healthz").status_code == 200 and d.proc.poll() is None
    back = sim("--port", str(port), db=db)
    assert back.port == port
    d.wait_for(
        lambda e: e.get("event") == "run end" and e.get("result") == "success",
        timeout=40,
        after=len(d.snapshot()),
    )
    assert d.get("readyz").status_code == 200


def test_sigterm_during_a_run_exits_0_within_grace(sim, daemons, tmp_path):
    server = sim("--latency-ms", "20")
    desired = eessi_subset(tmp_path, 40)
    d = daemons(
        server.api_url,
        server.staff_token,
        [desired],
        "--interval",
        "1h",
        "--grace",
        "10s",
        env={"RECONCILE_CONCURRENCY": "2"},
    )
    d.wait_for(lambda e: e.get("event") == "change")  # a run is writing now
    code, _ = d.terminate()
    assert code == 0  # a run still going after the grace period makes it exit 1
    ended = d.runs_ended()
    assert len(ended) == 1  # the run reported what it did before the process ended
    assert any(e.get("event") == "stopped" for e in d.snapshot())


def test_dry_run_daemon_reports_drift_and_never_writes(sim, daemons, tmp_path):
    server = sim()
    d = daemons(server.api_url, server.staff_token, [EXAMPLE], "--interval", "1s", "--dry-run")
    d.wait_runs(2)
    assert count_kinds(server_tree(server.api_url))["catalog"] == 0
    assert d.metric("reconcile_drift_objects", kind="target") > 0
    assert d.metric("reconcile_runs_total", result="success") >= 2
    sync = httpx.post(d.url + "sync", timeout=5)
    assert sync.status_code in (202, 409)


def test_changes_a_read_only_server_will_not_take_are_a_steady_state_not_an_error(sim, daemons):
    """On current upstream (versions and targets read-only) the daemon applies what it can,
    counts the rest as drift, and stays ready: no failure counted, no backoff, no write of a
    version or a target."""
    server = sim("--dialect", "current", "--read-only-kinds", "version,target")
    d = daemons(server.api_url, server.staff_token, [EXAMPLE], "--interval", "1s")
    d.wait_runs(2)
    assert d.metric("reconcile_runs_total", result="not_applicable") >= 2
    assert d.metric("reconcile_runs_total", result="failure") == 0
    assert d.get("readyz").json() == {"ready": True, "reason": "ok"}
    assert d.metric("reconcile_drift_objects", kind="version") == 12
    assert d.metric("reconcile_drift_objects", kind="target") == 44
    assert d.metric("reconcile_drift_objects", kind="package") == 0  # applied
    stats = sim_stats(server)
    for kind in ("version", "target"):
        assert not {"POST", "PUT", "PATCH"} & set(stats["kinds"].get(kind, {})), stats["kinds"]


def test_readiness_stays_up_while_a_run_is_in_flight(sim, daemons, tmp_path):
    """A run in progress is not a failed observation: /readyz answers from the last finished
    run, so a pod does not go unready during every run (it did: the flag was reset when a run
    started)."""
    server = sim(
        "--stall-rate", "1", "--stall-seconds", "60", "--fault-kinds", "target",
        "--fault-methods", "PATCH",
    )  # fmt: skip
    doc = yaml.safe_load(EXAMPLE.read_text())
    desired = write_yaml(tmp_path / "desired.yaml", doc)
    d = daemons(
        server.api_url, server.staff_token, [desired], "--interval", "1s", "--timeout", "90"
    )
    d.wait_runs(1)
    assert d.get("readyz").json() == {"ready": True, "reason": "ok"}

    # The next run patches the targets' paths, and the sim holds its first PATCH back.
    doc["catalogs"][0]["target_defaults"]["path"] = "/opt/{cpu_family}/{cpu_microarchitecture}"
    write_yaml(desired, doc)
    wait_until(lambda: sim_stats(server)["faults"]["stalled"] >= 1, "a PATCH to stall")
    assert d.get("status.json").json()["running"] is True
    assert d.get("readyz").json() == {"ready": True, "reason": "ok"}
