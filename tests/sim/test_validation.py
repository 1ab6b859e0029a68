"""The bad-input corpus: each bad body gets DRF's exact 400 (or 413/415) and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.sim.helpers import REQUIRED, SEGMENTS, Api, unique

NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
BAD_URL = "Enter a valid URL."
BAD_BOOL = "Must be a valid boolean."
BAD_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
NO_MATCH = "Invalid hyperlink - No URL match."
WRONG_KIND = "Invalid hyperlink - Incorrect URL match."
MISSING = "Invalid hyperlink - Object does not exist."


def too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


@pytest.fixture(scope="module")
def parents(api: Api) -> dict[str, str]:
    """URLs of one existing catalog, package and version, and of objects that do not exist."""
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    gone = uuid.uuid4().hex
    return {
        "catalog": catalog["url"],
        "package": package["url"],
        "version": version["url"],
        "catalog_uuid": catalog["uuid"],
        "missing_catalog": api.detail("catalog", gone),
        "missing_package": api.detail("package", gone),
        "missing_version": api.detail("version", gone),
        "catalog_list": api.collection("catalog"),
    }


Body = Callable[[dict[str, str]], Any]


def _dict_error(datatype: str) -> str:
    return f"Invalid data. Expected a dictionary, but got {datatype}."


def catalog(**fields: Any) -> Body:
    return lambda p: {"name": unique(), "version": "1.0", **fields}


def package(**fields: Any) -> Body:
    return lambda p: {"catalog": p["catalog"], "name": unique(), **_resolve(fields, p)}


def version(**fields: Any) -> Body:
    return lambda p: {"package": p["package"], "version": unique(), **_resolve(fields, p)}


def target(**fields: Any) -> Body:
    base = {"cpu_family": "x86_64", "cpu_microarchitecture": unique()}
    return lambda p: {"version": p["version"], **base, **_resolve(fields, p)}


def _resolve(fields: dict[str, Any], parents: dict[str, str]) -> dict[str, Any]:
    """Values written as `@name` are replaced by the parent URL of that name."""
    return {
        key: parents[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for key, value in fields.items()
    }


CASES: list[tuple[str, str, Body, dict[str, Any]]] = [
    # catalog: required, lengths, types, blanks, choices, URLs, booleans, JSON
    ("catalog-empty", "catalog", lambda p: {}, {"name": [REQUIRED], "version": [REQUIRED]}),
    ("name-101", "catalog", catalog(name="n" * 101), {"name": [too_long(100)]}),
    ("version-51", "catalog", catalog(version="v" * 51), {"version": [too_long(50)]}),
    ("name-blank", "catalog", catalog(name=""), {"name": [BLANK]}),
    ("name-spaces", "catalog", catalog(name="   "), {"name": [BLANK]}),
    ("name-null", "catalog", catalog(name=None), {"name": [NULL]}),
    ("name-list", "catalog", catalog(name=["EESSI"]), {"name": [NOT_STRING]}),
    ("name-object", "catalog", catalog(name={"a": 1}), {"name": [NOT_STRING]}),
    ("name-bool", "catalog", catalog(name=True), {"name": [NOT_STRING]}),
    ("name-nul", "catalog", catalog(name="a\x00b"), {"name": ["Null characters are not allowed."]}),
    (
        "type-bad",
        "catalog",
        catalog(catalog_type="rpm"),
        {"catalog_type": ['"rpm" is not a valid choice.']},
    ),
    (
        "type-blank",
        "catalog",
        catalog(catalog_type=""),
        {"catalog_type": ['"" is not a valid choice.']},
    ),
    ("url-bad", "catalog", catalog(source_url="not a url"), {"source_url": [BAD_URL]}),
    ("url-scheme", "catalog", catalog(source_url="javascript:alert(1)"), {"source_url": [BAD_URL]}),
    ("url-no-tld", "catalog", catalog(source_url="https://intranet"), {"source_url": [BAD_URL]}),
    (
        "url-201",
        "catalog",
        catalog(source_url="https://example.org/" + "a" * 181),
        {"source_url": [too_long(200)]},
    ),
    ("url-number", "catalog", catalog(source_url=5), {"source_url": [BAD_URL]}),
    (
        "bool-text",
        "catalog",
        catalog(auto_update_enabled="maybe"),
        {"auto_update_enabled": [BAD_BOOL]},
    ),
    ("bool-two", "catalog", catalog(auto_update_enabled=2), {"auto_update_enabled": [BAD_BOOL]}),
    ("bool-list", "catalog", catalog(auto_update_enabled=[]), {"auto_update_enabled": [BAD_BOOL]}),
    ("bool-null", "catalog", catalog(auto_update_enabled=None), {"auto_update_enabled": [NULL]}),
    ("metadata-null", "catalog", catalog(metadata=None), {"metadata": [NULL]}),
    # package: the hyperlinked parent in every wrong form
    ("package-empty", "package", lambda p: {}, {"catalog": [REQUIRED], "name": [REQUIRED]}),
    ("link-bare-uuid", "package", package(catalog="@catalog_uuid"), {"catalog": [NO_MATCH]}),
    ("link-wrong-kind", "package", package(catalog="@package"), {"catalog": [WRONG_KIND]}),
    ("link-collection", "package", package(catalog="@catalog_list"), {"catalog": [WRONG_KIND]}),
    ("link-missing", "package", package(catalog="@missing_catalog"), {"catalog": [MISSING]}),
    ("link-not-url", "package", package(catalog="EESSI 2023.06"), {"catalog": [NO_MATCH]}),
    (
        "link-bad-uuid",
        "package",
        package(catalog=f"/api/{SEGMENTS['catalog']}/xyz/"),
        {"catalog": ["\u201cxyz\u201d is not a valid UUID."]},
    ),
    (
        "link-int",
        "package",
        package(catalog=5),
        {"catalog": ["Incorrect type. Expected URL string, received int."]},
    ),
    (
        "link-object",
        "package",
        package(catalog={"uuid": "x"}),
        {"catalog": ["Incorrect type. Expected URL string, received dict."]},
    ),
    ("link-blank", "package", package(catalog=""), {"catalog": [NULL]}),
    ("link-null", "package", package(catalog=None), {"catalog": [NULL]}),
    ("package-name-201", "package", package(name="n" * 201), {"name": [too_long(200)]}),
    ("homepage-bad", "package", package(homepage="www.example.org"), {"homepage": [BAD_URL]}),
    ("is-extension-bad", "package", package(is_extension="perhaps"), {"is_extension": [BAD_BOOL]}),
    (
        "package-all-errors",
        "package",
        package(catalog="@catalog_uuid", homepage="nope", is_extension=[1]),
        {"catalog": [NO_MATCH], "homepage": [BAD_URL], "is_extension": [BAD_BOOL]},
    ),
    # version
    ("version-empty", "version", lambda p: {}, {"package": [REQUIRED], "version": [REQUIRED]}),
    ("version-101", "version", version(version="v" * 101), {"version": [too_long(100)]}),
    (
        "module-151",
        "version",
        version(module_version="m" * 151),
        {"module_version": [too_long(150)]},
    ),
    ("date-month-13", "version", version(release_date="2024-13-01"), {"release_date": [BAD_DATE]}),
    ("date-feb-30", "version", version(release_date="2024-02-30"), {"release_date": [BAD_DATE]}),
    ("date-words", "version", version(release_date="yesterday"), {"release_date": [BAD_DATE]}),
    ("date-number", "version", version(release_date=20240101), {"release_date": [BAD_DATE]}),
    ("date-blank", "version", version(release_date=""), {"release_date": [BAD_DATE]}),
    ("version-parent-kind", "version", version(package="@catalog"), {"package": [WRONG_KIND]}),
    (
        "version-parent-missing",
        "version",
        version(package="@missing_package"),
        {"package": [MISSING]},
    ),
    # target
    (
        "target-empty",
        "target",
        lambda p: {},
        {"version": [REQUIRED], "cpu_family": [REQUIRED], "cpu_microarchitecture": [REQUIRED]},
    ),
    ("family-101", "target", target(cpu_family="f" * 101), {"cpu_family": [too_long(100)]}),
    ("path-501", "target", target(path="/" * 501), {"path": [too_long(500)]}),
    ("micro-blank", "target", target(cpu_microarchitecture=""), {"cpu_microarchitecture": [BLANK]}),
    ("target-parent-missing", "target", target(version="@missing_version"), {"version": [MISSING]}),
    ("target-parent-kind", "target", target(version="@package"), {"version": [WRONG_KIND]}),
    # whole bodies that are not objects
    ("body-list", "catalog", lambda p: [], {"non_field_errors": [_dict_error("list")]}),
    ("body-string", "catalog", lambda p: "EESSI", {"non_field_errors": [_dict_error("str")]}),
    ("body-number", "catalog", lambda p: 7, {"non_field_errors": [_dict_error("int")]}),
    ("body-null", "catalog", lambda p: None, {"non_field_errors": ["No data provided"]}),
]


@pytest.mark.parametrize(
    ("kind", "body", "errors"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_body_gets_the_drf_400_and_writes_nothing(
    api: Api, parents: dict[str, str], kind: str, body: Body, errors: dict[str, Any]
) -> None:
    before = api.count(kind)
    response = api.post(kind, body(parents))
    assert response.status_code == 400
    assert response.json() == errors
    assert api.count(kind) == before


MALFORMED = {
    "not-json": b'{"name": "EESSI",',
    "nan": b'{"name": "EESSI", "version": NaN}',
    "bad-utf8": b'{"name": "\xff\xfe"}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_a_parse_error_400(api: Api, body: bytes) -> None:
    before = api.count("catalog")
    response = api.send("POST", api.collection("catalog"), body)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert api.count("catalog") == before


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ('"name": "\\ud800"', "name", "Surrogate characters are not allowed: U+D800."),
        ('"metadata": {"k": "\\ud800"}', "metadata", "Value must be valid JSON."),
        ('"metadata": {"k": "a\\u0000b"}', "metadata", "Value must be valid JSON."),
        ('"metadata": {"k": 1e999}', "metadata", "Value must be valid JSON."),
    ],
    ids=["lone-surrogate", "metadata-surrogate", "metadata-nul", "metadata-infinity"],
)
def test_text_a_database_cannot_store_is_refused(
    api: Api, raw: str, field: str, message: str
) -> None:
    name = "" if field == "name" else f'"name": "{unique()}", '
    body = ("{" + name + '"version": "1", ' + raw + "}").encode()
    before = api.count("catalog")
    response = api.send("POST", api.collection("catalog"), body)
    assert (response.status_code, response.json()) == (400, {field: [message]})
    assert api.count("catalog") == before


def test_other_media_types_are_415(api: Api) -> None:
    response = api.send("POST", api.collection("catalog"), b"name=EESSI", "text/plain")
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_an_empty_body_is_an_empty_object(api: Api) -> None:
    response = api.request("POST", api.collection("catalog"), content=b"")
    assert (response.status_code, response.json()) == (
        400,
        {"name": [REQUIRED], "version": [REQUIRED]},
    )


def test_a_huge_body_is_refused_without_writing(api: Api) -> None:
    before = api.count("catalog")
    body = {"name": unique(), "version": "1", "description": "x" * (2 * 1024 * 1024)}
    response = api.post("catalog", body)
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}
    assert response.headers["Connection"] == "close"  # the client must not reuse it
    assert api.count("catalog") == before  # and the server still answers


def test_invalid_put_and_patch_change_nothing(api: Api) -> None:
    catalog = api.catalog()
    for method in ("PUT", "PATCH"):
        body = {"name": "", "version": "v" * 51, "auto_update_enabled": "maybe"}
        response = api.request(method, catalog["url"], json=body)
        assert response.status_code == 400
        assert response.json() == {
            "name": [BLANK],
            "version": [too_long(50)],
            "auto_update_enabled": [BAD_BOOL],
        }
    assert api.get(catalog["url"]) == catalog


def test_put_to_a_missing_object_is_404_before_parsing(api: Api) -> None:
    url = api.detail("catalog", uuid.uuid4().hex)
    response = api.send("PUT", url, b"{oops")
    assert response.status_code == 404
