"""An offering's software catalogs: `add_software_catalog`, `update_software_catalog`,
`remove_software_catalog`, links gone with their catalog, and the `offering_uuid` filter, as
recorded (samples `b`, `c`, `d`, `e`, `h` and `p`).

Partitions are not supported by the sim (its offerings have none): a link's `partition` is
null, and naming a partition is refused as upstream refuses an unknown one. So where the
recording used real partitions (122, 126), the sim's answer differs from the recorded one, as
asserted below; 123, 125 and 128 are not replayed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.sim.helpers import UUID_RE, Api, auth
from tests.sim.recording import Recording, assert_as_recorded, recorded_ids
from tests.sim.samples import load

ADD_SAMPLES = tuple(range(9, 29))
UPDATE_SAMPLES = tuple(range(46, 60))
REMOVE_SAMPLES = (84, 85, 86, 87, 89, 91, 92, 93, 95, 96)
CATALOG_DELETE_SAMPLES = (118, 121)
OFFERING_UUID_SAMPLES = (74, 75, 76, 77, 78, 79, 80, 81, 82)
NO_LINK = {"error": "Software catalog association not found"}


@pytest.mark.parametrize(
    "number",
    [*ADD_SAMPLES, *UPDATE_SAMPLES, *REMOVE_SAMPLES, *CATALOG_DELETE_SAMPLES],
)
def test_link_actions_answer_as_recorded(recording: Recording, number: int) -> None:
    assert_as_recorded(load(number), recording.answers[number], recording.sim.base_url)


@pytest.mark.parametrize("number", OFFERING_UUID_SAMPLES)
def test_the_offering_uuid_filter_answers_as_recorded(recording: Recording, number: int) -> None:
    """The linked catalogs' objects; the links' CPU lists are not applied (79: a package built
    for neoverse_v1 is listed for an offering that enabled other microarchitectures)."""
    assert_as_recorded(load(number), recording.answers[number], recording.sim.base_url)


def test_link_uuids_are_32_hex_digits(recording: Recording) -> None:
    for number in (9, 11, 13, 19, 20, 21, 22, 25):
        assert UUID_RE.match(recording.answers[number].json()["uuid"])


def test_the_cross_offering_removal_is_upstreams(recording: Recording) -> None:
    """89 and 93: a link of offering B is removed through offering A (an owner of A's
    organisation did the second), as upstream does: a client must not rely on it."""
    before = {link["uuid"] for link in recording.answers[88].json()["software_catalogs"]}
    after = {link["uuid"] for link in recording.answers[94].json()["software_catalogs"]}
    removed = {recording.ids[request_of(load(n))["offering_catalog_uuid"]] for n in (89, 93)}
    assert removed <= before and not removed & after


# -- partitions (samples `p` and 55) -----------------------------------------------------------


def test_an_unknown_partition_is_refused_as_recorded(recording: Recording) -> None:
    base = recording.sim.base_url
    assert_as_recorded(load(55), recording.answers[55], base)  # replayed in order
    sample = load(127)
    assert_as_recorded(sample, recording.send(sample), base)


def test_partitions_of_the_recording_do_not_exist_in_the_sim(recording: Recording) -> None:
    """122 and 126 linked catalogs with partitions the recording made in the database (of the
    same offering and of another one): upstream answered 201; the sim has no partitions and
    answers what upstream answers for a partition that does not exist (as in 55 and 127)."""
    _, ids = recorded_ids()
    for number, partition in ((122, ids["partitions"]["offering"]), (126, None)):
        sample = load(number)
        assert sample.status == 201
        partition = partition or request_of(sample)["partition"]
        response = recording.send(sample)
        assert (response.status_code, response.json()) == (
            400,
            {"partition": [f"Object with uuid={partition} does not exist."]},
        )


def request_of(sample: Any) -> Any:
    return json.loads(sample.request_body)


def test_setting_no_partition_answers_as_recorded(recording: Recording) -> None:
    """124 (partition set to null) on the link 122 made, made here without a partition: the
    link object as recorded, without `partition_name` (upstream adds it only for a link with a
    partition)."""
    made, sample = request_of(load(122)), load(124)
    offering = recording.ids[recorded_ids()[0]["offering"]]
    made = {key: value for key, value in made.items() if key != "partition"}
    added = httpx.post(
        f"{recording.sim.api_url}marketplace-provider-offerings/{offering}/add_software_catalog/",
        headers=recording.staff(),
        json=json.loads(recording.translate(json.dumps(made))),
    )
    assert added.status_code == 201
    recording.ids[load(122).json()["uuid"]] = added.json()["uuid"]
    response = recording.send(sample)
    assert_as_recorded(sample, response, recording.sim.base_url)
    assert "partition_name" not in response.json()


# -- what the recording does not show ------------------------------------------------------------


@pytest.fixture
def offering(recording: Recording) -> str:
    return recording.ids[recorded_ids()[0]["offering"]]


def action(
    recording: Recording,
    offering: str,
    name: str,
    body: Any,
    method: str = "POST",
    who: str = "staff",
) -> httpx.Response:
    sim = recording.sim
    url = f"{sim.api_url}marketplace-provider-offerings/{offering}/{name}/"
    return httpx.request(method, url, headers=auth(sim, who), json=body)


def test_cpu_values_are_stored_as_sent_and_only_their_shape_is_checked(
    recording: Recording, offering: str
) -> None:
    catalog = Api(recording.sim).catalog()
    values = {
        "catalog": catalog["uuid"],
        "enabled_cpu_family": [" x86_64 ", 7, "ñ"],
        "enabled_cpu_microarchitectures": ["zen9", "zen9"],
    }
    link = action(recording, offering, "add_software_catalog", values).json()["uuid"]
    patched = action(
        recording, offering, "update_software_catalog", {"offering_catalog_uuid": link}, "PATCH"
    )
    assert patched.json()["enabled_cpu_family"] == ["x86_64", "7", "ñ"]
    assert patched.json()["enabled_cpu_microarchitectures"] == ["zen9", "zen9"]
    wrong = action(
        recording,
        offering,
        "update_software_catalog",
        {
            "offering_catalog_uuid": link,
            "enabled_cpu_family": ["", None],
            "enabled_cpu_microarchitectures": None,
        },
        "PATCH",
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "enabled_cpu_family": {
            "0": ["This field may not be blank."],
            "1": ["This field may not be null."],
        },
        "enabled_cpu_microarchitectures": ["This field may not be null."],
    }


def test_add_body_errors(recording: Recording, offering: str) -> None:
    answers = {
        "null catalog": action(recording, offering, "add_software_catalog", {"catalog": None}),
        "a list": action(recording, offering, "add_software_catalog", ["x"]),
        "number": action(recording, offering, "add_software_catalog", {"catalog": 5}),
    }
    assert answers["null catalog"].json() == {"catalog": ["This field may not be null."]}
    assert answers["a list"].json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    assert answers["number"].json() == {"catalog": ["Object with uuid=5 does not exist."]}
    assert {response.status_code for response in answers.values()} == {400}
    catalog = Api(recording.sim).catalog()
    accepted = action(
        recording, offering, "add_software_catalog", {"catalog": catalog["uuid"], "partition": None}
    )
    assert accepted.status_code == 201


def test_a_link_may_move_to_a_catalog_its_offering_does_not_link(
    recording: Recording, offering: str
) -> None:
    api = Api(recording.sim)
    first, second = api.catalog(), api.catalog()
    link = action(recording, offering, "add_software_catalog", {"catalog": first["uuid"]})
    moved = action(
        recording,
        offering,
        "update_software_catalog",
        {"offering_catalog_uuid": link.json()["uuid"], "catalog": second["uuid"]},
        "PATCH",
    )
    assert (moved.status_code, moved.json()["catalog"]) == (200, second["uuid"])
    assert moved.json()["catalog_name"] == second["name"]
    unknown = action(
        recording,
        offering,
        "update_software_catalog",
        {"offering_catalog_uuid": link.json()["uuid"], "catalog": "nope"},
        "PATCH",
    )
    assert unknown.json() == {"catalog": ["Object with uuid=nope does not exist."]}


def test_a_body_that_is_no_object_is_an_unhandled_error_for_update_and_remove(
    recording: Recording, offering: str
) -> None:
    """Upstream reads `offering_catalog_uuid` with `request.data.get` (not recorded)."""
    for name, method in (("update_software_catalog", "PATCH"), ("remove_software_catalog", "POST")):
        response = action(recording, offering, name, [1], method)
        assert response.status_code == 500
        assert response.headers["Content-Type"].startswith("text/html")
        missing = action(
            recording, offering, name, {"offering_catalog_uuid": uuid.uuid4().hex}, method
        )
        assert (missing.status_code, missing.json()) == (404, NO_LINK)


def test_a_user_without_a_role_cannot_touch_links(recording: Recording, offering: str) -> None:
    response = action(
        recording,
        offering,
        "remove_software_catalog",
        {"offering_catalog_uuid": uuid.uuid4().hex},
        who="user",
    )
    assert response.json() == {"detail": "No Offering matches the given query."}
    wrong_method = action(recording, offering, "add_software_catalog", None, "PUT", "user")
    assert wrong_method.status_code == 405


def test_deleting_a_catalog_removes_its_links_everywhere(
    recording: Recording, offering: str
) -> None:
    api = Api(recording.sim)
    catalog = api.catalog()
    action(recording, offering, "add_software_catalog", {"catalog": catalog["uuid"]})
    listed = api.get(f"{recording.sim.api_url}marketplace-provider-offerings/{offering}/", "staff")
    assert catalog["uuid"] in {link["catalog"]["uuid"] for link in listed["software_catalogs"]}
    assert api.request("DELETE", api.detail("catalog", catalog["uuid"])).status_code == 204
    listed = api.get(f"{recording.sim.api_url}marketplace-provider-offerings/{offering}/", "staff")
    assert catalog["uuid"] not in {link["catalog"]["uuid"] for link in listed["software_catalogs"]}


def test_offering_uuid_filters_versions_and_targets(recording: Recording, offering: str) -> None:
    api = Api(recording.sim)
    for kind in ("version", "target"):
        bad = api.list(kind, offering_uuid="zzz")
        assert (bad.status_code, bad.json()) == (400, {"offering_uuid": ["Enter a valid UUID."]})
        assert api.list(kind, offering_uuid=uuid.uuid4().hex).json() == []
    catalog = api.catalog()
    package = api.package(catalog)
    api.create("target", version=api.version(package)["url"], target_name="x86_64")
    other = api.catalog()
    api.create("target", version=api.version(api.package(other))["url"], target_name="x86_64")
    link = action(recording, offering, "add_software_catalog", {"catalog": catalog["uuid"]})
    assert link.status_code == 201
    packages = {p["uuid"] for p in api.items("package", offering_uuid=offering)}
    assert package["uuid"] in packages
    assert len(api.items("package", offering_uuid=offering, catalog_uuid=catalog["uuid"])) == 1
    assert api.items("package", offering_uuid=offering, catalog_uuid=other["uuid"]) == []
