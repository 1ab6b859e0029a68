"""OPTIONS: DRF's metadata, exactly as the recorded upstream server answers it (samples 97 to 108),
and in the other profiles a truthful description of what the sim accepts."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sim.helpers import NOT_PROVIDED, SEGMENTS, Api, auth, unique
from tests.sim.samples import compared_headers, load, replay
from waldur_sim.launcher import SimProcess

KINDS = tuple(SEGMENTS)
#: Sample numbers of OPTIONS on the four list endpoints: (staff, non-staff, anonymous).
OPTIONS_SAMPLES = {"catalog": (97, 98, 99), "package": (100, 101, 102)}
OPTIONS_SAMPLES |= {"version": (103, 104, 105), "target": (106, 107, 108)}
#: Fields the current profile shows and the legacy one (the published docs) does not.
CURRENT_ONLY = {
    "catalog": {
        "supports_cpu_target_restrictions",
        "last_update_attempt",
        "last_successful_update",
        "update_errors",
    },
    "package": {
        "categories",
        "licenses",
        "maintainers",
        "parent_softwares",
        "extensions",
        "catalog_type",
        "catalog_type_display",
        "extension_count",
    },
}
MODULE_FIELDS = ("module", "required_modules", "extensions", "toolchain")
MODULE_FIELDS += ("toolchain_families_compatibility",)
#: Parent links: written, never shown in a body.
WRITE_ONLY = {"version": {"package"}, "target": {"version"}}


def options(
    sim: SimProcess, kind: str, who: str | None = "staff", uuid: str = ""
) -> httpx.Response:
    url = f"{sim.api_url}{SEGMENTS[kind]}/{uuid + '/' if uuid else ''}"
    return httpx.request("OPTIONS", url, headers=auth(sim, who))


def post_fields(sim: SimProcess, kind: str) -> dict[str, Any]:
    response = options(sim, kind)
    assert response.status_code == 200, response.text
    return response.json()["actions"]["POST"]


def recorded_fields(kind: str) -> dict[str, Any]:
    return load(OPTIONS_SAMPLES[kind][0]).json()["actions"]["POST"]


def link(label: str) -> dict[str, Any]:
    return {"type": "field", "required": True, "read_only": False, "label": label}


def string(label: str, max_length: int, required: bool = True) -> dict[str, Any]:
    info = {"type": "string", "required": required, "read_only": False, "label": label}
    return info | {"max_length": max_length}


def without(fields: dict[str, Any], names: set[str] | tuple[str, ...]) -> dict[str, Any]:
    return {name: info for name, info in fields.items() if name not in names}


@pytest.fixture(scope="module")
def legacy_readonly() -> Iterator[SimProcess]:
    with SimProcess("--read-only-kinds", "version,target") as sim:
        yield sim


# -- the recorded profile: byte for byte ------------------------------------------------------


@pytest.mark.parametrize("number", [n for kind in KINDS for n in OPTIONS_SAMPLES[kind]])
def test_options_answers_as_recorded(recorded_sim: SimProcess, number: int) -> None:
    sample = load(number)
    response = replay(recorded_sim, sample)
    assert response.status_code == sample.status
    assert response.content == sample.body  # the same bytes: fields, attributes, order
    assert compared_headers(response.headers, recorded_sim.base_url) == compared_headers(
        sample.headers
    )


def test_recorded_staff_answers_show_every_version_and_target_field_read_only() -> None:
    for kind in ("version", "target"):
        assert all(info["read_only"] for info in recorded_fields(kind).values())


# -- who sees what, in every profile -----------------------------------------------------------


@pytest.mark.parametrize("profile", ["legacy", "current", "recorded"])
def test_non_staff_gets_no_actions_and_anonymous_401(
    request: pytest.FixtureRequest, profile: str
) -> None:
    sim = {
        "legacy": lambda: request.getfixturevalue("legacy_sim"),
        "current": lambda: request.getfixturevalue("current_api").sim,
        "recorded": lambda: request.getfixturevalue("recorded_sim"),
    }[profile]()
    for kind in KINDS:
        staff, user = options(sim, kind).json(), options(sim, kind, "user").json()
        assert "actions" not in user
        assert user == without(staff, {"actions"})
        anonymous = options(sim, kind, None)
        assert (anonymous.status_code, anonymous.json()) == (401, NOT_PROVIDED)
        assert anonymous.headers["WWW-Authenticate"] == "Token"


def test_an_invalid_token_is_401(legacy_sim: SimProcess) -> None:
    url = f"{legacy_sim.api_url}{SEGMENTS['catalog']}/"
    response = httpx.request("OPTIONS", url, headers={"Authorization": "Token nope"})
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_detail_options_describe_put_when_the_object_exists(api: Api) -> None:
    catalog = api.catalog()
    response = options(api.sim, "catalog", uuid=catalog["uuid"])
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    body = response.json()
    assert body["name"] == "Software Catalog Instance"
    assert body["actions"] == {"PUT": post_fields(api.sim, "catalog")}
    for lookup in ("0" * 32, "not-a-uuid"):  # DRF drops `actions` when the lookup fails
        missing = options(api.sim, "catalog", uuid=lookup)
        assert missing.status_code == 200
        assert "actions" not in missing.json()
    assert "actions" not in options(api.sim, "catalog", "user", catalog["uuid"]).json()


# -- legacy: the documented API, versions and targets writable ---------------------------------


def test_legacy_catalogs_and_packages_are_the_recorded_ones_without_current_fields(
    legacy_sim: SimProcess,
) -> None:
    expected = without(recorded_fields("catalog"), CURRENT_ONLY["catalog"])
    assert list(post_fields(legacy_sim, "catalog").items()) == list(expected.items())

    expected = without(recorded_fields("package"), CURRENT_ONLY["package"])
    embedded = copy.deepcopy(expected["versions"]["child"]["children"])
    embedded = without(embedded, MODULE_FIELDS)
    embedded["targets"]["child"]["children"] = {
        "uuid": embedded["targets"]["child"]["children"]["uuid"],
        "cpu_family": string("Cpu family", 100),
        "cpu_microarchitecture": string("Cpu microarchitecture", 100),
        "path": string("Path", 500, required=False),
    }
    expected["versions"]["child"]["children"] = embedded
    assert list(post_fields(legacy_sim, "package").items()) == list(expected.items())


def test_legacy_versions_and_targets_are_writable_with_the_legacy_fields(
    legacy_sim: SimProcess,
) -> None:
    recorded = recorded_fields("version")
    head = {name: recorded[name] for name in ("url", "uuid", "created", "modified")}
    nested = recorded_fields("package")["versions"]["child"]["children"]  # the model's limits
    expected = head | {"package": link("Package")}
    expected |= {name: nested[name] for name in ("version", "module_version", "release_date")}
    expected["package_name"] = recorded["package_name"]
    assert list(post_fields(legacy_sim, "version").items()) == list(expected.items())

    expected = head | {
        "version": link("Version"),
        "cpu_family": string("Cpu family", 100),
        "cpu_microarchitecture": string("Cpu microarchitecture", 100),
        "path": string("Path", 500, required=False),
    }
    assert list(post_fields(legacy_sim, "target").items()) == list(expected.items())


def test_read_only_kinds_in_the_legacy_profile(legacy_readonly: SimProcess) -> None:
    for kind, names in (
        ("version", ["version", "module_version", "release_date", "package_name"]),
        ("target", ["cpu_family", "cpu_microarchitecture", "path"]),
    ):
        fields = post_fields(legacy_readonly, kind)
        assert list(fields) == ["url", "uuid", "created", "modified", *names]  # no parent field
        for info in fields.values():
            assert (info["read_only"], info["required"]) == (True, False)
            assert "max_length" not in info and "choices" not in info
    assert post_fields(legacy_readonly, "catalog")["name"]["read_only"] is False


# -- current without --read-only-kinds: what the sim accepts -----------------------------------


#: What upstream's loaders store, which the writable current profile lets a client write.
LOADER_FIELDS = {
    "package": ("categories", "licenses", "maintainers", "parent_softwares"),
    "version": ("dependencies", "metadata"),
}


def writable(info: dict[str, Any]) -> dict[str, Any]:
    """A recorded read-only field as the sim describes it writable (a relation without the
    nested serializer's `child`)."""
    info = info | {"read_only": False}
    if info["type"] == "field":
        info.pop("child", None)
    return info


def test_current_versions_and_targets_are_writable(current_api: Api) -> None:
    """The recorded read-only description, with the model's writable fields as upstream's nested
    serializers describe them (sample 100), what upstream's loaders store, and the parent link
    the sim needs."""
    nested_version = recorded_fields("package")["versions"]["child"]["children"]
    nested_target = nested_version["targets"]["child"]["children"]
    for kind, parent, nested in (
        ("version", "package", nested_version),
        ("target", "version", nested_target),
    ):
        expected: dict[str, Any] = {}
        for name, info in recorded_fields(kind).items():
            if name in nested and not nested[name]["read_only"]:
                info = nested[name]
                if name == "target_name":  # in the unique-together key, no default
                    info = info | {"required": True}
            elif name in LOADER_FIELDS.get(kind, ()):
                info = writable(info)
            expected[name] = info
            if name == "modified":
                expected[parent] = link(parent.capitalize())
        assert list(post_fields(current_api.sim, kind).items()) == list(expected.items())


def test_current_catalogs_are_as_recorded(current_api: Api) -> None:
    fields = post_fields(current_api.sim, "catalog")
    assert list(fields.items()) == list(recorded_fields("catalog").items())


def test_current_packages_are_as_recorded_with_the_loader_fields_writable(
    current_api: Api,
) -> None:
    recorded = recorded_fields("package")
    expected = {
        name: writable(info) if name in LOADER_FIELDS["package"] else info
        for name, info in recorded.items()
    }
    assert list(post_fields(current_api.sim, "package").items()) == list(expected.items())


# -- the published description is the truth ---------------------------------------------------


def too_long(info: dict[str, Any]) -> str:
    size = info["max_length"] + 1
    if info["type"] == "url":
        return "https://example.org/" + "a" * (size - len("https://example.org/"))
    return "x" * size


@pytest.mark.parametrize("profile", ["api", "current_api"])
def test_required_fields_and_limits_are_the_ones_enforced(
    request: pytest.FixtureRequest, profile: str
) -> None:
    api: Api = request.getfixturevalue(profile)
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    parents = {"package": catalog["url"], "version": package["url"], "target": version["url"]}
    for kind in KINDS:
        fields = post_fields(api.sim, kind)
        writable = {name: info for name, info in fields.items() if not info["read_only"]}
        required = {name for name, info in writable.items() if info["required"]}
        response = api.post(kind, {})
        assert response.status_code == 400
        assert set(response.json()) == required, kind
        parent = {name: parents[kind] for name in required if writable[name]["type"] == "field"}
        for name, info in writable.items():
            if "max_length" not in info:
                continue
            response = api.post(kind, parent | {name: too_long(info)})
            message = f"Ensure this field has no more than {info['max_length']} characters."
            assert message in response.json().get(name, []), (kind, name, response.text)
            response = api.post(kind, parent | {name: too_long(info)[:-1]})
            errors = response.json() if response.status_code == 400 else {}
            assert name not in errors, (kind, name, response.text)
        for name, info in writable.items():
            if "choices" in info:
                response = api.post(kind, {name: "nope"})
                assert response.json()[name] == ['"nope" is not a valid choice.']
                for choice in info["choices"]:
                    assert name not in api.post(kind, {name: choice["value"]}).json()


@pytest.mark.parametrize("profile", ["api", "current_api"])
def test_bodies_show_the_published_fields_in_order(
    request: pytest.FixtureRequest, profile: str
) -> None:
    api: Api = request.getfixturevalue(profile)
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    target_fields = {"cpu_family": "x86_64", "cpu_microarchitecture": "generic"}
    if profile == "current_api":
        target_fields = {"target_name": "x86_64", "target_subtype": "generic"}
    target = api.create("target", version=version["url"], **target_fields)
    bodies = {
        "catalog": api.get(catalog["url"]),
        "package": api.get(package["url"]),
        "version": api.get(version["url"]),
        "target": target,
    }
    published = {kind: post_fields(api.sim, kind) for kind in KINDS}
    for kind, body in bodies.items():
        assert list(body) == [n for n in published[kind] if n not in WRITE_ONLY.get(kind, ())]
    nested = published["package"]["versions"]["child"]["children"]
    embedded = bodies["package"]["versions"][0]
    assert list(embedded) == list(nested)
    assert list(embedded["targets"][0]) == list(nested["targets"]["child"]["children"])


def test_the_recorded_profile_shows_in_bodies_what_it_publishes(recorded_sim: SimProcess) -> None:
    for kind in KINDS:
        listing = httpx.get(f"{recorded_sim.api_url}{SEGMENTS[kind]}/").json()
        assert listing, kind
        assert list(listing[0]) == list(post_fields(recorded_sim, kind)), kind


def test_without_embedding_packages_publish_no_versions(sim: Any) -> None:
    process = sim("--no-embed", "--dialect", "current")
    api = Api(process)
    package = api.package(api.catalog(name=unique("cat")))
    api.close()
    fields = post_fields(process, "package")
    assert "versions" not in fields
    assert list(package) == list(fields)
