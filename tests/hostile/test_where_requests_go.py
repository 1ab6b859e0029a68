"""Requests go only where the operator pointed: a server whose ``url`` fields and ``Link``
headers name another address never receives a request there — not from an apply's creates,
updates and deletes, not from offering actions, not from a saved plan's apply."""

from __future__ import annotations

import httpx
import yaml

from tests.e2e.harness import ROOT, edited_example, reconcile, sim_stats, write_yaml, writes
from tests.hostile.proxy import RewriteUrls

EXAMPLE = ROOT / "examples" / "targets.yaml"
OFFERINGS = ROOT / "examples" / "offerings.yaml"
OFFERING_FLAGS = (
    "--dialect",
    "current",
    "--offering",
    "HPC cluster A",
    "--offering",
    "HPC cluster B",
)


def edited(tmp_path):
    """The example with one update, a deleted version (and its targets) and a new package."""
    return edited_example(tmp_path / "edited.yaml", description="Changed through a hostile server.")


def edited_links(tmp_path):
    """The offerings example with A's link changed (an update through A's action), B's
    dropped (a removal through B's), the catalog and a package updated, a target fewer
    (deletes) and a new package."""
    doc = yaml.safe_load(OFFERINGS.read_text())
    catalog = doc["catalogs"][0]
    catalog["description"] = "Changed through a hostile server."
    catalog["packages"][0]["homepage"] = "https://www.gromacs.org/changed"
    catalog["offerings"] = [{"offering": "HPC cluster A", "enabled_cpu_family": ["aarch64"]}]
    catalog["target_defaults"]["architectures"].pop()
    catalog["packages"].append({"name": "New", "versions": [{"version": "1"}]})
    return write_yaml(tmp_path / "edited-links.yaml", doc)


def assert_rewritten(proxy, recorder) -> None:
    """The proxy really names the recorder in what the reconciler reads."""
    listing = httpx.get(proxy.api_url + "marketplace-software-packages/", timeout=10)
    assert listing.json()[0]["url"].startswith(recorder.base_url + "/api/")


def test_writes_never_follow_the_servers_url_fields(sim, hostile, recorder, tmp_path):
    server = sim()
    proxy = hostile(server, RewriteUrls(recorder.base_url))
    first = reconcile(server, "-f", str(EXAMPLE), api_url=proxy.api_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert_rewritten(proxy, recorder)

    before = writes(sim_stats(server))
    done = reconcile(server, "-f", str(edited(tmp_path)), api_url=proxy.api_url)
    assert done.returncode == 0, done.stdout + done.stderr
    stats = sim_stats(server)["requests"]
    assert stats.get("PATCH") and stats.get("DELETE") and writes(sim_stats(server)) > before
    assert recorder.requests == []


def test_offering_actions_and_saved_plans_stay_at_the_api_url(sim, hostile, recorder, tmp_path):
    server = sim(*OFFERING_FLAGS)
    proxy = hostile(server, RewriteUrls(recorder.base_url))
    first = reconcile(server, "-f", str(OFFERINGS), api_url=proxy.api_url)
    assert first.returncode == 0, first.stdout + first.stderr

    saved = tmp_path / "plan.json"
    desired = edited_links(tmp_path)
    made = reconcile(server, "plan", "-f", str(desired), "--out", str(saved), api_url=proxy.api_url)
    assert made.returncode == 0, made.stderr
    assert recorder.base_url not in saved.read_text()
    done = reconcile(server, "apply", str(saved), api_url=proxy.api_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    offering_writes = sim_stats(server)["kinds"]["offering"]
    assert offering_writes.get("POST") and offering_writes.get("PATCH")  # remove, update
    assert_rewritten(proxy, recorder)
    assert recorder.requests == []
