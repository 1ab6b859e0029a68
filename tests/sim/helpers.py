"""A thin HTTP client for contract tests: the contract's paths, tokens and tree builders."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from waldur_sim.launcher import SimProcess

SEGMENTS = {
    "catalog": "marketplace-software-catalogs",
    "package": "marketplace-software-packages",
    "version": "marketplace-software-versions",
    "target": "marketplace-software-targets",
}
MODELS = {
    "catalog": "SoftwareCatalog",
    "package": "SoftwarePackage",
    "version": "SoftwareVersion",
    "target": "SoftwareTarget",
}
UUID_RE = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
REQUIRED = "This field is required."
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
INVALID_TOKEN = {"detail": "Invalid token."}


def unique(prefix: str = "x") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(sim: SimProcess, who: str | None) -> dict[str, str]:
    """The Authorization header of one of the sim's users ("staff", "owner": of the offerings'
    organisation, "user": no role); none for `who=None`."""
    if not who:
        return {}
    tokens = {"staff": sim.staff_token, "owner": sim.owner_token, "user": sim.user_token}
    return {"Authorization": f"Token {tokens[who]}"}


class Api:
    """Requests to one waldur-sim, as staff unless told otherwise (`who`: see `auth`)."""

    def __init__(self, sim: SimProcess) -> None:
        self.sim = sim
        self.http = httpx.Client(base_url=sim.base_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def auth(self, who: str | None) -> dict[str, str]:
        return auth(self.sim, who)

    def collection(self, kind: str) -> str:
        return f"{self.sim.api_url}{SEGMENTS[kind]}/"

    def detail(self, kind: str, uuid_hex: str) -> str:
        return f"{self.collection(kind)}{uuid_hex}/"

    def request(
        self, method: str, url: str, who: str | None = "staff", **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kwargs)

    def list(self, kind: str, who: str | None = None, **params: Any) -> httpx.Response:
        return self.request("GET", self.collection(kind), who, params=params)

    def items(self, kind: str, **params: Any) -> list[dict[str, Any]]:
        response = self.list(kind, page_size=300, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def count(self, kind: str, **params: Any) -> int:
        response = self.request("HEAD", self.collection(kind), None, params=params)
        assert response.status_code == 200, response.text
        return int(response.headers["X-Result-Count"])

    def send(
        self, method: str, url: str, content: bytes, content_type: str = "application/json"
    ) -> httpx.Response:
        """Send raw bytes as a staff user's request body."""
        return self.request(method, url, content=content, headers={"Content-Type": content_type})

    def post(self, kind: str, body: Any, who: str | None = "staff") -> httpx.Response:
        """POST `body` as JSON (even `None`, sent as `null`)."""
        headers = {"Content-Type": "application/json"}
        content = json.dumps(body).encode()
        return self.request("POST", self.collection(kind), who, content=content, headers=headers)

    def get(self, url: str, who: str | None = None) -> dict[str, Any]:
        response = self.request("GET", url, who)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, kind: str, **body: Any) -> dict[str, Any]:
        response = self.post(kind, body)
        assert response.status_code == 201, response.text
        return response.json()

    # -- tree builders: each returns the 201 body -----------------------------------------------

    def catalog(self, **fields: Any) -> dict[str, Any]:
        return self.create("catalog", **{"name": unique("cat"), "version": "1.0", **fields})

    def package(self, catalog: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return self.create(
            "package", **{"catalog": catalog["url"], "name": unique("pkg"), **fields}
        )

    def version(self, package: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return self.create("version", **{"package": package["url"], "version": "1.0", **fields})

    def target(self, version: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {
            "version": version["url"],
            "cpu_family": "x86_64",
            "cpu_microarchitecture": "generic",
        }
        return self.create("target", **{**body, **fields})


def names(items: list[dict[str, Any]], field: str = "name") -> list[str]:
    return [item[field] for item in items]


#: SQL that turns a fresh database into what waldur-sim with schema version 3 wrote (before it
#: kept loader times, version 4, and stored what upstream's loaders store, version 5), for the
#: upgrade tests.
AS_SCHEMA_3 = "DROP TABLE package_parent; " + "".join(
    f"ALTER TABLE {table} DROP COLUMN {column};"
    for table, column in (
        ("package", "categories"),
        ("package", "licenses"),
        ("package", "maintainers"),
        ("version", "dependencies"),
        ("version", "metadata"),
        ("catalog", "last_update_attempt"),
        ("catalog", "last_successful_update"),
    )
)
