"""The daemon's status page (`GET /`) in headless Chromium, and `GET /status.json` beside it.

A real `reconcile daemon` against a real waldur-sim: the page must show the runs, the drift,
the last plan, the files with their digests and the links, request nothing but itself, never
show the token, and stay read-only.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import yaml

from tests.e2e.harness import ROOT, reconcile, write_yaml

from .drift import delete_target

EXAMPLE = ROOT / "examples" / "targets.yaml"


def rows(page, selector: str) -> list[list[str]]:
    """The cells of a table's body rows, as shown."""
    return page.evaluate(
        f"[...document.querySelectorAll('{selector} tbody tr')]"
        ".map(r => [...r.cells].map(c => c.innerText.replace(/\\u00a0/g, ' ').trim()))"
    )


def test_status_page_after_runs_that_changed_the_server(sim, browser, daemons, tmp_path):
    server = sim()
    desired = write_yaml(tmp_path / "desired.yaml", yaml.safe_load(EXAMPLE.read_text()))
    d = daemons(server.api_url, server.staff_token, [desired], "--interval", "1h")
    d.wait_runs(1)
    # Drift behind its back, then a run asked for: it repairs it.
    delete_target(server.api_url, server.staff_token, "GROMACS", "2024.4", "amd/zen3")
    assert httpx.post(d.url + "sync", timeout=5).status_code == 202
    d.wait_runs(2)

    status = d.get("status.json").json()
    assert status["mode"] == "apply" and status["healthy"] is True
    assert status["ready"] == {"ready": True, "reason": "ok"}
    assert [r["result"] for r in status["runs"]] == ["success", "success"]
    newest, first = status["runs"]
    assert first["changes"] == {"create": 62, "update": 0, "delete": 0}
    assert newest["changes"] == {"create": 1, "update": 0, "delete": 0}
    assert newest["not_applicable"] == 0 and newest["error"] == "" and newest["duration_s"] > 0
    assert status["drift"]["at_observation"]["target"] == 1
    assert status["drift"]["now"]["target"] == 0 and status["drift"]["total"] == 0
    change = status["last_plan"]["changes"][0]
    assert change["object"].endswith("GROMACS / 2024.4 (2024.4-foss-2023b) / x86_64/amd/zen3")
    assert change["status"] == "done" and status["last_plan"]["applied"] is True
    digest = hashlib.sha256(desired.read_bytes()).hexdigest()
    assert status["desired"]["files"] == [{"path": str(desired), "sha256": digest}]
    due = datetime.strptime(status["next_run_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 3000 < (due - datetime.now(UTC)).total_seconds() <= 3600
    assert status["links"]["metrics"] == "/metrics"

    page = browser.page(1280, 900).goto(d.url)
    assert page.requests() == [d.url]
    assert page.problems() == []
    assert page.evaluate("document.title") == "Catalog reconciler status"
    assert page.evaluate("document.querySelector('meta[http-equiv=refresh]').content") == "30"
    links = page.evaluate("[...document.querySelectorAll('.links a')].map(a => a.href)")
    for path in ("metrics", "readyz", "status.json"):
        assert d.url + path in links
    header = page.evaluate("document.querySelector('header').innerText")
    assert "✓ ready" in header and "apply: makes the server match the files" in header
    assert "every 1 h" in header
    assert "(in 59 min)" in header or "(in 60 min)" in header
    runs = rows(page, "table.runs")
    assert [r[2] for r in runs] == ["✓ success", "✓ success"]
    assert [r[3] for r in runs] == ["1", "62"]  # created, newest first
    changes = rows(page, "table.changes")
    assert changes == [
        [
            "+ create",
            "target",
            "EESSI 2023.06 / GROMACS / 2024.4 (2024.4-foss-2023b) / x86_64/amd/zen3",
            "\u2013",  # an en dash: nothing
            "done",
        ]
    ]
    assert "✓ in sync" in page.evaluate("document.getElementById('drift').parentNode.innerText")
    files = page.evaluate("document.getElementById('files').parentNode.innerText")
    assert digest in files and str(desired) in files
    page.screenshot("status.png", full_page=True)

    # Nothing shows the token; the page is read-only.
    html = d.get("").text
    assert server.staff_token not in html and server.staff_token not in d.get("status.json").text
    assert httpx.post(d.url, timeout=5).status_code == 404
    assert httpx.post(d.url + "status.json", timeout=5).status_code == 404
    assert d.get("").headers["content-security-policy"].startswith("default-src 'none'")
    page.close()


def test_status_page_of_a_dry_run_daemon_shows_what_it_would_change(
    sim, browser, daemons, tmp_path
):
    server = sim()
    desired = tmp_path / "desired.yaml"
    desired.write_text(EXAMPLE.read_text())
    applied = reconcile(server, "apply", "-f", str(desired))
    assert applied.returncode == 0, applied.stderr
    delete_target(server.api_url, server.staff_token, "GROMACS", "2024.4", "amd/zen3")
    d = daemons(server.api_url, server.staff_token, [desired], "--interval", "1h", "--dry-run")
    d.wait_runs(1)

    status = d.get("status.json").json()
    assert status["mode"] == "dry-run"
    assert status["runs"][0]["result"] == "success" and status["runs"][0]["dry_run"] is True
    assert status["runs"][0]["changes"] == {"create": 0, "update": 0, "delete": 0}
    assert status["runs"][0]["planned"]["create"] == 1
    assert status["drift"]["now"]["target"] == 1 and status["drift"]["total"] == 1
    assert status["last_plan"]["dry_run"] is True and status["last_plan"]["applied"] is False

    page = browser.page(1280, 900, dark=True).goto(d.url)
    assert page.requests() == [d.url] and page.problems() == []
    plan = page.evaluate("document.getElementById('plan').parentNode.innerText")
    assert plan.startswith("What the last dry-run plan would change")
    assert "1 to create · 0 to update · 0 to delete" in plan
    assert rows(page, "table.changes")[0][0] == "+ create"
    assert rows(page, "table.changes")[0][4] == "would be sent"
    drift = page.evaluate("document.getElementById('drift').parentNode.innerText")
    assert "✗ 1 out of sync" in drift
    assert "dry run: plans and reports drift, never writes" in page.evaluate(
        "document.querySelector('header').innerText"
    )
    page.screenshot("status-dry-run-dark.png", full_page=True)
    page.close()


def test_status_json_of_runs_the_server_cannot_take_and_of_a_failure(sim, daemons, tmp_path):
    """No browser: a run whose changes are not applicable (a steady state), then a bad file."""
    server = sim("--dialect", "current", "--read-only-kinds", "version,target")
    desired = tmp_path / "desired.yaml"
    desired.write_text(EXAMPLE.read_text())
    d = daemons(server.api_url, server.staff_token, [desired], "--interval", "1h")
    d.wait_runs(1)
    status = d.get("status.json").json()
    run = status["runs"][0]
    assert run["result"] == "not_applicable"
    assert run["not_applicable"] > 0 and run["changes"]["create"] == 6 and run["error"] == ""
    assert status["ready"]["ready"] is True
    assert any(not c["applicable"] and c["reason"] for c in status["last_plan"]["changes"])
    assert "◐ not applicable" in d.get("").text

    desired.write_text(EXAMPLE.read_text() + "bogus_key: 1\n")
    assert httpx.post(d.url + "sync", timeout=5).status_code == 202
    d.wait_runs(2)
    status = d.get("status.json").json()
    failed = status["runs"][0]
    assert failed["result"] == "failure" and "bogus_key" in failed["error"]
    assert "bogus_key" in status["desired"]["error"]
    assert status["ready"]["ready"] is False
    page = d.get("").text
    assert "✗ failure" in page and "The files are invalid now" in page
    assert server.staff_token not in page
