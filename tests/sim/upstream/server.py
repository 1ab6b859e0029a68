"""The server under test in the ported upstream cases, and the fixtures they build through it.

Upstream's cases build their objects with ORM factories; here every object is written through
waldur-sim's API by the `writer`, a `--dialect current` server (versions and targets writable,
and what upstream's loaders store — a version's `metadata`, a package's categories, licenses
and parents, a target's GPU architectures — writable too). The requests a case makes go to the
`server` of the profile under test:

- `writable`: the writer itself (`--dialect current`);
- `read-only`: a second process on the same database with `--read-only-kinds version,target`,
  the profile of today's upstream, whose versions and targets nobody can write over HTTP
  (upstream's own loaders write them; here the writer does).

Before each case every catalog is deleted (with its packages, versions, targets and links), so a
case sees only what it built, as upstream's do. Upstream's users map to the sim's tokens:
`staff` → staff, `owner` (of the organisation providing the offering) → owner, and `user`,
`admin`, `manager` (no role on the provider's organisation) → user.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.sim import helpers
from waldur_sim.launcher import SimProcess

#: The upstream commit the cases were ported from (`read_file` of the test file).
UPSTREAM_COMMIT = "0687593cbd467aa78891eec1dd7b6b1a3aa8467f"

OFFERING = "Upstream test offering"  # of the organisation the owner token owns
FOREIGN_OFFERING = "Another organisation's offering"
OFFERING_ARGS = ("--offering", OFFERING, "--other-offering", FOREIGN_OFFERING)
PROFILES = {
    "writable": ("--dialect", "current"),
    "read-only": ("--dialect", "current", "--read-only-kinds", "version,target"),
}
SEGMENTS = {**helpers.SEGMENTS, "offering": "marketplace-provider-offerings"}
#: Upstream's users with no role on the provider's organisation: the sim's "user".
NO_ROLE = {"admin": "user", "manager": "user"}
_COUNTER = itertools.count(1)

Json = dict[str, Any]


def _token(sim: SimProcess, who: str | None) -> dict[str, str]:
    return helpers.auth(sim, NO_ROLE.get(who or "", who))


@dataclass
class Server:
    """The server a case talks to, the writer that builds its fixtures, and an HTTP client."""

    profile: str
    sim: SimProcess
    writer: SimProcess
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    # -- requests of the case ---------------------------------------------------------------

    def url(self, kind: str, uuid_hex: str | None = None, action: str = "") -> str:
        base = f"{self.sim.api_url}{SEGMENTS[kind]}/"
        path = base if uuid_hex is None else f"{base}{uuid_hex}/"
        return f"{path}{action}/" if action else path

    def get(
        self, url: str, params: Mapping[str, Any] | str | None = None, who: str | None = "staff"
    ) -> httpx.Response:
        return self.http.get(url, params=params, headers=_token(self.sim, who))

    def send(
        self, method: str, url: str, body: Any = None, who: str | None = "staff"
    ) -> httpx.Response:
        return self.http.request(method, url, json=body, headers=_token(self.sim, who))

    def listed(self, kind: str, query: str = "", who: str | None = "staff") -> list[Json]:
        """`GET <list>?<query>` answered 200: its rows."""
        response = self.get(self.url(kind) + (f"?{query}" if query else ""), who=who)
        assert response.status_code == 200, response.text
        rows: list[Json] = response.json()
        return rows

    def offering(self, name: str = OFFERING) -> Json:
        rows = self.get(self.url("offering"), {"name_exact": name}).json()
        assert len(rows) == 1, rows
        found: Json = rows[0]
        return found

    def link(self, offering: Json, catalog: Json, **fields: Any) -> Json:
        """An offering's link to a catalog (upstream's OfferingSoftwareCatalogFactory)."""
        url = self.url("offering", offering["uuid"], "add_software_catalog")
        response = self.send("POST", url, {"catalog": catalog["uuid"], **fields})
        assert response.status_code == 201, response.text
        created: Json = response.json()
        return created

    # -- fixtures, written by the writer ----------------------------------------------------

    def _create(self, kind: str, body: Json) -> Json:
        url = f"{self.writer.api_url}{SEGMENTS[kind]}/"
        response = self.http.post(url, json=body, headers=_token(self.writer, "staff"))
        assert response.status_code == 201, response.text
        created: Json = response.json()
        return created

    def catalog(self, **fields: Any) -> Json:
        """upstream's SoftwareCatalogFactory: a binary_runtime catalog of unique name."""
        number = next(_COUNTER)
        body = {"name": f"catalog-{number}", "version": f"{number}.0"} | fields
        return self._create("catalog", body)

    def package(self, catalog: Json, **fields: Any) -> Json:
        """SoftwarePackageFactory; `parents` (packages) become `parent_softwares`."""
        parents = fields.pop("parents", [])
        body = {"catalog": self._writer_url(catalog), "name": f"package-{next(_COUNTER)}"}
        if parents:
            body["parent_softwares"] = [self._writer_url(parent) for parent in parents]
        return self._create("package", body | fields)

    def version(self, package: Json, **fields: Any) -> Json:
        body = {"package": self._writer_url(package), "version": f"{next(_COUNTER)}.0"}
        return self._create("version", body | fields)

    def target(self, version: Json, **fields: Any) -> Json:
        """SoftwareTargetFactory: a CPU architecture target."""
        body = {
            "version": self._writer_url(version),
            "target_type": "cpu_architecture",
            "target_name": "x86_64",
            "target_subtype": f"subtype-{next(_COUNTER)}",
        }
        return self._create("target", body | fields)

    def _writer_url(self, obj: Json) -> str:
        """An object's URL on the writer (the same object, another host)."""
        path = obj["url"].split("/api/", 1)[1]
        return f"{self.writer.api_url}{path}"

    def wipe(self) -> None:
        """Delete every catalog (and so every package, version, target and link)."""
        url = f"{self.writer.api_url}{SEGMENTS['catalog']}/"
        headers = _token(self.writer, "staff")
        while rows := self.http.get(url, params={"page_size": 100}, headers=headers).json():
            for row in rows:
                self.http.delete(row["url"], headers=headers)
