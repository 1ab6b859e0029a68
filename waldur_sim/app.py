"""The application: one request in, one response out, the way Waldur's DRF views answer.

The order of checks is DRF's: Host header (Django's middleware) → authentication (an invalid
token is 401 even on reads) → permissions (writes need staff; checked before any object lookup)
→ method allowed (405) → object lookup (404) → body parsing (400/415) → validation (400) →
uniqueness (400) → write. Faults (see `faults.py`) are decided before all of it.

Every response to a request that reached a view carries `Allow` and `Vary` like DRF's do, and
every response (but the sim's own statistics and injected faults, which come from "a proxy")
carries the headers of Waldur's Django middleware: `X-Frame-Options`, `Content-Language`, `Vary`.
"""

from __future__ import annotations

import random
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

from waldur_sim.auth import (
    DEFAULT_OWNER_TOKEN,
    DEFAULT_STAFF_TOKEN,
    DEFAULT_USER_TOKEN,
    User,
    Users,
    require_staff,
    require_user,
)
from waldur_sim.builds import NEWEST
from waldur_sim.faults import WRITE_METHODS, Faults, Stats
from waldur_sim.filters import Params, QueryBuilder, QueryError
from waldur_sim.kinds import (
    KINDS,
    OFFERING_VIEWS,
    PACKAGE,
    KindInfo,
    Route,
    View,
    collection_url,
    resolve,
)
from waldur_sim.loaders.actions import CatalogActions
from waldur_sim.loaders.actions import allow as action_allow
from waldur_sim.metadata import PARSES, RENDERS, SERVER_VERSION, Metadata
from waldur_sim.offerings import OfferingViews, allow
from waldur_sim.pagination import InvalidPage, link_header, paginate
from waldur_sim.render import Renderer
from waldur_sim.request import Request, parse_body
from waldur_sim.responses import (
    HTML_TYPE,
    JSON_TYPE,
    HttpError,
    Response,
    detail,
    django_page,
    encode_json,
    json_response,
    server_error,
)
from waldur_sim.serializers import (
    LEGACY,
    Schema,
    check_body,
    encode,
    schemas,
    validate,
)
from waldur_sim.store import Store
from waldur_sim.validation import ValidationFailed, parse_uuid

MAX_BODY_BYTES = 1024 * 1024

COLLECTION_METHODS = ("GET", "POST", "HEAD", "OPTIONS")
DETAIL_METHODS = ("GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
VERSION_ALLOW = "OPTIONS, GET"  # Waldur's function view, as recorded (HEAD works too)
DRF_VARY = "Accept, Accept-Language, Cookie"
DJANGO_HEADERS = (("X-Frame-Options", "DENY"), ("Content-Language", "en"))

# Django's `host_validation_re`: a host name or [IPv6], and an optional port.
_HOST_RE = re.compile(r"^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?$", re.IGNORECASE)
_UNROUTED = "unrouted"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Settings:
    staff_token: str = DEFAULT_STAFF_TOKEN
    user_token: str = DEFAULT_USER_TOKEN
    owner_token: str = DEFAULT_OWNER_TOKEN
    dialect: str = LEGACY
    read_only: frozenset[str] = frozenset()
    build: str = NEWEST  # the upstream build imitated where builds differ (builds.py)
    embed: bool = True
    latency: float = 0.0  # seconds added to every answer
    latency_jitter: float = 0.0  # up to this many seconds more, drawn per answer


class App:
    def __init__(self, store: Store, settings: Settings, faults: Faults, stats: Stats) -> None:
        self.store = store
        self.settings = settings
        self.faults = faults
        self.stats = stats
        self.schemas = schemas(settings.dialect, settings.read_only)
        self.metadata = Metadata(self.schemas, settings.dialect, settings.embed)
        self.queries = QueryBuilder(settings.dialect)
        self.users = Users(settings.staff_token, settings.user_token, settings.owner_token)
        self.offerings = OfferingViews(store, settings.build)
        self._jitter = random.Random()  # not the faults' seeded one: jitter is meant to vary
        #: the catalog actions and their loaders (`loaders/`); None: a build without them
        self.catalog_actions: CatalogActions | None = None

    def route(self, path: str) -> Route | None:
        """The route of a decoded path on this server (the catalog actions only if served)."""
        route = resolve(path)
        if route is None or self.catalog_actions is not None:
            return route
        return route.without_catalog_actions()

    def handle(self, request: Request) -> Response:
        raw_path, _, query = request.target.partition("?")
        route = self.route(unquote(raw_path))
        if route is not None and route.view is View.SIM_LOADERS and self.catalog_actions:
            return self.catalog_actions.control(request)
        if route is None:
            response = _django_headers(_unrouted(self.route, raw_path, query))
            self.stats.record(request.method, _UNROUTED, response.status)
            return response
        if route.view is View.STATS:
            return self._stats(request.method)
        plan = self.faults.plan(request.method, route.label)
        if plan.answer is not None:
            response = plan.answer
        else:
            response = _django_headers(self._guarded(request, route))
            response.drop, response.delay = plan.drop, plan.stall
        response.delay += self.settings.latency
        if self.settings.latency_jitter:
            response.delay += self._jitter.uniform(0, self.settings.latency_jitter)
        self.stats.record(request.method, route.label, response.status)
        return response

    def _guarded(self, request: Request, route: Route) -> Response:
        try:
            return self._dispatch(request, route)
        except HttpError as exc:
            return exc.response
        except Exception:  # never let a request take the server down
            traceback.print_exc(file=sys.stderr)
            return server_error()

    def _dispatch(self, request: Request, route: Route) -> Response:
        base = _base_url(request)
        offering_view = route.view in OFFERING_VIEWS or route.view is View.CPU_TARGETS
        catalog_action = route.view is View.CATALOG_ACTION
        if offering_view:
            allowed, allow_header = (), allow(route)
        elif catalog_action:
            allowed, allow_header = (), action_allow(route)
        elif route.kind is None:
            allowed = READ_METHODS
            allow_header = VERSION_ALLOW if route.view is View.VERSION else ", ".join(allowed)
        else:
            allowed = DETAIL_METHODS if route.view is View.DETAIL else COLLECTION_METHODS
            allow_header = ", ".join(allowed)
        try:
            if offering_view:
                user = self._authenticate(request)
                response = self.offerings.handle(request, route, base, user)
            elif catalog_action and self.catalog_actions is not None:
                user = self._authenticate(request)
                response = self.catalog_actions.handle(request, route, user)
            elif route.kind is None:
                response = self._fixed_view(request, route, base)
            else:
                response = self._kind_view(request, route, route.kind, allowed, base)
        except HttpError as exc:
            response = exc.response
        if response.content_type != HTML_TYPE:  # Django's own error pages are not DRF's
            response.headers += [("Allow", allow_header), ("Vary", DRF_VARY)]
        return response

    def _fixed_view(self, request: Request, route: Route, base: str) -> Response:
        """The API root (public), `users/me` and `version` (any authenticated user)."""
        user = self._authenticate(request)
        if route.view is not View.ROOT:
            user = require_user(user)
        _allow(request.method, READ_METHODS)
        if route.view is View.ME and user is not None:
            return json_response(200, user.me(base))
        if route.view is View.VERSION:
            if request.method == "OPTIONS":
                info = {"name": "Version", "description": "", "renders": RENDERS}
                return json_response(200, info | {"parses": PARSES})
            return json_response(200, {"version": SERVER_VERSION})
        return json_response(200, {k.segment: collection_url(base, k) for k in KINDS.values()})

    def _kind_view(
        self,
        request: Request,
        route: Route,
        kind: KindInfo,
        allowed: tuple[str, ...],
        base: str,
    ) -> Response:
        method = request.method
        user = self._authenticate(request)
        if method in WRITE_METHODS:
            require_staff(user)
        _allow(method, allowed)
        if method == "OPTIONS":
            return self._options(kind, route, user)
        params = parse_qs(request.target.partition("?")[2], keep_blank_values=True)
        selected = tuple(name for name in params.get("field", ()) if name)
        renderer = Renderer(base, self.settings.dialect, self.settings.embed, selected)
        if route.view is View.COLLECTION:
            if method == "POST":
                return self._create(kind, request, renderer)
            return self._list(kind, request, renderer, params)
        uuid_hex = parse_uuid(route.lookup)
        if uuid_hex is None:
            raise HttpError(detail(404, "Not found."))
        if method == "DELETE":
            return self._destroy(kind, uuid_hex)
        if method in ("PUT", "PATCH"):
            return self._update(kind, uuid_hex, request, renderer, partial=method == "PATCH")
        return self._retrieve(kind, uuid_hex, renderer)

    # -- views --------------------------------------------------------------------------------

    def _list(
        self, kind: KindInfo, request: Request, renderer: Renderer, params: Params
    ) -> Response:
        raw_path, _, query = request.target.partition("?")
        try:
            list_query = self.queries.build(kind, params)
        except QueryError as exc:
            raise HttpError(json_response(400, exc.errors)) from None
        body = b""
        with self.store.reading() as conn:
            count = self.store.count(conn, list_query)
            try:
                page = paginate(params, count)
            except InvalidPage:
                raise HttpError(detail(404, "Invalid page.")) from None
            if request.method == "GET":
                rows = self.store.page(conn, list_query, page.size, page.offset)
                body = encode_json(self._render_rows(conn, kind, rows, renderer))
        headers = [
            ("X-Result-Count", str(count)),
            ("Link", link_header(renderer.base, raw_path, query, page)),
        ]
        return Response(200, body, JSON_TYPE, headers)

    def _retrieve(self, kind: KindInfo, uuid_hex: str, renderer: Renderer) -> Response:
        with self.store.reading() as conn:
            return json_response(200, self._body(conn, kind, uuid_hex, renderer))

    def _create(self, kind: KindInfo, request: Request, renderer: Renderer) -> Response:
        schema = self.schemas[kind.name]
        data = parse_body(request)
        if schema.read_only:
            _checked(check_body, data)
            raise HttpError(server_error())  # upstream: an unhandled database error
        with self.store.writing() as conn:
            values = self._validate(conn, schema, data, creating=True, partial=False)
            self._check_unique(conn, schema, values, None)
            uuid_hex = _write(schema, lambda: self.store.insert(conn, kind, encode(schema, values)))
            body = self._body(conn, kind, uuid_hex, renderer)
        return json_response(201, body, [("Location", body["url"])])

    def _update(
        self, kind: KindInfo, uuid_hex: str, request: Request, renderer: Renderer, *, partial: bool
    ) -> Response:
        schema = self.schemas[kind.name]
        with self.store.writing() as conn:
            row = self._get(conn, kind, uuid_hex)
            data = parse_body(request)
            if schema.read_only:  # upstream: every field read-only, only `modified` moves
                values: dict[str, Any] = {}
                _checked(check_body, data)
            else:
                values = self._validate(conn, schema, data, creating=False, partial=partial)
                self._check_unique(conn, schema, values, row)
            _write(schema, lambda: self.store.update(conn, kind, row["id"], encode(schema, values)))
            body = self._body(conn, kind, uuid_hex, renderer)
        return json_response(200, body)

    def _destroy(self, kind: KindInfo, uuid_hex: str) -> Response:
        with self.store.writing() as conn:
            row = self._get(conn, kind, uuid_hex)
            self.store.delete(conn, kind, row["id"])
        return Response(204, content_type=None)

    def _options(self, kind: KindInfo, route: Route, user: User | None) -> Response:
        """DRF's metadata: `actions` only for a user who may write, and on a detail view only
        when the object exists (DRF drops them when its lookup fails)."""
        require_user(user)  # Waldur answers an anonymous OPTIONS 401, unlike a GET
        detail_view = route.view is View.DETAIL
        action = None
        if user is not None and user.staff:
            action = "PUT" if detail_view else "POST"
            if detail_view:
                uuid_hex = parse_uuid(route.lookup)
                with self.store.reading() as conn:
                    if uuid_hex is None or self.store.get(conn, kind, uuid_hex) is None:
                        action = None
        return json_response(200, self.metadata.body(kind, detail=detail_view, action=action))

    def _stats(self, method: str) -> Response:
        if method == "DELETE":
            self.stats.reset()
            return Response(204, content_type=None)
        if method not in ("GET", "HEAD"):
            return detail(405, f'Method "{method}" not allowed.', [("Allow", "GET, DELETE")])
        return json_response(200, self.stats.snapshot())

    # -- helpers ------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> User | None:
        return self.users.authenticate(request.headers.get("authorization", ""))

    def _get(self, conn: sqlite3.Connection, kind: KindInfo, uuid_hex: str) -> sqlite3.Row:
        row = self.store.get(conn, kind, uuid_hex)
        if row is None:
            raise HttpError(detail(404, f"No {kind.model} matches the given query."))
        return row

    def _validate(
        self,
        conn: sqlite3.Connection,
        schema: Schema,
        data: Any,
        *,
        creating: bool,
        partial: bool,
    ) -> dict[str, Any]:
        def lookup(kind_name: str, uuid_hex: str) -> int | None:
            return self.store.lookup_id(conn, kind_name, uuid_hex)

        return _checked(validate, schema, data, creating=creating, partial=partial, lookup=lookup)

    def _check_unique(
        self,
        conn: sqlite3.Connection,
        schema: Schema,
        values: Mapping[str, Any],
        instance: sqlite3.Row | None,
    ) -> None:
        """DRF's UniqueTogetherValidator: on update, only when a key field changes."""
        columns = schema.key_columns()
        if instance is None:
            key = {column: values[column] for column in columns}
        else:
            key = {column: values.get(column, instance[column]) for column in columns}
            if all(key[column] == instance[column] for column in columns):
                return
        exclude = None if instance is None else instance["id"]
        if self.store.key_taken(conn, schema.kind, key, exclude):
            raise HttpError(_unique_error(schema))

    def _body(
        self, conn: sqlite3.Connection, kind: KindInfo, uuid_hex: str, renderer: Renderer
    ) -> dict[str, Any]:
        """The response body of one object (404 when there is none)."""
        return self._render_rows(conn, kind, [self._get(conn, kind, uuid_hex)], renderer)[0]

    def _render_rows(
        self, conn: sqlite3.Connection, kind: KindInfo, rows: list[sqlite3.Row], renderer: Renderer
    ) -> list[dict[str, Any]]:
        trees, relatives = {}, {}
        if kind is PACKAGE:
            ids = [row["id"] for row in rows]
            trees = self.store.trees(conn, ids) if renderer.embed else {}
            relatives = {} if renderer.legacy else self.store.relatives(conn, ids)
        return [
            renderer.render(kind, row, trees.get(row["id"]), relatives.get(row["id"]))
            for row in rows
        ]


def _checked(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except ValidationFailed as exc:
        raise HttpError(json_response(400, exc.errors)) from None


def _unique_error(schema: Schema) -> Response:
    return json_response(400, {"non_field_errors": [schema.unique_message()]})


def _write(schema: Schema, write: Callable[[], T]) -> T:
    """Run a write; a uniqueness race the checks missed is still DRF's 400, never a 500."""
    try:
        return write()
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):
            raise
        raise HttpError(_unique_error(schema)) from None


def _base_url(request: Request) -> str:
    """`http://<Host>`, as Django's `build_absolute_uri`; a malformed Host is a 400."""
    host = request.headers.get("host") or request.server_host
    if not _HOST_RE.match(host):
        raise HttpError(django_page(400, "Bad Request (400)"))
    return f"http://{host}"


def _allow(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise HttpError(detail(405, f'Method "{method}" not allowed.'))


def _django_headers(response: Response) -> Response:
    """What Waldur's Django middleware adds to every answer (XFrameOptions, Locale, sessions)."""
    if not any(name == "Vary" for name, _value in response.headers):
        response.headers.append(("Vary", "Accept-Language, Cookie"))
    response.headers += DJANGO_HEADERS
    return response


def _unrouted(route: Callable[[str], Route | None], raw_path: str, query: str) -> Response:
    """Django: a missing trailing slash is redirected (APPEND_SLASH), anything else 404."""
    if not raw_path.endswith("/") and route(unquote(raw_path) + "/") is not None:
        location = f"{raw_path}/?{query}" if query else f"{raw_path}/"
        return Response(301, content_type=None, headers=[("Location", location)])
    return django_page(404, "Not Found", "The requested resource was not found on this server.")
