"""Safety end to end: failed listings never delete, interrupted runs converge, one apply at a
time, and the token never shows anywhere."""

from __future__ import annotations

import json
import signal
import subprocess

import yaml

from tests.waiting import wait_until

from .harness import (
    RECONCILE,
    ROOT,
    cli_env,
    count_kinds,
    desired_tree,
    eessi_subset,
    reconcile,
    server_counts,
    server_tree,
    sim_stats,
    write_yaml,
)

EXAMPLE = ROOT / "examples" / "targets.yaml"


def test_faults_on_listings_never_produce_a_delete(sim, tmp_path):
    db = tmp_path / "sim.sqlite3"
    clean = sim(db=db)
    assert reconcile(clean, "-f", str(EXAMPLE)).returncode == 0
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["catalogs"][0]["packages"] = doc["catalogs"][0]["packages"][:-1]  # one to delete
    fewer = write_yaml(tmp_path / "fewer.yaml", doc)
    before = server_tree(clean.api_url)
    clean.stop()

    flaky = sim(
        "--fault-rate",
        "0.6",
        "--fault-methods",
        "GET",
        "--fault-kinds",
        "package",
        "--fault-seed",
        "3",
        db=db,
    )
    env = {"RECONCILE_MAX_ATTEMPTS": "1", "RECONCILE_RETRY_BACKOFF": "0.01"}
    codes = []
    for _ in range(5):
        done = reconcile(flaky, "-f", str(fewer), "--max-delete", "100", env=env)
        codes.append(done.returncode)
        assert done.returncode in (0, 1, 4), done.stderr
        if done.returncode != 0:
            assert "Traceback" not in done.stderr and done.stderr.startswith("error:")
    assert any(codes), "the faults never hit a listing: the test proves nothing"
    stats = sim_stats(flaky)
    assert stats["faults"]["error"] > 0
    if "DELETE" in stats["requests"]:  # a delete may only follow a complete listing …
        assert (
            reconcile(
                flaky,
                "plan",
                "--detailed-exitcode",
                "-f",
                str(fewer),
                env={"RECONCILE_MAX_ATTEMPTS": "10"},
            ).returncode
            == 0
        )
    else:  # … and without one, everything is still there
        assert server_tree(flaky.api_url) == before


def writing_targets(server, proc) -> bool:
    """Whether waldur-sim has counted a POST of a target (the apply has reached its last
    level, many targets still to go), or the apply has ended."""
    posts = sim_stats(server)["kinds"].get("target", {}).get("POST", 0)
    return posts > 0 or proc.poll() is not None


def test_sigkill_mid_apply_then_rerun_converges_without_duplicates(sim, tmp_path):
    desired = eessi_subset(tmp_path, 30)
    server = sim("--latency-ms", "5")
    env = cli_env(server, env={"RECONCILE_CONCURRENCY": "2"})
    proc = subprocess.Popen(
        [RECONCILE, "-f", str(desired)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: writing_targets(server, proc), "the apply to write its first target")
    assert proc.poll() is None, "the apply finished before it could be killed"
    proc.kill()
    proc.wait()
    partial = count_kinds(server_tree(server.api_url))
    assert 0 < partial["target"] < count_kinds(desired_tree(desired))["target"]  # killed halfway
    done = reconcile(server, "-f", str(desired))
    assert done.returncode == 0, done.stderr
    again = reconcile(server, "plan", "--detailed-exitcode", "-f", str(desired))
    assert again.returncode == 0
    tree = server_tree(server.api_url)
    assert server_counts(server.api_url) == count_kinds(tree)


def test_sigterm_stops_between_changes_and_reports(sim, tmp_path):
    desired = eessi_subset(tmp_path, 30)
    server = sim("--latency-ms", "5")
    env = cli_env(server, env={"RECONCILE_CONCURRENCY": "2"})
    proc = subprocess.Popen(
        [RECONCILE, "-o", "json", "-f", str(desired)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: writing_targets(server, proc), "the apply to write its first target")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    doc = json.loads(out)
    assert doc["result"]["interrupted"] is True
    statuses = {c["status"] for c in doc["changes"]}
    assert {"done", "not_attempted"} <= statuses
    assert "stopping; writes in flight finish first" in err
    done_targets = sum(1 for c in doc["changes"] if c["kind"] == "target" and c["status"] == "done")
    assert count_kinds(server_tree(server.api_url))["target"] == done_targets  # report = truth
    assert reconcile(server, "-f", str(desired)).returncode == 0


CANARY = "CANARY-7f3e9b1c-d00d-4bad-9e11-token"


def test_canary_token_never_appears_in_any_output(sim, tmp_path):
    server = sim(staff_token=CANARY)
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalogs:\n  - name: EESSI\n    version: 2023.06\n")
    runs = [
        ("--dry-run", "-f", str(EXAMPLE), "--log-level", "debug"),
        ("-f", str(EXAMPLE), "--log-level", "debug", "-o", "json"),
        ("-f", str(EXAMPLE), "--log-level", "debug", "--log-format", "console"),
        ("plan", "-f", str(bad), "--log-level", "debug"),
        (
            "plan",
            "-f",
            str(EXAMPLE),
            "--api-url",
            "http://127.0.0.1:9/api/",
            "--log-level",
            "debug",
            "--max-attempts",
            "1",
        ),
        ("plan", "-f", str(EXAMPLE), "--api-url", "http://waldur.example.org/api/"),
        ("--token", CANARY, "-f", str(EXAMPLE)),
    ]
    seen = []
    for args in runs:
        done = reconcile(server, *args, token=CANARY)
        seen.append(done)
        assert CANARY not in done.stdout and CANARY not in done.stderr, args
    assert [d.returncode for d in seen] == [0, 0, 0, 1, 1, 1, 1]
    assert '"path": "/api/users/me/"' in seen[1].stderr  # debug logs every request
    wrong = reconcile(server, "-f", str(EXAMPLE), "--log-level", "debug", token=CANARY + "x")
    assert wrong.returncode == 1 and CANARY not in wrong.stdout + wrong.stderr
