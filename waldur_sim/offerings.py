"""Provider offerings and their software catalogs, as the recorded upstream server answers
(samples `a` to `e`, `f`, `h` and `p` in `data/api_samples/`).

- `GET /api/marketplace-provider-offerings/` and `…/<uuid>/`: any authenticated user
  (anonymous 401); staff see every offering, an owner of the providing organisation its
  offerings, other users none (an empty list, 404 on a detail). The sim's offerings are
  created at start (`--offering`); the sim does not create, change or delete offerings
  themselves (POST, PUT, PATCH and DELETE answer 405, although `Allow` lists them, as
  upstream's does).
- `POST …/<uuid>/add_software_catalog/`, `PATCH …/update_software_catalog/`,
  `POST …/remove_software_catalog/`: whoever sees the offering (staff, its owner). The
  link is found by `offering_catalog_uuid` among the offering's links (a link of another
  offering is not found: 404); errors are `{"error": …}`; changing a link's catalog to one its
  offering already links answers 400 `{"catalog": […]}`. With `--upstream-build 004c5322` (the
  recorded build, see `builds.py`), `remove_software_catalog` removes the link wherever it
  belongs, and that change of catalog is an unhandled error (500).
- `GET /api/marketplace-software-catalogs/<uuid>/cpu_targets/`: public, unpaginated.

Partitions are not supported: the sim's offerings have none, so a link's `partition` is always
null and any other value is refused the way upstream refuses an unknown partition (400
`Object with uuid=… does not exist.`).
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import parse_qs

from waldur_sim import offering_render as render
from waldur_sim import offering_store as sql
from waldur_sim.auth import User, require_staff, require_user
from waldur_sim.builds import ALREADY_LINKED, NEWEST, RECORDED
from waldur_sim.faults import WRITE_METHODS
from waldur_sim.filters import QueryError
from waldur_sim.kinds import Route, View
from waldur_sim.offering_meta import cpu_targets_options, offering_options
from waldur_sim.pagination import InvalidPage, link_header, paginate
from waldur_sim.request import Request, parse_body
from waldur_sim.responses import (
    JSON_TYPE,
    HttpError,
    Response,
    detail,
    encode_json,
    json_response,
    server_error,
)
from waldur_sim.serializers import check_body
from waldur_sim.store import Store
from waldur_sim.validation import (
    NULL,
    REQUIRED,
    Field,
    FieldError,
    FieldType,
    ValidationFailed,
    parse_uuid,
    to_internal,
)

NO_OFFERING = "No Offering matches the given query."
NO_LINK = {"error": "Software catalog association not found"}
UNIQUE_LINK = "The fields offering, catalog must make a unique set."
_ALLOW = {
    View.OFFERINGS: "GET, POST, HEAD, OPTIONS",
    View.OFFERING: "GET, PUT, PATCH, DELETE, HEAD, OPTIONS",
    View.CPU_TARGETS: "GET, HEAD, OPTIONS",
}
_ACTION_ALLOW = {
    "add_software_catalog": "POST, OPTIONS",
    "update_software_catalog": "PATCH, OPTIONS",
    "remove_software_catalog": "POST, OPTIONS",
}
#: The two CPU lists of a link: lists of strings, stored as sent (never checked).
_CPU_FIELDS = tuple(
    Field(name, FieldType.STRLIST)
    for name in ("enabled_cpu_family", "enabled_cpu_microarchitectures")
)


def allow(route: Route) -> str:
    """The `Allow` header of an offering or `cpu_targets` view."""
    return _ACTION_ALLOW[route.action] if route.action else _ALLOW[route.view]


def _no_lookup(_kind: str, _uuid: str) -> int | None:
    return None


class OfferingViews:
    """The views of offerings, their links and a catalog's CPU targets."""

    def __init__(self, store: Store, build: str = NEWEST) -> None:
        self.store = store
        self.recorded_build = build == RECORDED

    def handle(self, request: Request, route: Route, base: str, user: User | None) -> Response:
        method = request.method
        if route.view is View.CPU_TARGETS:
            return self._cpu_targets(request, route, user)
        user = require_user(user)  # upstream: offerings are never public here
        _allow(method, allow(route))
        if method == "OPTIONS":
            return self._options(route, user)
        if route.view is View.OFFERINGS:
            if method != "POST":
                return self._list(request, base, user)
        else:
            offering_row = self._offering(route.lookup, user)
            if route.view is View.OFFERING_ACTION:
                return self._action(request, route.action, offering_row)
            if method in ("GET", "HEAD"):
                return self._retrieve(request, base, offering_row)
        raise HttpError(detail(405, f'Method "{method}" not allowed.'))  # not in the sim

    # -- offerings ----------------------------------------------------------------------------

    def _offering(self, lookup: str, user: User) -> sqlite3.Row:
        uuid_hex = parse_uuid(lookup)
        if uuid_hex is None:
            raise HttpError(detail(404, "Not found."))
        with self.store.reading() as conn:
            row = sql.get_offering(conn, uuid_hex, user)
        if row is None:
            raise HttpError(detail(404, NO_OFFERING))
        return row

    def _list(self, request: Request, base: str, user: User) -> Response:
        raw_path, _, query = request.target.partition("?")
        params = parse_qs(query, keep_blank_values=True)
        try:
            listing = sql.build_query(params, user)
        except QueryError as exc:
            raise HttpError(json_response(400, exc.errors)) from None
        body = b""
        with self.store.reading() as conn:
            count = sql.count(conn, listing)
            try:
                page = paginate(params, count)
            except InvalidPage:
                raise HttpError(detail(404, "Invalid page.")) from None
            if request.method == "GET":
                rows = sql.page(conn, listing, page.size, page.offset)
                links = sql.links_of(conn, [row["id"] for row in rows])
                selected = [name for name in params.get("field", ()) if name]
                items = [
                    render.offering(
                        base, row, links.get(row["id"], []), detail=False, selected=selected
                    )
                    for row in rows
                ]
                body = encode_json(items)
        headers = [
            ("X-Result-Count", str(count)),
            ("Link", link_header(base, raw_path, query, page)),
        ]
        return Response(200, body, JSON_TYPE, headers)

    def _retrieve(self, request: Request, base: str, row: sqlite3.Row) -> Response:
        params = parse_qs(request.target.partition("?")[2], keep_blank_values=True)
        selected = [name for name in params.get("field", ()) if name]
        with self.store.reading() as conn:
            links = sql.links_of(conn, [row["id"]]).get(row["id"], [])
        return json_response(200, render.offering(base, row, links, detail=True, selected=selected))

    def _options(self, route: Route, user: User) -> Response:
        """DRF's metadata, with `actions` for a user who may write: staff, or an owner of the
        offering's organisation. DRF describes PUT only when it finds the object."""
        if route.view is View.OFFERINGS:
            name, action = "Provider Offering List", "POST" if user.staff or user.owns else None
        elif route.view is View.OFFERING:
            name, action = "Provider Offering Instance", "PUT"
        else:
            name = route.action.replace("_", " ").capitalize()
            action = None if route.action == "update_software_catalog" else "POST"
        if route.view is not View.OFFERINGS and action is not None:
            staff_post = user.staff and action == "POST"
            if not staff_post and not self._sees(route.lookup, user):
                action = None
        return json_response(200, offering_options(name, action, staff=user.staff))

    def _sees(self, lookup: str, user: User) -> bool:
        uuid_hex = parse_uuid(lookup)
        if uuid_hex is None:
            return False
        with self.store.reading() as conn:
            return sql.get_offering(conn, uuid_hex, user) is not None

    # -- the software-catalog actions ----------------------------------------------------------

    def _action(self, request: Request, action: str, offering: sqlite3.Row) -> Response:
        data = parse_body(request)
        with self.store.writing() as conn:
            if action == "add_software_catalog":
                values = _checked(self._add_values, conn, data)
                if sql.link_exists(conn, offering["id"], values["catalog_id"]):
                    raise HttpError(json_response(400, {"non_field_errors": [UNIQUE_LINK]}))
                link_uuid = sql.insert_link(conn, self.store.stamp(), offering["id"], values)
                return json_response(201, {"uuid": link_uuid})
            if action == "remove_software_catalog":  # the recorded build: of any offering
                owner = None if self.recorded_build else offering["id"]
                sql.delete_link(conn, self._link(conn, data, owner)["id"])
                return Response(204, content_type=None)
            link = self._link(conn, data, offering["id"])
            values = _checked(self._update_values, conn, data)
            moved = values.get("catalog_id", link["catalog_id"])
            if moved != link["catalog_id"] and sql.link_exists(conn, offering["id"], moved):
                if self.recorded_build:
                    raise HttpError(server_error())  # an unhandled IntegrityError
                raise HttpError(json_response(400, {"catalog": [ALREADY_LINKED]}))
            sql.update_link(conn, self.store.stamp(), link["id"], values)
            updated = sql.get_link(conn, link["uuid"])
        assert updated is not None
        return json_response(200, render.link_object(updated))

    @staticmethod
    def _link(conn: sqlite3.Connection, data: Any, offering_id: int | None) -> sqlite3.Row:
        """The link `offering_catalog_uuid` names (of `offering_id` unless None), else 404."""
        if not isinstance(data, dict):
            raise HttpError(server_error())  # upstream: `request.data.get` of a non-object
        link_uuid = parse_uuid(str(data.get("offering_catalog_uuid")))
        link = None if link_uuid is None else sql.get_link(conn, link_uuid, offering_id)
        if link is None:
            raise HttpError(json_response(404, NO_LINK))
        return link

    def _add_values(self, conn: sqlite3.Connection, data: Any) -> dict[str, Any]:
        """The add serializer: `catalog` required, the CPU lists default to [], `partition`
        optional; an `offering` in the body is ignored (the URL's offering is used)."""
        body = check_body(data)
        return _link_fields(conn, body, partial=False)

    def _update_values(self, conn: sqlite3.Connection, data: Any) -> dict[str, Any]:
        """The update serializer, partial: only the fields given are validated and changed."""
        return _link_fields(conn, check_body(data), partial=True)

    # -- cpu_targets -----------------------------------------------------------------------------

    def _cpu_targets(self, request: Request, route: Route, user: User | None) -> Response:
        method = request.method
        if method in WRITE_METHODS:
            require_staff(user)  # writes are refused before the method (as for catalogs)
        _allow(method, allow(route))
        if method == "OPTIONS":
            require_user(user)
            return json_response(200, cpu_targets_options())
        uuid_hex = parse_uuid(route.lookup)
        if uuid_hex is None:
            raise HttpError(detail(404, "Not found."))
        with self.store.reading() as conn:
            catalog = sql.catalog_architectures(conn, uuid_hex)
        if catalog is None:
            raise HttpError(detail(404, "No SoftwareCatalog matches the given query."))
        return json_response(200, render.cpu_targets(catalog["version"], catalog["metadata"]))


def _link_fields(
    conn: sqlite3.Connection, body: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """`catalog`, the CPU lists and `partition`, with DRF's messages, all errors at once."""
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if "catalog" in body:
        try:
            values["catalog_id"] = _catalog(conn, body["catalog"])
        except FieldError as exc:
            errors["catalog"] = exc.detail
    elif not partial:
        errors["catalog"] = [REQUIRED]
    for f in _CPU_FIELDS:
        if f.name in body:
            try:
                values[f.name] = to_internal(f, body[f.name], _no_lookup)
            except FieldError as exc:
                errors[f.name] = exc.detail
        elif not partial:
            values[f.name] = []
    if "partition" in body and body["partition"] not in (None, ""):
        errors["partition"] = [_does_not_exist(body["partition"])]  # the sim has no partitions
    if errors:
        raise ValidationFailed(errors)
    return values


def _catalog(conn: sqlite3.Connection, value: Any) -> int:
    """DRF's SlugRelatedField on the catalog's uuid: hex or hyphenated, any case; anything
    else, a URL included, does not exist."""
    if value is None or value == "":
        raise FieldError([NULL])
    uuid_hex = parse_uuid(value) if isinstance(value, str) else None
    found = None if uuid_hex is None else sql.catalog_id(conn, uuid_hex)
    if found is None:
        raise FieldError([_does_not_exist(value)])
    return found


def _does_not_exist(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)  # Django's smart_str
    return f"Object with uuid={text} does not exist."


def _checked(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except ValidationFailed as exc:
        raise HttpError(json_response(400, exc.errors)) from None


def _allow(method: str, allowed: str) -> None:
    if method not in allowed.split(", "):
        raise HttpError(detail(405, f'Method "{method}" not allowed.'))
