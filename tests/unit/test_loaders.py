"""Loader catalogs in pieces: the file form, the load state of a catalog row, the plan's loads,
the detection of the actions, and what a wait costs (a scripted server and a scaled clock).

The rows and the OPTIONS answers are trimmed copies of upstream's recorded exchanges (samples
132, 143, 152 and 179 of the catalog-actions recording: an imported row right after the
import, a pinned row after update_catalog, the same row after a failed update, staff OPTIONS
of import_catalog/).
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from reconciler.core import loaders
from reconciler.core.errors import InputError
from reconciler.core.loaders import LoadPhase, LoadState
from reconciler.core.model import Expectations, Kind, ObservedState, catalog_key
from reconciler.core.plan import Action, make_plan
from reconciler.core.secret import Secret
from reconciler.desired.loader import load_desired
from reconciler.engine.loads import LoadOptions, run_load
from reconciler.remote.capabilities import loader_actions
from reconciler.remote.client import ClientConfig, WaldurClient

API = "http://127.0.0.1:9/api/"
ROW = API + "marketplace-software-catalogs/43dd8d49a89f4a35ad9481ffa4c12c34/"
LOADED = {  # sample 143
    "url": ROW,
    "uuid": "43dd8d49a89f4a35ad9481ffa4c12c34",
    "name": "EESSI",
    "version": "2023.06",
    "catalog_type": "binary_runtime",
    "auto_update_enabled": True,
    "last_update_attempt": "2026-12-06T21:23:25.230963Z",
    "last_successful_update": "2026-12-06T21:23:25.295736Z",
    "update_errors": "",
    "package_count": 5,
    "version_count": 11,
    "target_count": 152,
}
FAILED = {  # sample 152
    **LOADED,
    "last_update_attempt": "2026-12-06T21:23:26.020000Z",
    "update_errors": "Catalog update failed: Catalog loading failed: Failed to fetch EESSI data: "
    "Connection refused",
}
FRESH = {**LOADED, "last_update_attempt": None, "last_successful_update": None}
OPTIONS_IMPORT = {  # sample 179, trimmed: the catalog serializer's fields under actions.POST
    "name": "Import catalog",
    "actions": {"POST": {"name": {"type": "string", "required": True, "read_only": False}}},
}
OPTIONS_NON_STAFF = {"name": "Import catalog", "renders": ["application/json"]}  # sample 180


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_desired([write(tmp_path, text)])
    return info.value.problems


# -- the file form ---------------------------------------------------------------------------
def test_the_loader_form_loads_with_its_policy(tmp_path: Path) -> None:
    state = load_desired(
        [
            write(
                tmp_path,
                "catalogs:\n"
                "  - name: Spack\n"
                '    version: "2026.07.01"\n'
                "    loader: spack\n"
                "    refresh: 7d\n"
                "    expect:\n"
                "      packages: [gromacs]\n"
                "      architectures: [x86_64/generic]\n"
                "      min_packages: 40\n",
            )
        ]
    )
    key = catalog_key("Spack", "2026.07.01", "source_package")  # the loader's type by default
    policy = state.policies[key].loader
    assert policy is not None and policy.loader == "spack" and policy.refresh == 7 * 86400
    assert policy.expect == Expectations(("gromacs",), ("x86_64/generic",), 40)
    assert [k.kind for k in state.records] == [Kind.CATALOG]


def test_loader_and_packages_together_is_an_error_naming_the_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "catalogs:\n"
        "  - name: EESSI\n"
        '    version: "2023.06"\n'
        "    loader: eessi\n"
        "    description: mine\n"
        "    packages:\n"
        "      - name: GROMACS\n",
    )
    assert any("d.yaml:6: " in p and "owns its packages" in p for p in found), found
    assert any("d.yaml:5: " in p and "owns its description" in p for p in found)
    assert all("line 4" in p for p in found)  # where loader: is


def test_the_loader_decides_name_and_type(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "catalogs:\n"
        "  - name: Mine\n"
        '    version: "1"\n'
        "    catalog_type: package_manager\n"
        "    loader: eessi\n",
    )
    assert any("d.yaml:2: " in p and "only the catalog named EESSI" in p for p in found)
    assert any("d.yaml:4: " in p and "binary_runtime" in p for p in found)


def test_expect_and_refresh_need_a_loader_and_architectures_need_packages(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "catalogs:\n"
        "  - name: EESSI\n"
        '    version: "2023.06"\n'
        "    refresh: 1d\n"
        "  - name: EESSI\n"
        '    version: "2025.06"\n'
        "    loader: eessi\n"
        "    refresh: 2h\n"
        "    expect:\n"
        "      architectures: [x86_64/generic]\n",
    )
    assert any("d.yaml:4: " in p and "add loader:" in p for p in found), found
    bad = problems(
        tmp_path,
        'catalogs:\n  - name: EESSI\n    version: "1"\n    loader: eessi\n    refresh: soon\n',
    )
    assert any("d.yaml:5: " in p and "not a duration" in p for p in bad), bad
    assert any("d.yaml:10: " in p and "list packages too" in p for p in found), found


# -- the load state of a row -----------------------------------------------------------------
def test_phases_of_recorded_rows() -> None:
    assert LoadState.from_row(LOADED).phase is LoadPhase.OK
    assert LoadState.from_row(FAILED).phase is LoadPhase.FAILED
    assert LoadState.from_row(FRESH).phase is LoadPhase.NEVER
    running = {**LOADED, "last_update_attempt": "2026-12-06T21:30:00Z"}
    assert LoadState.from_row(running).phase is LoadPhase.LOADING


def test_settled_tells_a_retry_from_a_new_failure() -> None:
    failed = LoadState.from_row(FAILED)
    retry = LoadState.from_row({**FAILED, "last_update_attempt": "2026-12-06T21:40:00Z"})
    assert retry.settled(failed) is LoadPhase.LOADING  # the old text stays while it runs
    again = LoadState.from_row(
        {
            **FAILED,
            "last_update_attempt": "2026-12-06T21:40:00Z",
            "update_errors": "Catalog update failed: other",
        }
    )
    assert again.settled(failed) is LoadPhase.FAILED
    loaded = LoadState.from_row(LOADED)
    assert loaded.settled(loaded) is LoadPhase.LOADING  # the worker has not started
    done = LoadState.from_row(
        {
            **LOADED,
            "last_successful_update": "2026-12-07T00:00:00Z",
            "last_update_attempt": "2026-12-06T23:59:00Z",
        }
    )
    assert done.settled(loaded) is LoadPhase.OK
    assert LoadState.from_row(FRESH).settled(None) is LoadPhase.LOADING


def test_reasons_to_load_and_refresh_ages() -> None:
    ok = LoadState.from_row(LOADED)
    assert loaders.load_reason(None, None, "").startswith("new catalog")
    assert loaders.load_reason(ok, None, "2030-01-01T00:00:00+00:00") == ""
    assert loaders.load_reason(ok, 3600, "2026-12-06T22:00:00+00:00") == ""
    late = loaders.load_reason(ok, 3600, "2026-12-06T22:30:00+00:00")
    assert late == "the last load (2026-12-06 21:23 UTC) is older than refresh: 1h"
    assert "\\x1b" in loaders.load_reason(
        LoadState.from_row({**FAILED, "update_errors": "bad\x1b[2J"}), None, ""
    )


def test_gaps_name_each_package_and_architecture() -> None:
    expect = Expectations(("GROMACS", "Salmon"), ("x86_64/amd/zen3", "aarch64/a64fx"), 6)
    contents = {"GROMACS": frozenset({"x86_64/amd/zen3"})}
    assert loaders.gaps(expect, 5, contents) == [
        "5 packages, at least 6 expected",
        "package GROMACS has no build for aarch64/a64fx",
        "package Salmon is missing",
    ]


def test_the_plan_loads_what_needs_it_and_never_plans_the_contents(tmp_path: Path) -> None:
    desired = load_desired(
        [write(tmp_path, 'catalogs:\n  - name: EESSI\n    version: "2023.06"\n    loader: eessi\n')]
    )
    key = catalog_key("EESSI", "2023.06")
    observed = ObservedState(loads={key: LoadState.from_row(FAILED)})
    plan = make_plan(desired, observed)
    assert [(c.action, c.key) for c in plan.changes] == [(Action.CREATE, key), (Action.LOAD, key)]
    assert "failed" in plan.loaders[key] and plan.load_phases[key] == "failed"
    assert any("syncs it with the EESSI source" in note for note in plan.notes)


# -- detecting the actions ---------------------------------------------------------------------
def client(handler) -> WaldurClient:
    config = ClientConfig(api_url=API, token=Secret("t0ken"), backoff_seconds=0.001)
    return WaldurClient(config, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"import_catalog/": (200, OPTIONS_IMPORT)}, ""),
        ({"import_catalog/": (404, {"detail": "Not found."})}, "answered 404"),
        ({"import_catalog/": (405, {"detail": "no"})}, "answered 405"),
        (  # an older server routes the path as a catalog's detail: no POST there, staff
            {"import_catalog/": (200, OPTIONS_NON_STAFF), "": (200, OPTIONS_IMPORT)},
            "lists no POST for staff",
        ),
        (  # not staff: it cannot be told
            {"import_catalog/": (200, OPTIONS_NON_STAFF), "": (200, OPTIONS_NON_STAFF)},
            None,
        ),
    ],
)
def test_the_actions_are_detected_from_options(answers, expected) -> None:
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        tail = request.url.path.removeprefix("/api/marketplace-software-catalogs/")
        status, body = answers[tail]
        return httpx.Response(status, json=body)

    with client(handle) as c:
        found = loader_actions(c)
    assert seen and set(seen) == {"OPTIONS"}  # nothing is written to find out
    if expected is None or expected == "":
        assert found == expected
    else:
        assert found is not None and expected in found


# -- what a wait costs --------------------------------------------------------------------------
class ScaledServer:
    """A load that takes `seconds` of a fake clock after the POST; counts the requests."""

    def __init__(self, seconds: float, row: dict) -> None:
        self.now = 0.0
        self.seconds = seconds
        self.sent_at: float | None = None
        self.row = dict(row)
        self.requests: list[str] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, _event: threading.Event, seconds: float) -> bool:
        self.now += seconds
        return False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.method)
        if request.method == "POST":
            self.sent_at = self.now
            self.row["last_update_attempt"] = "2026-12-07T00:00:00Z"
            return httpx.Response(202, json={"status": "updating"})
        if self.sent_at is not None and self.now - self.sent_at >= self.seconds:
            self.row["last_successful_update"] = "2026-12-07T00:01:00Z"
        return httpx.Response(200, json=self.row)


def run(server: ScaledServer, timeout: float) -> str:
    from reconciler.core.plan import Change

    change = Change(Action.LOAD, catalog_key("EESSI", "2023.06"), before=LOADED, url=ROW)
    options = LoadOptions(timeout=timeout, clock=server.clock, sleep=server.sleep)
    with client(server.handle) as c:
        outcome = run_load(c, change, ROW, options, threading.Event())
    return outcome.status


def test_a_sixty_second_load_costs_at_most_fifteen_requests() -> None:
    server = ScaledServer(60, LOADED)
    assert run(server, 600) == "done"
    assert server.requests[0] == "POST" and len(server.requests) <= 15
    assert len(server.requests) == 9  # the POST and 8 looks (2, 5, 9.5, 16, 26, 41, 56, 71 s)


def test_past_the_timeout_it_is_still_loading_and_the_daemon_does_not_wait() -> None:
    assert run(ScaledServer(60, LOADED), 30) == "loading"
    server = ScaledServer(60, LOADED)
    assert run(server, 0) == "loading" and server.requests == ["POST"]


def test_a_load_goes_to_the_url_built_from_the_uuid_never_the_rows_own(tmp_path: Path) -> None:
    """A row whose `url` names another catalog (the server's, or a proxy's, word) would make the
    load's POST and polls sync that other catalog; the URL comes from the API URL and the uuid."""
    from reconciler.remote.observe import observe

    other = API + "marketplace-software-catalogs/" + "f" * 32 + "/"
    row = {**FRESH, "url": other}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[row], headers={"X-Result-Count": "1"})

    desired = load_desired(
        [write(tmp_path, 'catalogs:\n  - name: EESSI\n    version: "2023.06"\n    loader: eessi\n')]
    )
    with client(handle) as c:
        observed = observe(c, desired)
    key = catalog_key("EESSI", "2023.06")
    assert observed.loads[key].url == ROW
    load = next(ch for ch in make_plan(desired, observed).changes if ch.action is Action.LOAD)
    assert load.url == ROW and other not in str(load.before)


def test_a_token_echoed_in_a_long_error_is_masked_before_the_text_is_cut() -> None:
    token = Secret("0123456789abcdef0123456789abcdef01234567")  # registers itself
    secret = token.get_secret_value()
    shown = loaders.clean("x" * (loaders.MAX_TEXT - 20) + secret)
    assert len(shown) <= loaders.MAX_TEXT
    assert secret[:12] not in shown  # no half of the token survives the cut


def test_a_loader_catalogs_contents_are_reduced_page_by_page() -> None:
    """What the expectations need (CPU architectures per package, the first target's
    dialect), as the pages arrive; a raw page is emptied once taken, a re-read starts afresh."""
    from reconciler.remote.observe import Contents

    def pkg(name: str, *targets: dict) -> dict:
        return {"name": name, "versions": [{"targets": list(targets)}]}

    cpu = {"target_type": "cpu_architecture", "target_name": "x86_64", "target_subtype": "zen3"}
    gpu = {"target_type": "gpu_architecture", "target_name": "nvidia", "target_subtype": "cc90"}
    contents = Contents()
    first, second = [pkg("A"), pkg("B", cpu, gpu)], [pkg("C", cpu)]
    contents.take(first)
    contents.take(second)
    assert first == [] and second == []
    assert contents.found == {
        "A": frozenset(),
        "B": frozenset({"x86_64/zen3"}),
        "C": frozenset({"x86_64/zen3"}),
    }
    assert contents.dialect == "current"
    contents.restart()
    assert contents.found == {} and contents.dialect is None
