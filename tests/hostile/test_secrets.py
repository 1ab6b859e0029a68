"""No secret is ever printed, end to end: a server that echoes the request's headers in a 400,
a password in the API URL, tokens too short to mask, with the real `reconcile` CLI."""

from __future__ import annotations

import base64
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, reconcile, sim_stats
from tests.hostile.proxy import EchoHeaders

EXAMPLE = ROOT / "examples" / "targets.yaml"
PASSWORD = "s3cret-password-42"


def github_env(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_WORKSPACE": str(ROOT),
        "RECONCILE_LOG_LEVEL": "debug",
    }
    return env, summary, outputs


def everything_shown(done: subprocess.CompletedProcess[str], *files: Path) -> str:
    return "\n".join([done.stdout, done.stderr, *(f.read_text() for f in files if f.exists())])


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_a_token_the_server_echoes_appears_nowhere(sim, hostile, tmp_path, output):
    server = sim()
    proxy = hostile(server, EchoHeaders())
    env, summary, outputs = github_env(tmp_path)
    done = reconcile(
        server, "apply", "-o", output, "-f", str(EXAMPLE), api_url=proxy.api_url, env=env
    )
    assert done.returncode == 3, done.stderr
    shown = everything_shown(done, summary, outputs)
    assert "you sent" in done.stdout and "you sent" in summary.read_text()  # the echo is shown …
    assert "Authorization: Token ***" in done.stdout
    assert server.staff_token not in shown  # … without the token, on every channel
    assert "exit_code=3" in outputs.read_text()


def test_after_an_error_the_summary_and_annotations_hold_no_token(sim, hostile, tmp_path):
    server = sim()
    proxy = hostile(server, EchoHeaders())
    env, summary, outputs = github_env(tmp_path)
    # a saved plan, then its apply against the echoing server: an error before any output
    saved = tmp_path / "plan.json"
    assert reconcile(server, "plan", "-f", str(EXAMPLE), "--out", str(saved)).returncode == 0
    assert server.staff_token not in saved.read_text()
    done = reconcile(server, "apply", str(saved), api_url=proxy.api_url, env=env)
    assert done.returncode != 0
    assert server.staff_token not in everything_shown(done, summary, outputs)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_api_urls_userinfo_is_never_printed(tmp_path):
    env, summary, outputs = github_env(tmp_path)
    port = closed_port()
    url = f"http://operator:{PASSWORD}@127.0.0.1:{port}/api/"
    done = reconcile(None, "plan", "-f", str(EXAMPLE), api_url=url, token=None, env=env)
    assert done.returncode == 1, done.stderr
    shown = everything_shown(done, summary, outputs)
    assert f"127.0.0.1:{port}" in done.stderr  # the server is named …
    assert "operator" not in shown and PASSWORD not in shown  # … without its credentials


def test_a_reachable_servers_userinfo_is_never_printed(sim, tmp_path):
    server = sim()
    env, summary, outputs = github_env(tmp_path)
    url = server.api_url.replace("http://", f"http://operator:{PASSWORD}@")
    done = reconcile(server, "apply", "-f", str(EXAMPLE), api_url=url, env=env)
    assert done.returncode == 1 and '"event": "http"' in done.stderr  # requests were logged
    basic = base64.b64encode(f"operator:{PASSWORD}".encode()).decode()
    shown = everything_shown(done, summary, outputs)
    for secret in (PASSWORD, basic, server.staff_token, "operator"):
        assert secret not in shown


@pytest.mark.parametrize("command", ["plan", "daemon"])
def test_tokens_too_short_to_mask_are_refused_at_start(sim, tmp_path, command):
    server = sim()
    args = [command, "-f", str(EXAMPLE)]
    if command == "daemon":
        args += ["--listen", "127.0.0.1:0"]
    done = reconcile(server, *args, token="EESSI", timeout=60)
    assert done.returncode == 1, done.stderr
    assert "WALDUR_API_TOKEN: the API token is 5 characters long; at least 12" in done.stderr
    assert sim_stats(server)["requests"] == {}  # refused before anything was sent


def test_a_sync_token_too_short_to_mask_is_refused_at_start(sim):
    server = sim()
    done = reconcile(
        server,
        "daemon",
        "-f",
        str(EXAMPLE),
        "--listen",
        "127.0.0.1:0",
        env={"RECONCILE_SYNC_TOKEN": "EESSI"},
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "RECONCILE_SYNC_TOKEN is 5 characters long; at least 12" in done.stderr
    assert sim_stats(server)["requests"] == {}
