"""Which changes of state send a notification, and how the status page shows the Git source
and the environment (the end-to-end tests: test_notifications.py, test_git_source.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from reconciler.daemon.notify import LOAD_FAILED, Notifier, split_urls
from reconciler.daemon.status import StatusBook
from reconciler.daemon.statuspage import render_status


class Recording(Notifier):
    def __init__(self) -> None:
        super().__init__([], CollectorRegistry(), environment="staging")
        self.told: list[tuple[str, str]] = []

    def send(self, title: str, message: str) -> None:
        self.told.append((title, message))


def test_one_message_when_a_condition_starts_and_one_when_it_ends():
    n = Recording()
    n.after_run("success", {"create": 0, "update": 0, "delete": 0}, "")  # fine at start: quiet
    assert n.told == []
    n.after_run("success", {"create": 2, "update": 1, "delete": 0}, "")
    n.after_run("success", {"create": 1, "update": 0, "delete": 0}, "")  # still drifting
    n.after_run("failure", None, "server unreachable")  # not observed: drift unchanged
    n.after_run("failure", None, "server unreachable")
    n.after_run("success", {"create": 0, "update": 0, "delete": 0}, "")
    n.after_run("success", {"create": 0, "update": 0, "delete": 0}, "")
    assert [title for title, _ in n.told] == [
        "drift found",
        "apply failed",
        "back in sync",
        "recovered",
    ]
    assert n.told[0][1] == "Plan: 2 to create · 1 to update · 0 to delete"
    assert n.told[1][1] == "server unreachable"


def test_the_hook_for_other_conditions():
    n = Recording()
    n.condition(f"{LOAD_FAILED}: EESSI", True, "the loader said 500")
    n.condition(f"{LOAD_FAILED}: EESSI", True, "the loader said 500")
    n.condition(f"{LOAD_FAILED}: EESSI", False, "loaded")
    n.condition("commit refused", False, "fine")  # fine at first: nothing
    assert n.told == [
        ("catalog load failed: EESSI", "the loader said 500"),
        ("catalog load failed: EESSI: fixed", "loaded"),
    ]


def test_notification_urls_are_split_and_their_secrets_redacted():
    from reconciler.output.logs import redact

    urls = split_urls("json://u:pw-1@127.0.0.1:9/a,\n  mailtos://x:pw-2@example.org ")
    assert urls == ["json://u:pw-1@127.0.0.1:9/a", "mailtos://x:pw-2@example.org"]
    Notifier(urls, CollectorRegistry()).close()
    assert redact(f"failed: {urls[0]} with pw-2") == "failed: *** with ***"


def test_the_page_shows_the_environment_the_commit_and_a_failed_fetch(tmp_path):
    book = StatusBook(
        [tmp_path], dry_run=False, api_url="https://w.example/api/", schedule={"interval_s": 60}
    )
    book.environment = "production"
    committed = int(time.time()) - 7200
    book.source = lambda: {
        "url": "https://github.com/org/catalogs.git",
        "ref": "main",
        "path": "",
        "verification": "allowed signers",
        "commit": {
            "sha": "ab" * 20,
            "short": "ab" * 6,
            "subject": "Add <script>alert(1)</script>",
            "author": "Ann <ann@example.org>",
            "committed_at": committed,
            "link": "https://github.com/org/catalogs/commit/" + "ab" * 20,
            "signed_by": "ann@example.org",
        },
        "error": "commit cdcdcdcdcdcd is not signed; it is not applied",
        "error_at": time.time(),
        "fetches": 3,
    }
    data = book.snapshot(
        healthy=True,
        ready=(True, "ok"),
        running=False,
        next_run=datetime.now(UTC) + timedelta(minutes=1),
    )
    assert data["environment"] == "production" and data["source"]["commit"]["sha"] == "ab" * 20
    page = render_status(data)
    assert "<dt>environment</dt><dd><strong>production</strong></dd>" in page
    assert f'href="https://github.com/org/catalogs/commit/{"ab" * 20}"' in page
    assert "Add &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "(2.0 h ago)" in page or "(120 min ago)" in page
    assert "signed by</dt><dd>ann@example.org" in page
    assert "the commit above stays applied" in page and "is not signed" in page
    assert "only commits signed by an allowed key are applied" in page
