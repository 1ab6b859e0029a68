"""Read what the server accepts: ``OPTIONS`` of the list endpoints, ``GET /api/version/``.

Asked only when a plan has something to create or update (a no-op costs no extra request),
and only for the kinds it writes. See `reconciler.core.capabilities` for what is done with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin

from reconciler.core.capabilities import Capabilities, KindRules
from reconciler.core.errors import ApiError, AuthError, NotFound
from reconciler.core.model import Kind
from reconciler.remote.client import WaldurClient


def server_version(client: WaldurClient) -> str:
    """ "<release>+<build>", or "" where the server has no such page or will not say."""
    try:
        body = client.get_json(urljoin(client.api_url, "version/"))
    except (NotFound, AuthError):
        return ""
    return str(body.get("version", "")) if isinstance(body, dict) else ""


def read_capabilities(client: WaldurClient, kinds: Iterable[Kind]) -> Capabilities:
    """The write rules of `kinds`, or Capabilities with `unchecked` saying why not."""
    if client.config.token is None:
        return Capabilities(unchecked="no token (OPTIONS describes writes to staff only)")
    found: dict[Kind, KindRules] = {}
    for kind in sorted(set(kinds)):
        try:
            answer = client.request("OPTIONS", client.collection_url(kind)).json()
        except (ApiError, ValueError) as exc:
            why = exc.status if isinstance(exc, ApiError) and exc.status else type(exc).__name__
            return Capabilities(unchecked=f"OPTIONS {kind.label}s answered {why}")
        rules = KindRules.parse(answer)
        if rules is None:
            return Capabilities(
                unchecked="OPTIONS gives no actions (the token is not staff, or an older server)"
            )
        found[kind] = rules
    return Capabilities(kinds=found, server_version=server_version(client))


NO_LOADER_ACTIONS = (
    "this server has no catalog loader actions ({why}); Waldur 8.0.2 or later loads "
    "catalogs through its API (import_catalog, update_catalog)"
)


def loader_actions(client: WaldurClient) -> str | None:
    """Why the server cannot run its loaders through the API ("" when it can; None when it
    cannot be told: no token, or a token that OPTIONS does not show writes to).

    Staff ``OPTIONS …/import_catalog/`` lists ``actions.POST`` where the action exists; a
    server without it answers 404/405, or routes the path as a catalog's detail (no POST)."""
    if client.config.token is None:
        return None
    catalogs = client.collection_url(Kind.CATALOG)
    try:
        answer = client.request("OPTIONS", f"{catalogs}import_catalog/").json()
    except ApiError as exc:
        if exc.status in (404, 405):
            return NO_LOADER_ACTIONS.format(why=f"OPTIONS …/import_catalog/ answered {exc.status}")
        return None
    except ValueError:
        return None
    if KindRules.parse(answer) is not None:
        return ""
    try:  # no POST there: an older server, or a token that is not staff?
        listing = client.request("OPTIONS", catalogs).json()
    except (ApiError, ValueError):
        return None
    if KindRules.parse(listing) is None:
        return None
    return NO_LOADER_ACTIONS.format(why="OPTIONS …/import_catalog/ lists no POST for staff")
