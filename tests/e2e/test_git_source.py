"""The Git source end to end: `reconcile daemon` and `reconcile plan` fetch from a real Git
server on loopback (`git http-backend` over HTTP, with a token), apply exactly one commit,
refuse unsigned commits when signatures are checked, and keep the last good commit when the
server goes away."""

from __future__ import annotations

import signal

import httpx

from tests.gitserver import GitHttpServer, GitRepo
from tests.waiting import wait_until

from .harness import reconcile, server_tree
from .test_notifications import SECRET, Receiver

TOKEN = "git-token-never-printed"


def catalog(*packages: str) -> dict:
    return {
        "catalogs": [
            {
                "name": "Site",
                "version": "1",
                "packages": [{"name": name, "versions": [{"version": "1.0"}]} for name in packages],
            }
        ]
    }


def packages(api_url: str) -> set[str]:
    return {row[3] for row in server_tree(api_url) if len(row) == 4}


def sync(d) -> int:
    """Ask the daemon for a run now; the number of runs ended before it."""
    before = len(d.runs_ended())
    assert httpx.post(d.url + "sync", timeout=5).status_code == 202
    return before


def test_daemon_follows_the_branch_refuses_unsigned_and_survives_the_server(sim, daemons, tmp_path):
    server = sim()
    (tmp_path / "srv").mkdir()
    git = GitHttpServer(tmp_path / "srv", token=TOKEN)
    repo = GitRepo(tmp_path / "srv", tmp_path / "work")
    allowed = repo.ssh_signing(tmp_path)
    receiver = Receiver()
    repo.write("catalogs/site.yaml", catalog("Alpha"))
    first = repo.commit("Add Alpha", sign=True)
    repo.push()

    d = daemons(
        server.api_url,
        server.staff_token,
        [],
        "--interval", "1h",
        "--git-url", git.url("catalogs"),
        "--git-ref", "main",
        "-f", "catalogs/",
        "--git-allowed-signers", str(allowed),
        env={
            "RECONCILE_GIT_TOKEN": TOKEN,
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "RECONCILE_NOTIFY": f"json://bot:{SECRET}@127.0.0.1:{receiver.port}/hook",
        },
    )  # fmt: skip
    d.wait_runs(1)
    status = d.get("status.json").json()
    assert status["source"]["commit"]["sha"] == first
    assert status["source"]["commit"]["subject"] == "Add Alpha"
    assert status["source"]["commit"]["signed_by"] == "ann@example.org"
    assert packages(server.api_url) == {"Alpha"}
    assert d.metric("reconcile_source_info", revision=first, ref="main", url=git.url("catalogs"))

    # A new commit pushed: applied on the next run; the page and the metric show its hash.
    repo.write("catalogs/site.yaml", catalog("Alpha", "Beta"))
    second = repo.commit("Add Beta", sign=True)
    repo.push()
    d.wait_runs(sync(d) + 1)
    assert packages(server.api_url) == {"Alpha", "Beta"}
    assert d.get("status.json").json()["source"]["commit"]["sha"] == second
    assert second in d.get("/").text
    url = git.url("catalogs")
    assert d.metric("reconcile_source_info", revision=second, ref="main", url=url)
    assert not d.metric("reconcile_source_info", revision=first, ref="main", url=url)

    # A force-push to an unsigned commit: refused, the signed one stays applied.
    repo.git("reset", "-q", "--hard", first)
    repo.write("catalogs/site.yaml", catalog("Alpha", "Gamma"))
    unsigned = repo.commit("Sneak Gamma in")
    repo.push(force=True)
    d.wait_runs(sync(d) + 1)
    status = d.get("status.json").json()
    assert status["source"]["commit"]["sha"] == second
    assert unsigned[:12] in status["source"]["error"] and "not signed" in status["source"]["error"]
    assert packages(server.api_url) == {"Alpha", "Beta"}
    assert d.metric("reconcile_source_commits_refused_total") == 1
    assert d.get("readyz").status_code == 200
    assert "stays applied" in d.get("/").text
    refused = "[reconcile] commit refused"
    wait_until(lambda: refused in receiver.titles(), "the commit refused message")
    (message,) = [m["message"] for m in receiver.messages if m["title"] == refused]
    assert unsigned[:12] in message and "not signed" in message
    assert f"Commit: {second[:12]} 'Add Beta'" in message  # what stays applied
    d.wait_runs(sync(d) + 1)  # refused again: counted, not told again
    assert d.metric("reconcile_source_commits_refused_total") == 2

    # The Git server goes away: the last good commit stays applied, readiness stays up.
    git.stop()
    d.wait_runs(sync(d) + 1)
    status = d.get("status.json").json()
    assert status["source"]["commit"]["sha"] == second
    assert "fetching main" in status["source"]["error"]
    assert d.metric("reconcile_source_fetch_failures_total") == 1
    assert d.get("readyz").status_code == 200
    assert d.runs_ended()[-1]["result"] == "success"
    assert TOKEN not in "".join(d.raw) and TOKEN not in d.get("/").text
    assert receiver.titles().count(refused) == 1


def test_daemon_of_an_environment_of_the_repository(sim, daemons, tmp_path):
    """The documented systemd setup (deploy/systemd/reconcile-daemon@.service): `reconcile
    daemon --env staging` with a Git source, no WALDUR_API_URL and no WALDUR_API_TOKEN; the
    repository's reconcile.yaml gives the server and the token's variable. It starts, its
    first run applies, and so does the run a SIGHUP asks for."""
    server = sim()
    (tmp_path / "srv").mkdir()
    git = GitHttpServer(tmp_path / "srv", token=TOKEN)
    repo = GitRepo(tmp_path / "srv", tmp_path / "work")
    repo.write(
        "reconcile.yaml",
        {
            "files": ["catalogs/"],
            "environments": {
                "staging": {"api_url": server.api_url, "token_env": "WALDUR_STAGING_TOKEN"}
            },
        },
    )
    repo.write("catalogs/site.yaml", catalog("Alpha"))
    repo.commit("Add Alpha")
    repo.push()
    d = daemons(
        None,
        None,
        [],
        "--env", "staging",
        "--interval", "1h",
        "--git-url", git.url("catalogs"),
        "--git-ref", "main",
        env={
            "RECONCILE_GIT_TOKEN": TOKEN,
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "WALDUR_STAGING_TOKEN": server.staff_token,
        },
    )  # fmt: skip
    (first,) = d.wait_runs(1)
    assert first["result"] == "success", "".join(d.raw[-10:])
    assert packages(server.api_url) == {"Alpha"}
    assert d.get("status.json").json()["api_url"] == server.api_url

    repo.write("catalogs/site.yaml", catalog("Alpha", "Beta"))
    repo.commit("Add Beta")
    repo.push()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda e: e.get("event", "").startswith("SIGHUP: re-read"))
    (_, second) = d.wait_runs(2)
    assert second["result"] == "success", "".join(d.raw[-10:])
    assert packages(server.api_url) == {"Alpha", "Beta"}
    shown = "".join(d.raw) + d.get("/").text
    assert server.staff_token not in shown and TOKEN not in shown


def test_one_shot_plan_names_the_commit_and_needs_the_token(sim, tmp_path):
    server = sim()
    (tmp_path / "srv").mkdir()
    git = GitHttpServer(tmp_path / "srv", token=TOKEN)
    repo = GitRepo(tmp_path / "srv", tmp_path / "work")
    repo.write("site/catalog.yaml", catalog("Alpha"))
    sha = repo.commit("Add Alpha")
    repo.push()
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ("plan", "--git-url", git.url("catalogs"), "--git-path", "site", "-f", "catalog.yaml")

    done = reconcile(server, *args, env={**cache, "RECONCILE_GIT_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    head = done.stdout.splitlines()[0]
    assert f"main @ {sha[:12]}" in head and '"Add Alpha"' in head and "Ann Admin" in head
    assert "+ package Alpha" in done.stdout

    as_json = reconcile(server, *args, "-o", "json", env={**cache, "RECONCILE_GIT_TOKEN": TOKEN})
    assert httpx.Response(200, content=as_json.stdout).json()["source"]["sha"] == sha

    refused = reconcile(server, *args, env=cache)  # no token: the server says 401
    assert refused.returncode == 1
    assert "Authentication failed" in refused.stderr
    assert TOKEN not in done.stdout + done.stderr + refused.stderr

    # with signatures required, the unsigned head is refused: exit 4, nothing planned
    allowed = repo.ssh_signing(tmp_path)
    unsigned = reconcile(
        server, *args, "--git-allowed-signers", str(allowed),
        env={**cache, "RECONCILE_GIT_TOKEN": TOKEN},
    )  # fmt: skip
    assert unsigned.returncode == 4, unsigned.stderr
    assert f"commit {sha[:12]} ('Add Alpha' by Ann Admin <ann@example.org>) is not signed" in (
        unsigned.stderr
    )
    assert unsigned.stdout == ""
