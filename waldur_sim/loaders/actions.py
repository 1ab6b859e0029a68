"""The three catalog actions of upstream's `SoftwareCatalogViewSet` (API 8.0.2+), as the
recorded build answers them (samples 129 to 183 in `data/api_samples/`), and the sim's control
endpoint of its loaders.

- `GET …/marketplace-software-catalogs/discover/`: staff; a plain array, EESSI then Spack, each
  `{name, catalog_type, latest_version, existing, existing_version, update_available}`, compared
  with the most recently modified row of that name and type (string inequality). Writes nothing.
- `POST …/import_catalog/` `{"name": "EESSI"|"Spack"}`: staff; 400 field errors, 400
  `["A catalog with name=… and type=… already exists."]`, else 202
  `{"status": "importing", "name": …}` and the worker imports.
- `POST …/<uuid>/update_catalog/` (no body read): staff; 404 for an unknown catalog, 400
  `["No loader configuration found for <name> (<type>)."]` for a row no loader serves, else 202
  `{"status": "updating", "catalog_uuid": …}` and the worker loads the row at its version.

DRF's order: authentication (a bad token is 401) → permissions (anonymous 401, non-staff 403; a
safe method the action does not serve needs none, an unsafe one needs staff) → 405 → the view.
OPTIONS (any user; anonymous 401) names the action; staff see the catalog serializer's fields
under `actions.POST` of the two POST actions, as upstream's metadata shows them.

`/api/_sim/loaders/` (sim-only, no token, like `/api/_sim/stats/`): GET shows the loaders'
configuration and the worker's counts; PATCH changes the configuration (see `configure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from waldur_sim.auth import User, require_staff, require_user
from waldur_sim.kinds import Route
from waldur_sim.loaders.data import CATALOG_TYPES, EESSI, SPACK
from waldur_sim.loaders.sources import LOADERS, Sources
from waldur_sim.loaders.worker import IMPORT, UPDATE, Job, Worker, detected
from waldur_sim.metadata import PARSES, RENDERS
from waldur_sim.request import Request, parse_body
from waldur_sim.responses import HttpError, Response, detail, json_response
from waldur_sim.store import Store
from waldur_sim.validation import REQUIRED, parse_uuid

DESCRIPTION = "ViewSet for SoftwareCatalog model with standard DRF patterns."
NO_CATALOG = "No SoftwareCatalog matches the given query."
#: per action: the methods it serves (its `Allow` header) and its OPTIONS name
ACTIONS = {
    "discover": (("GET", "HEAD", "OPTIONS"), "Discover"),
    "import_catalog": (("POST", "OPTIONS"), "Import catalog"),
    "update_catalog": (("POST", "OPTIONS"), "Update catalog"),
}
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def allow(route: Route) -> str:
    return ", ".join(ACTIONS[route.action][0])


class CatalogActions:
    def __init__(
        self, store: Store, sources: Sources, worker: Worker, catalog_fields: dict[str, Any]
    ) -> None:
        self.store = store
        self.sources = sources
        self.worker = worker
        self.catalog_fields = catalog_fields  # the catalog serializer's fields, for OPTIONS

    def handle(self, request: Request, route: Route, user: User | None) -> Response:
        methods, title = ACTIONS[route.action]
        method = request.method
        if method == "OPTIONS":
            return self._options(route, require_user(user), title)
        if method in methods or method not in _SAFE:
            require_staff(user)
        if method not in methods:
            raise HttpError(detail(405, f'Method "{method}" not allowed.'))
        if route.action == "discover":
            return json_response(200, self._discover())
        if route.action == "import_catalog":
            return self._import(request)
        return self._update(route.lookup)

    def _options(self, route: Route, user: User, title: str) -> Response:
        body: dict[str, Any] = {
            "name": title,
            "description": DESCRIPTION,
            "renders": list(RENDERS),
            "parses": list(PARSES),
        }
        if user.staff and "POST" in ACTIONS[route.action][0]:
            body["actions"] = {"POST": self.catalog_fields}
        return json_response(200, body)

    def _discover(self) -> list[dict[str, Any]]:
        latest = detected(self.sources)
        answer = []
        with self.store.reading() as conn:
            for name in LOADERS:
                catalog_type = CATALOG_TYPES[name]
                row = conn.execute(
                    "SELECT version FROM catalog WHERE name = ? AND catalog_type = ? "
                    "ORDER BY modified DESC, id DESC LIMIT 1",
                    (name, catalog_type),
                ).fetchone()
                existing = None if row is None else str(row["version"])
                answer.append(
                    {
                        "name": name,
                        "catalog_type": catalog_type,
                        "latest_version": latest[name],
                        "existing": existing is not None,
                        "existing_version": existing,
                        "update_available": (
                            existing is not None
                            and latest[name] is not None
                            and latest[name] != existing
                        ),
                    }
                )
        return answer

    def _import(self, request: Request) -> Response:
        data = parse_body(request)
        name = _name_field(data)
        catalog_type = CATALOG_TYPES[name]
        with self.store.reading() as conn:
            taken = conn.execute(
                "SELECT 1 FROM catalog WHERE name = ? AND catalog_type = ? LIMIT 1",
                (name, catalog_type),
            ).fetchone()
        if taken is not None:
            message = f"A catalog with name={name} and type={catalog_type} already exists."
            raise HttpError(json_response(400, [message]))
        self.worker.submit(Job(IMPORT, name))
        return json_response(202, {"status": "importing", "name": name})

    def _update(self, lookup: str) -> Response:
        uuid_hex = parse_uuid(lookup)
        row = None
        if uuid_hex is not None:
            with self.store.reading() as conn:
                row = conn.execute(
                    "SELECT name, catalog_type FROM catalog WHERE uuid = ?", (uuid_hex,)
                ).fetchone()
        if row is None:
            raise HttpError(detail(404, NO_CATALOG if uuid_hex else "Not found."))
        name, catalog_type = str(row["name"]), str(row["catalog_type"])
        if CATALOG_TYPES.get(name) != catalog_type:
            message = f"No loader configuration found for {name} ({catalog_type})."
            raise HttpError(json_response(400, [message]))
        self.worker.submit(Job(UPDATE, name, uuid_hex or ""))
        return json_response(202, {"status": "updating", "catalog_uuid": uuid_hex})

    # -- the sim's control endpoint -----------------------------------------------------------

    def control(self, request: Request) -> Response:
        if request.method in ("PATCH", "PUT", "POST"):
            try:
                changes = _control_changes(parse_body(request))
            except HttpError as exc:
                return exc.response
            self.sources.configure(**changes)
            self.worker.release()
        elif request.method not in ("GET", "HEAD"):
            message = f'Method "{request.method}" not allowed.'
            return detail(405, message, [("Allow", "GET, PATCH")])
        return json_response(200, self.sources.config.public() | self.worker.snapshot())


def _name_field(data: Any) -> str:
    """`SoftwareCatalogImportSerializer`: `name`, a required choice of EESSI and Spack."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        errors: Any = {
            "non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]
        }
        raise HttpError(json_response(400, errors))
    if "name" not in data:
        raise HttpError(json_response(400, {"name": [REQUIRED]}))
    value = data["name"]
    if value is None:
        raise HttpError(json_response(400, {"name": ["This field may not be null."]}))
    text = str(value)
    if isinstance(value, bool) or text not in CATALOG_TYPES:
        raise HttpError(json_response(400, {"name": [f'"{value}" is not a valid choice.']}))
    return text


_CONTROL_KEYS = ("eessi_source", "spack_source", "fail", "drop", "load_seconds", "hold")


def _control_changes(data: Any) -> dict[str, Any]:
    """The body of PATCH /api/_sim/loaders/: any of
    `{"eessi_source": path, "spack_source": path, "fail": [loader…], "drop": {loader:
    [package…]}, "load_seconds": n, "hold": bool}` (a loader is "EESSI" or "Spack")."""
    if not isinstance(data, dict) or set(data) - set(_CONTROL_KEYS):
        raise HttpError(json_response(400, {"detail": f"expected an object of {_CONTROL_KEYS}"}))
    changes: dict[str, Any] = {}
    for key in ("eessi_source", "spack_source"):
        if key in data:
            path = Path(str(data[key]))
            if not path.exists():
                raise HttpError(json_response(400, {key: [f"{path} does not exist"]}))
            changes[key] = path
    if "fail" in data:
        changes["unreachable"] = frozenset(_loaders(data["fail"], "fail"))
    if "drop" in data:
        drop = data["drop"]
        if not isinstance(drop, dict) or not all(isinstance(v, list) for v in drop.values()):
            raise HttpError(json_response(400, {"drop": ["expected {loader: [package, …]}"]}))
        _loaders(list(drop), "drop")
        changes["drop"] = {name: frozenset(map(str, names)) for name, names in drop.items()}
    if "load_seconds" in data:
        seconds = data["load_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise HttpError(json_response(400, {"load_seconds": ["expected a number ≥ 0"]}))
        changes["load_seconds"] = float(seconds)
    if "hold" in data:
        if not isinstance(data["hold"], bool):
            raise HttpError(json_response(400, {"hold": ["expected true or false"]}))
        changes["hold"] = data["hold"]
    return changes


def _loaders(names: Any, key: str) -> list[str]:
    if not isinstance(names, list) or any(name not in (EESSI, SPACK) for name in names):
        raise HttpError(json_response(400, {key: [f"expected a list of {EESSI!r}, {SPACK!r}"]}))
    return names
