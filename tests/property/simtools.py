"""What the waldur-sim properties share: the real `reconcile` CLI (tests/e2e/harness.py), a
server emptied between examples, and waldur-sim's request counters."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import reconcile, reset_stats, sim_stats
from tests.property import strategies as gen
from tests.property.api import InputError, SimProcess, load_desired

NO_DELETE_GUARD = ("--max-delete", "1000000", "--max-delete-percent", "100")
_names = itertools.count()


def write(folder: Path, text: str) -> Path:
    path = folder / f"doc{next(_names)}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def wipe(sim: SimProcess) -> None:
    """Delete every catalog (and so everything) on the server, then zero its counters."""
    headers = {"Authorization": f"Token {sim.staff_token}"}
    with httpx.Client(timeout=30, headers=headers) as client:
        url = sim.api_url + "marketplace-software-catalogs/"
        while True:
            page = client.get(url, params={"page_size": 300}).json()
            if not page:
                break
            for catalog in page:
                client.delete(catalog["url"]).raise_for_status()
        client.delete(sim.api_url + "_sim/stats/").raise_for_status()


def refused_requests(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The requests the server answered with a 4xx or 5xx, by method."""
    return {
        method: {code: n for code, n in codes.items() if code[0] in "45"}
        for method, codes in stats["requests"].items()
        if any(code[0] in "45" for code in codes)
    }


def cli(sim: SimProcess | None, path: Path, command: str, *args: str) -> Any:
    """`reconcile COMMAND -f PATH ARGS…`, with the validated-state cache kept next to the
    files (not in the home directory)."""
    env = {"XDG_CACHE_HOME": str(path.parent / "cache")}
    return reconcile(sim, command, "-f", str(path), *args, env=env)


def validate(path: Path) -> Any:
    return cli(None, path, "validate")


def apply(sim: SimProcess, path: Path, *extra: str) -> dict[str, Any]:
    """`reconcile apply -o json`: its exit code, its document (None if it printed none), the
    changes that were not done, its stderr, and what the server refused while it ran."""
    reset_stats(sim)
    done = cli(sim, path, "apply", "-o", "json", *NO_DELETE_GUARD, *extra)
    doc = json.loads(done.stdout) if done.stdout.strip() else None
    not_done = [
        {k: change.get(k) for k in ("action", "kind", "key", "status", "message")}
        for change in (doc or {}).get("changes", [])
        if change.get("status") != "done"
    ]
    return {
        "exit": done.returncode,
        "doc": doc,
        "not_done": not_done,
        "stderr": done.stderr[-3000:],
        "server_refused": refused_requests(sim_stats(sim)),
    }


def assert_applied_cleanly(outcome: dict[str, Any], what: Any) -> None:
    seen = (outcome["exit"], outcome["not_done"], outcome["server_refused"])
    assert seen == (0, [], {}), (what, seen, outcome["stderr"])


def plan(sim: SimProcess, path: Path) -> dict[str, Any]:
    """`reconcile plan -o json`: the plan it printed."""
    done = cli(sim, path, "plan", "-o", "json", *NO_DELETE_GUARD)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def comparable(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes as a plan lists them (an apply adds `status` and `message`)."""
    return [{k: v for k, v in c.items() if k not in ("status", "message")} for c in changes]


def expected_problem(hostile: gen.Hostile, name: str, text: str) -> re.Pattern[str]:
    """The line `validate` must print for `hostile` in the file called `name`: file, line and
    field (a lone surrogate: file and the line of the value, since YAML refuses it first)."""
    line, first, last = gen.key_lines(text, hostile.path)
    if isinstance(hostile.value, str) and re.search("[\ud800-\udfff]", hostile.value):
        lines = "|".join(str(n) for n in range(first, last + 1))
        return re.compile(rf"^  {re.escape(name)}:({lines}): not valid YAML", re.M)
    field = re.escape(gen.format_path(hostile.path))
    return re.compile(rf"^  {re.escape(name)}:{line}: {field}: ", re.M)


def accepted_offline(folder: Path, doc: dict[str, Any]) -> bool:
    """Whether `load_desired` (what `reconcile validate` runs) accepts `doc`."""
    try:
        load_desired([write(folder, gen.dump(doc))])
    except InputError:
        return False
    return True


def check_grey_zone(sim: SimProcess, folder: Path, cases: list, *apply_args: str) -> None:
    """Every grey-zone case that validate accepts on its own, all in one document (a catalog
    each): validate accepts them together, apply writes every one without a failure or a
    refused request, and the plan after is empty. Failures name the case."""
    alone = [c for c in cases if accepted_offline(folder, {"catalogs": [gen.grey_catalog(0, c)]})]
    if not alone:
        return
    doc = {"catalogs": [gen.grey_catalog(n, case) for n, case in enumerate(alone)]}
    path = write(folder, gen.dump(doc))
    checked = validate(path)
    assert checked.returncode == 0, ("accepted one by one, not together", checked.stderr)

    def case_of(change: dict[str, Any]) -> str:
        return gen.describe_case(alone[int(change["key"]["catalog_version"][1:])])

    wipe(sim)
    outcome = apply(sim, path, *apply_args)
    if outcome["doc"] is None:  # the run stopped before it printed a plan
        raise AssertionError(("apply printed no plan", outcome["exit"], outcome["stderr"]))
    failed: dict[str, list[Any]] = {}
    for c in outcome["not_done"]:
        failed.setdefault(case_of(c), []).append((c["action"], c["kind"], c["message"]))
    replanned: dict[str, list[Any]] = {}
    for c in plan(sim, path)["changes"]:
        if case_of(c) not in failed:
            values = c.get("fields") or c.get("after") or c.get("before")
            replanned.setdefault(case_of(c), []).append((c["action"], c["kind"], values))
    problems = {"apply failed": failed, "the plan after the apply": replanned}
    seen = (outcome["exit"], outcome["server_refused"], problems)
    assert seen == (0, {}, {"apply failed": {}, "the plan after the apply": {}}), seen
