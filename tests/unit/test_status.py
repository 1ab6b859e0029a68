"""The daemon's status record and page offline (the page in a browser: tests/browser/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from reconciler.core.model import Key, Kind
from reconciler.core.plan import Action, Change, Plan
from reconciler.daemon import status as status_module
from reconciler.daemon.status import StatusBook, drift_by_kind
from reconciler.daemon.statuspage import render_status
from reconciler.desired.loader import load_desired
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output import logs
from tests.e2e.harness import write_yaml

CAT = ("Cat", "1", "binary_runtime")
EVIL = "<img src=x onerror=alert(1)>"


def target(package: str, micro: str) -> Key:
    return Key(Kind.TARGET, (*CAT, package, "1.0", "", "x86_64", micro))


def book(tmp_path, dry_run: bool = False) -> StatusBook:
    return StatusBook(
        [tmp_path],
        dry_run=dry_run,
        api_url="https://user:secret@waldur.example/api/?x=1",
        schedule={"interval_s": 600.0, "cron": None, "jitter_s": 30.0},
    )


def snapshot(b: StatusBook) -> dict:
    return b.snapshot(
        healthy=True,
        ready=(True, "ok"),
        running=False,
        next_run=datetime.now(UTC) + timedelta(minutes=10),
    )


def test_a_run_that_applied_some_changes(tmp_path):
    desired = load_desired(
        [write_yaml(tmp_path / "a.yaml", {"catalogs": [{"name": "Cat", "version": "1"}]})]
    )
    b = book(tmp_path)
    b.desired_loaded(desired)
    create = Change(Action.CREATE, target(EVIL, "amd/zen3"))
    delete = Change(Action.DELETE, Key(Kind.PACKAGE, (*CAT, "Old")), cascade=3)
    refused = Change(
        Action.CREATE, target("B", "generic"), applicable=False, reason="read-only here"
    )
    plan = Plan(changes=(create, delete, refused))
    result = ApplyResult(
        [
            ChangeResult(create, Status.DONE),
            ChangeResult(delete, Status.FAILED, "500"),
            ChangeResult(refused, Status.NOT_APPLICABLE),
        ]
    )
    b.run_started("r1", False)
    b.failed("some changes were not applied\nline two")
    b.run_finished("r1", "failure", 1.5, plan, result)
    data = snapshot(b)
    assert data["api_url"] == "https://waldur.example/api/"  # no credentials, no query
    assert data["mode"] == "apply" and data["format_version"] == "1"
    run = data["runs"][0]
    assert run["result"] == "failure" and run["duration_s"] == 1.5
    assert run["changes"] == {"create": 1, "update": 0, "delete": 0}
    assert run["not_done"] == {"failed": 1} and run["not_applicable"] == 1
    assert run["error"] == "some changes were not applied\nline two"
    assert data["drift"]["at_observation"] == {
        "catalog": 0,
        "package": 4,
        "version": 0,
        "target": 2,
        **({"offering_link": 0} if "offering_link" in data["drift"]["now"] else {}),
    }
    assert data["drift"]["now"]["package"] == 4 and data["drift"]["now"]["target"] == 1
    assert data["drift"]["total"] == 5
    statuses = [c.get("status") for c in data["last_plan"]["changes"]]
    assert statuses == ["done", "failed", "not_applicable"]
    assert data["last_plan"]["changes"][2]["reason"] == "read-only here"
    assert data["desired"]["files"][0]["path"].endswith("a.yaml")
    assert len(data["desired"]["files"][0]["sha256"]) == 64
    json.dumps(data)  # plain JSON

    page = render_status(data)
    assert EVIL not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "✗ failure" in page and "and 3 objects below it" in page
    assert "every 10 min, plus a random delay of up to 30 s" in page
    assert '<meta http-equiv="refresh" content="30">' in page


def test_the_token_never_shows(tmp_path):
    token = "tok-" + "9" * 30
    logs.register_secret(token)
    b = book(tmp_path)
    b.run_started("r1", False)
    b.failed(f"the server rejected the token {token}")
    b.run_finished("r1", "failure", 0.1, None, None)
    b.desired_invalid(f"bad file near {token}")
    data = snapshot(b)
    text = json.dumps(data) + render_status(data)
    assert token not in text and "***" in text


def test_runs_are_kept_newest_first_up_to_a_limit_and_plans_shortened(tmp_path, monkeypatch):
    monkeypatch.setattr(status_module, "MAX_CHANGES", 2)
    b = book(tmp_path, dry_run=True)
    changes = tuple(Change(Action.CREATE, target("P", f"m{i}")) for i in range(5))
    for i in range(status_module.MAX_RUNS + 3):
        b.run_started(f"r{i}", True)
        b.run_finished(f"r{i}", "success", 0.2, Plan(changes=changes), None)
    data = snapshot(b)
    assert len(data["runs"]) == status_module.MAX_RUNS
    assert data["runs"][0]["run_id"] == f"r{status_module.MAX_RUNS + 2}"
    assert data["runs"][0]["planned"]["create"] == 5 and data["runs"][0]["changes"]["create"] == 0
    assert len(data["last_plan"]["changes"]) == 2 and data["last_plan"]["more"] == 3
    assert data["drift"]["now"]["target"] == 5  # a dry run changes nothing
    page = render_status(data)
    assert "What the last dry-run plan would change" in page and "… and 3 more" in page


def test_a_page_before_any_run_and_the_html_is_self_contained(tmp_path):
    data = StatusBook(
        [Path("x.yaml")], dry_run=False, api_url="", schedule={"cron": "*/5 * * * *"}
    ).snapshot(healthy=True, ready=(False, "no run has finished yet"), running=True, next_run=None)
    page = render_status(data)
    assert "✗ not ready" in page and "no run has finished yet" in page
    assert "No run yet." in page and "No plan yet." in page
    assert "cron <code>*/5 * * * *</code>" in page

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(page)
    assert not [a for _, a in parser.found if "src" in a]
    assert not [t for t, _ in parser.found if t == "script"]
    hrefs = [a["href"] for t, a in parser.found if t == "a"]
    assert set(hrefs) == {"/metrics", "/readyz", "/healthz", "/status.json"}


def test_drift_counts_the_cascade_of_deletes():
    changes = [
        Change(Action.DELETE, Key(Kind.PACKAGE, (*CAT, "A")), cascade=10),
        Change(Action.UPDATE, target("A", "generic")),
    ]
    found = drift_by_kind(changes)
    assert (found["package"], found["target"]) == (11, 1)


def test_loader_catalogs_show_their_load_state_as_the_run_left_it(tmp_path) -> None:
    from reconciler.daemon.status import load_states

    def cat(version: str) -> Key:
        return Key(Kind.CATALOG, ("EESSI", version, "binary_runtime"))

    loads = [
        Change(Action.LOAD, cat("2023.06"), reason="never loaded"),
        Change(Action.LOAD, cat("2025.06"), reason="a load is running", running=True),
        Change(Action.LOAD, cat("2025.12"), reason="the last load failed"),
    ]
    plan = Plan(
        changes=tuple(loads),
        loaders={cat(v): f"EESSI {v} line" for v in ("2021.12", "2023.06", "2025.06", "2025.12")},
        load_phases={
            cat("2021.12"): "ok",
            cat("2023.06"): "never loaded",
            cat("2025.06"): "loading",
            cat("2025.12"): "failed",
        },
        gaps={cat("2021.12"): ("package X is missing",)},
    )
    result = ApplyResult(
        [
            ChangeResult(loads[0], Status.LOADING, "still loading; the next run checks it"),
            ChangeResult(loads[1], Status.DONE, "loaded: 1 package"),
            ChangeResult(loads[2], Status.FAILED, "Catalog update failed: \x1b"),
        ]
    )
    states = {item["catalog"]: item["state"] for item in load_states(plan, result)}
    assert states == {
        "EESSI 2021.12": "unmet",
        "EESSI 2023.06": "loading",
        "EESSI 2025.06": "ok",
        "EESSI 2025.12": "failed",
    }
    planned = {item["catalog"]: item["state"] for item in load_states(plan, None)}
    assert planned["EESSI 2023.06"] == "load" and planned["EESSI 2025.06"] == "loading"
    b = book(tmp_path)
    b.run_started("r1", dry_run=False)
    b.run_finished("r1", "success", 1.0, plan, result)
    status = snapshot(b)
    assert status["loads"][1]["detail"] == "still loading; the next run checks it"
    assert "<td>EESSI 2023.06</td><td>loading</td>" in render_status(status)
