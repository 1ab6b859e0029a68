"""The daemon against hostile clients and signals, end to end: idle connections, foreign
Host and Origin headers on POST /sync, the sync token, a rotated token that the server echoes,
and SIGHUP in the middle of an apply."""

from __future__ import annotations

import json
import os
import signal
import socket

import httpx

from tests.e2e.harness import ROOT, count_kinds, desired_tree, eessi_subset, server_tree, sim_stats
from tests.hostile.proxy import Drip, EchoHeaders
from tests.waiting import wait_until

EXAMPLE = ROOT / "examples" / "targets.yaml"
SYNC_TOKEN = "sync-token-for-the-tests-42"


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_idle_connections_neither_block_health_nor_hold_threads(sim, daemons):
    server = sim()
    d = daemons(server.api_url, server.staff_token, [EXAMPLE], "--interval", "1h")
    d.wait_runs(1)
    before = threads(d.proc.pid)
    host, port = httpx.URL(d.url).host, httpx.URL(d.url).port
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(500)]
    try:
        answer = d.get("healthz")
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
        assert d.get("status.json").json()["runs"][0]["result"] == "success"
        assert threads(d.proc.pid) < before + 10  # 500 connections, no thread for any of them
    finally:
        for sock in idle:
            sock.close()


def post_sync(d, **headers: str) -> int:
    return httpx.post(d.url + "sync", headers=headers, timeout=10).status_code


def test_post_sync_from_another_site_is_refused(sim, daemons):
    server = sim()
    d = daemons(server.api_url, server.staff_token, [EXAMPLE], "--interval", "1h")
    d.wait_runs(1)
    assert post_sync(d, Host="attacker.example") == 403  # DNS rebinding names its own host
    assert post_sync(d, Origin="https://attacker.example") == 403
    assert post_sync(d, **{"Sec-Fetch-Site": "cross-site"}) == 403
    assert len(d.runs_ended()) == 1
    assert post_sync(d) == 202  # from loopback, naming the daemon: a run
    assert len(d.wait_runs(2)) == 2


def test_post_sync_can_require_a_token(sim, daemons):
    server = sim()
    d = daemons(
        server.api_url,
        server.staff_token,
        [EXAMPLE],
        "--interval",
        "1h",
        "--allowed-hosts",
        "reconciler.example",
        env={"RECONCILE_SYNC_TOKEN": SYNC_TOKEN},
    )
    d.wait_runs(1)
    page = d.get("").text  # two secrets in force, and the names of the plan untouched
    assert "EESSI 2023.06 / GROMACS" in page and "***" not in page
    assert post_sync(d) == 401
    assert post_sync(d, Authorization="Bearer wrong-token-of-some-length") == 403
    assert len(d.runs_ended()) == 1
    named = {"Host": "reconciler.example:8080", "Authorization": f"Bearer {SYNC_TOKEN}"}
    assert post_sync(d, **named) == 202
    assert len(d.wait_runs(2)) == 2
    assert SYNC_TOKEN not in "".join(d.raw)


def test_a_rotated_token_is_masked_everywhere(sim, hostile, daemons, tmp_path):
    server = sim()
    proxy = hostile(server, EchoHeaders(methods=None))  # reads too
    first, second = "first-token-0123456789", "rotated-token-9876543210"
    token_file = tmp_path / "token"
    token_file.write_text(first)
    d = daemons(
        proxy.api_url,
        "unused-env-token-000",
        [EXAMPLE],
        "--interval",
        "1h",
        env={"WALDUR_API_TOKEN_FILE": str(token_file)},
    )
    d.wait_runs(1)
    token_file.write_text(second)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda e: e.get("event", "").startswith("SIGHUP: re-read"))
    d.wait_runs(2)
    seen = [e for e in d.snapshot() if "you sent" in json.dumps(e)]
    assert len(seen) >= 2 and all("Token ***" in json.dumps(e) for e in seen)  # both echoed
    pages = [d.get(path).text for path in ("", "status.json", "metrics", "readyz")]
    assert "you sent" in pages[1]
    shown = "".join(d.raw) + "".join(pages)
    assert first not in shown and second not in shown
    token_file.write_text("EESSI")  # too short to mask: refused, the daemon keeps its token
    d.proc.send_signal(signal.SIGHUP)
    refused = d.wait_for(lambda e: e.get("event") == "SIGHUP: keeping the current token")
    assert "at least 12" in refused["error"]
    assert d.get("healthz").status_code == 200


def test_sighup_mid_apply_finishes_the_run_and_counts_every_write(sim, daemons, tmp_path):
    desired = eessi_subset(tmp_path, 30)
    server = sim("--latency-ms", "5")
    token_file = tmp_path / "token"
    token_file.write_text(server.staff_token)
    d = daemons(
        server.api_url,
        "unused-env-token-000",
        [desired],
        "--interval",
        "1h",
        env={"WALDUR_API_TOKEN_FILE": str(token_file), "RECONCILE_CONCURRENCY": "2"},
    )

    def writing_targets() -> bool:
        return sim_stats(server)["kinds"].get("target", {}).get("POST", 0) > 0

    wait_until(writing_targets, "the daemon's apply to write its first target")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda e: e.get("event", "").startswith("SIGHUP: re-read"))
    assert not d.runs_ended(), "the run ended before the reload: the test proves nothing"
    (end,) = d.wait_runs(1, timeout=120)
    assert end["result"] == "success", "".join(d.raw[-10:])
    assert "client has been closed" not in "".join(d.raw)
    run = d.get("status.json").json()["runs"][0]
    stats = sim_stats(server)
    posts = sum(kind.get("POST", 0) for kind in stats["kinds"].values())
    assert run["changes"]["create"] == posts == sum(count_kinds(desired_tree(desired)).values())
    assert server_tree(server.api_url) == desired_tree(desired)
    assert post_sync(d) == 202  # the next run, with the new client: nothing left to do
    (_, again) = d.wait_runs(2)
    assert again["result"] == "success"
    assert d.get("status.json").json()["runs"][0]["planned"]["create"] == 0


def test_a_run_ends_at_the_daemons_interval_by_default(sim, hostile, daemons):
    server = sim()
    proxy = hostile(server, Drip(0.05))  # a listing would take minutes
    d = daemons(
        proxy.api_url,
        server.staff_token,
        [EXAMPLE],
        "--interval",
        "3s",
        env={"RECONCILE_RUN_TIMEOUT": ""},  # not given: the daemon's default
    )
    end = d.wait_runs(1, timeout=60)[0]
    assert end["result"] == "failure"
    failed = d.wait_for(lambda e: e.get("event") == "run failed")
    assert "--run-timeout 3s" in failed["error"], failed
