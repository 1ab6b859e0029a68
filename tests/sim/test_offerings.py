"""Provider offerings: list, detail, filters, who sees what and OPTIONS, as recorded (samples
`a`, the offering details of `c`, `d` and `e`, and `g` 109 to 113), and `--offering` itself.

The recorded session is replayed in order by the `recording` fixture (see `recording.py`, which
also lists the differences kept on purpose: the organisations' and category's names)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sim.helpers import AS_SCHEMA_3, NOT_PROVIDED, UUID_RE, Api, auth, unique
from tests.sim.recording import OFFERING_A, OFFERING_B, Recording, assert_as_recorded
from tests.sim.samples import load
from waldur_sim.auth import OTHER_PROVIDER, PROVIDER
from waldur_sim.launcher import SimProcess, SimProcessError
from waldur_sim.schema import SCHEMA_VERSION
from waldur_sim.server import main

#: Offering lists and details: before any link (08), after the links were added (29 to 45),
#: updated (60), removed (88, 90, 94) and their catalog deleted (117, 119, 120).
OFFERING_SAMPLES = (8, *range(29, 38), *range(39, 46), 60, 88, 90, 94, 117, 119, 120)
OPTIONS_SAMPLES = (109, 110, 111, 112, 113)
OFFERINGS = "marketplace-provider-offerings"
NO_OFFERING = {"detail": "No Offering matches the given query."}


def offerings_url(sim: SimProcess, *parts: str) -> str:
    return f"{sim.api_url}{OFFERINGS}/" + "".join(f"{part}/" for part in parts)


def listed(sim: SimProcess, who: str | None = "staff", **params: str) -> httpx.Response:
    return httpx.get(offerings_url(sim), headers=auth(sim, who), params=params)


def uuid_of(sim: SimProcess, name: str) -> str:
    (offering,) = listed(sim, name_exact=name).json()
    return str(offering["uuid"])


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """Three offerings of the owner's organisation and one of another."""
    args = ["--offering", "Beta", "--offering", "alpha", "--offering", "Gamma"]
    with SimProcess(*args, "--other-offering", "Delta") as process:
        yield process


# -- as recorded ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", OFFERING_SAMPLES)
def test_offerings_answer_as_recorded(recording: Recording, number: int) -> None:
    assert_as_recorded(load(number), recording.answers[number], recording.sim.base_url)


@pytest.mark.parametrize("number", OPTIONS_SAMPLES)
def test_offering_options_answer_as_recorded(recording: Recording, number: int) -> None:
    sample, response = load(number), recording.answers[number]
    assert_as_recorded(sample, response, recording.sim.base_url)
    assert response.content == sample.body  # byte for byte: fields, attributes, order


def test_a_list_leaves_out_the_totals_a_detail_shows(recording: Recording) -> None:
    listed_a = next(o for o in load(29).json() if o["name"] == OFFERING_A)
    detail = load(33).json()
    assert set(detail) - set(listed_a) == {"total_customers", "total_cost", "total_cost_estimated"}
    assert set(recording.answers[33].json()) - set(recording.answers[29].json()[1]) == set(
        detail
    ) - set(listed_a)


# -- who sees what ----------------------------------------------------------------------------


def test_staff_see_every_offering_by_name(sim: SimProcess) -> None:
    response = listed(sim)
    assert [o["name"] for o in response.json()] == ["Beta", "Delta", "Gamma", "alpha"]
    assert response.headers["X-Result-Count"] == "4"
    assert all(UUID_RE.match(o["uuid"]) for o in response.json())


def test_the_owner_sees_the_offerings_of_the_organisation(sim: SimProcess) -> None:
    offerings = listed(sim, "owner").json()
    assert [o["name"] for o in offerings] == ["Beta", "Gamma", "alpha"]
    assert {o["customer_uuid"] for o in offerings} == {PROVIDER.uuid}
    assert {o["customer_name"] for o in offerings} == {PROVIDER.name}
    other = uuid_of(sim, "Delta")
    response = httpx.get(offerings_url(sim, other), headers=auth(sim, "owner"))
    assert (response.status_code, response.json()) == (404, NO_OFFERING)


def test_a_user_without_a_role_sees_none_and_anonymous_is_refused(sim: SimProcess) -> None:
    assert listed(sim, "user").json() == []
    beta = uuid_of(sim, "Beta")
    response = httpx.get(offerings_url(sim, beta), headers=auth(sim, "user"))
    assert (response.status_code, response.json()) == (404, NO_OFFERING)
    for url in (offerings_url(sim), offerings_url(sim, beta)):
        response = httpx.get(url)
        assert (response.status_code, response.json()) == (401, NOT_PROVIDED)
        assert response.headers["WWW-Authenticate"] == "Token"
    bad = httpx.get(offerings_url(sim), headers={"Authorization": "Token nope"})
    assert bad.status_code == 401


def test_a_malformed_or_unknown_uuid_is_a_404(sim: SimProcess) -> None:
    malformed = httpx.get(offerings_url(sim, "not-a-uuid"), headers=auth(sim, "staff"))
    assert (malformed.status_code, malformed.json()) == (404, {"detail": "Not found."})
    unknown = httpx.get(offerings_url(sim, uuid.uuid4().hex), headers=auth(sim, "staff"))
    assert (unknown.status_code, unknown.json()) == (404, NO_OFFERING)


def test_offerings_themselves_are_not_written(sim: SimProcess) -> None:
    """Upstream lists PUT, PATCH, DELETE (and POST on the list) in `Allow`; the sim's offerings
    come from `--offering` only, and those methods answer 405 (after the lookup)."""
    beta = uuid_of(sim, "Beta")
    for method in ("PUT", "PATCH", "DELETE"):
        response = httpx.request(method, offerings_url(sim, beta), headers=auth(sim, "staff"))
        assert response.status_code == 405
        assert response.json() == {"detail": f'Method "{method}" not allowed.'}
        assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
        hidden = httpx.request(method, offerings_url(sim, beta), headers=auth(sim, "user"))
        assert hidden.status_code == 404
    created = httpx.post(offerings_url(sim), headers=auth(sim, "staff"), json={"name": "x"})
    assert created.status_code == 405
    assert created.headers["Allow"] == "GET, POST, HEAD, OPTIONS"


# -- filters, ordering, pages, field selection --------------------------------------------------


def test_name_contains_any_case_and_name_exact_is_exact(sim: SimProcess) -> None:
    assert [o["name"] for o in listed(sim, name="ALPH").json()] == ["alpha"]
    assert [o["name"] for o in listed(sim, name_exact="alpha").json()] == ["alpha"]
    assert listed(sim, name_exact="Alpha").json() == []
    assert len(listed(sim, name="").json()) == 4  # an empty value is ignored


def test_customer_uuid_uuid_list_and_state(sim: SimProcess) -> None:
    other = listed(sim, customer_uuid=str(uuid.UUID(OTHER_PROVIDER.uuid))).json()
    assert [o["name"] for o in other] == ["Delta"]
    bad = listed(sim, customer_uuid="zzz")
    assert (bad.status_code, bad.json()) == (400, {"customer_uuid": ["Enter a valid UUID."]})
    two = ",".join([uuid_of(sim, "Gamma"), "not-a-uuid", uuid_of(sim, "Beta")])
    assert [o["name"] for o in listed(sim, uuid_list=two).json()] == ["Beta", "Gamma"]
    assert len(listed(sim, state="Active").json()) == 4
    assert listed(sim, state="Draft").json() == []
    bad = listed(sim, state="Busy")
    assert bad.status_code == 400
    assert bad.json() == {
        "state": ["Select a valid choice. Busy is not one of the available choices."]
    }
    assert listed(sim, catalog_uuid=uuid.uuid4().hex).headers["X-Result-Count"] == "4"


def test_ordering_and_pages(sim: SimProcess) -> None:
    names = [o["name"] for o in listed(sim, o="-name").json()]
    assert names == ["alpha", "Gamma", "Delta", "Beta"]
    created = [o["name"] for o in listed(sim, o="created").json()]
    assert created == ["Beta", "alpha", "Gamma", "Delta"]
    bad = listed(sim, o="size")
    assert (bad.status_code, bad.json()) == (
        400,
        {"o": ["Select a valid choice. size is not one of the available choices."]},
    )
    page = listed(sim, page_size="1", page="2")
    assert [o["name"] for o in page.json()] == ["Delta"]
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]
    assert listed(sim, page="9").status_code == 404
    head = httpx.head(offerings_url(sim), headers=auth(sim, "staff"))
    assert (head.status_code, head.headers["X-Result-Count"], head.content) == (200, "4", b"")


def test_field_selection_keeps_the_serializer_order(sim: SimProcess) -> None:
    chosen = listed(sim, field=["software_catalogs", "name", "nonsense"], name_exact="Beta")
    assert chosen.json() == [{"name": "Beta", "software_catalogs": []}]
    detail = httpx.get(
        offerings_url(sim, uuid_of(sim, "Beta")),
        headers=auth(sim, "staff"),
        params={"field": ["uuid", "state"]},
    )
    assert list(detail.json()) == ["uuid", "state"]


def test_an_offering_is_a_fresh_basic_offering(sim: SimProcess) -> None:
    beta = uuid_of(sim, "Beta")
    body = httpx.get(offerings_url(sim, beta), headers=auth(sim, "staff")).json()
    recorded = load(8).json()
    assert list(body) == list(recorded)  # every field, in upstream's order
    assert (body["slug"], body["state"], body["type"]) == ("beta-1", "Active", "Marketplace.Basic")
    assert body["url"] == offerings_url(sim, beta)
    assert body["customer"] == f"{sim.api_url}customers/{PROVIDER.uuid}/"
    same = {k for k in recorded if recorded[k] == body[k]}
    differing = set(recorded) - same
    assert differing == {
        "url",
        "uuid",
        "created",
        "name",
        "slug",
        "customer",
        "customer_uuid",
        "customer_name",
        "category",
        "category_uuid",
        "category_title",
    }


# -- OPTIONS the recording does not show ----------------------------------------------------------


def options(sim: SimProcess, who: str | None, *parts: str) -> httpx.Response:
    return httpx.request("OPTIONS", offerings_url(sim, *parts), headers=auth(sim, who))


def test_options_of_the_list_and_the_actions(sim: SimProcess) -> None:
    beta, delta = uuid_of(sim, "Beta"), uuid_of(sim, "Delta")
    staff = options(sim, "staff").json()
    assert staff["name"] == "Provider Offering List"
    assert staff["actions"]["POST"] == load(113).json()["actions"]["POST"]
    assert "actions" not in options(sim, "user").json()
    assert options(sim, None).status_code == 401
    update = options(sim, "staff", beta, "update_software_catalog")
    assert (update.json()["name"], update.headers["Allow"]) == (
        "Update software catalog",
        "PATCH, OPTIONS",
    )
    assert "actions" not in update.json()
    remove = options(sim, "owner", beta, "remove_software_catalog").json()
    assert (remove["name"], list(remove["actions"])) == ("Remove software catalog", ["POST"])
    assert "actions" not in options(sim, "owner", delta, "add_software_catalog").json()
    assert "actions" not in options(sim, "owner", delta).json()
    assert "actions" not in options(sim, "staff", uuid.uuid4().hex).json()


# -- --offering, the database, statistics and faults ---------------------------------------------


def test_offerings_are_kept_across_restarts_and_not_created_twice(tmp_path: Path) -> None:
    db = tmp_path / "sim.sqlite3"
    with SimProcess("--offering", "HPC", db=db) as first:
        before = listed(first).json()
        api = Api(first)
        catalog = api.catalog()
        link = httpx.post(
            offerings_url(first, before[0]["uuid"], "add_software_catalog"),
            headers=auth(first, "staff"),
            json={"catalog": catalog["uuid"]},
        )
        assert link.status_code == 201
        api.close()
    with SimProcess("--offering", "HPC", "--offering", "HPC", "--offering", "More", db=db) as again:
        after = listed(again).json()
    assert [o["name"] for o in after] == ["HPC", "More"]
    assert (after[0]["uuid"], after[0]["created"]) == (before[0]["uuid"], before[0]["created"])
    assert [link["uuid"] for link in after[0]["software_catalogs"]] == [link.json()["uuid"]]
    assert after[1]["slug"] == "more-1"


def test_a_version_2_database_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "v2.sqlite3"
    with SimProcess(db=db) as sim:
        api = Api(sim)
        catalog = api.catalog(name=unique("old"))
        api.close()
    with sqlite3.connect(db) as conn:  # what waldur-sim with schema version 2 wrote
        conn.executescript(
            f"DROP TABLE offering_catalog; DROP TABLE offering; {AS_SCHEMA_3}"
            "PRAGMA user_version = 2;"
        )
    with SimProcess("--offering", "HPC", db=db) as sim:
        assert [o["name"] for o in listed(sim).json()] == ["HPC"]
        assert Api(sim).get(Api(sim).detail("catalog", catalog["uuid"]))["name"] == catalog["name"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_offering_requests_are_counted_and_faulted_as_kind_offering() -> None:
    args = ("--offering", "HPC", "--fault-kinds", "offering", "--fault-rate", "1")
    with SimProcess(*args, "--fault-seed", "1") as sim:
        assert listed(sim).status_code in (500, 502, 503, 504)
        assert httpx.get(f"{sim.api_url}marketplace-software-catalogs/").status_code == 200
        stats = httpx.get(f"{sim.api_url}_sim/stats/").json()
    assert stats["kinds"]["offering"] == {"GET": 1}
    assert stats["faults"]["error"] == 1


def test_the_owner_token_comes_from_the_environment_and_tokens_differ(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SimProcess("--offering", "HPC", owner_token="owner-secret") as sim:
        assert len(listed(sim, "owner").json()) == 1
        me = httpx.get(f"{sim.api_url}users/me/", headers=auth(sim, "owner")).json()
        assert me["username"] == "sim-owner" and "is_staff" not in me
    assert main(["--owner-token", "sim-staff-token", "--port", "0"]) == 2
    assert "must differ" in capsys.readouterr().err
    with pytest.raises(SimProcessError):
        SimProcess("--offering", "x", owner_token="sim-user-token", startup_timeout=10).start()


def test_the_recorded_names_are_the_only_renaming() -> None:
    """What `recording.expected` renames is exactly the organisations and the category."""
    a, b = load(33).json(), load(37).json()
    assert (a["name"], b["name"]) == (OFFERING_A, OFFERING_B)
    assert (a["customer_name"], b["customer_name"]) == ("Peer Provider Org", "Peer Other Org")
    assert a["category_title"] == b["category_title"] == "Peer HPC"
