"""Users and tokens: DRF's TokenAuthentication and Waldur's staff-only writes.

Three users exist, each with one token: a staff user, a non-staff user without any role, and a
non-staff user who owns the providing organisation of the sim's offerings (`--offering`). Reads
of the catalog kinds are public; a token that is sent must be valid (else 401, even on reads).
Writes of the catalog kinds need the staff user: anonymous → 401, non-staff → 403. Offerings
are seen and their software catalogs changed by staff and by owners of the providing
organisation (see `offerings.py`). 401 answers carry `WWW-Authenticate: Token`.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from waldur_sim.responses import HttpError, detail

DEFAULT_STAFF_TOKEN = "sim-staff-token"
DEFAULT_USER_TOKEN = "sim-user-token"
DEFAULT_OWNER_TOKEN = "sim-owner-token"
NOT_PROVIDED = "Authentication credentials were not provided."
_WWW_AUTHENTICATE = ("WWW-Authenticate", "Token")


@dataclass(frozen=True, slots=True)
class Organisation:
    """A customer (organisation) of Waldur that provides offerings."""

    name: str

    @property
    def uuid(self) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"waldur-sim:customer:{self.name}").hex


#: The organisation whose offerings `--offering` creates (the owner token's organisation),
#: and another one, whose offerings (`--other-offering`) no sim user but staff may see.
PROVIDER = Organisation("Sim Provider")
OTHER_PROVIDER = Organisation("Other Provider")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    full_name: str
    staff: bool
    token: str
    owns: frozenset[str] = frozenset()  # uuids of the organisations the user owns

    @property
    def uuid(self) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"waldur-sim:{self.username}").hex

    def me(self, base: str) -> dict[str, Any]:
        """`GET /api/users/me/` as Waldur answers it (with the user's own token)."""
        body: dict[str, Any] = {
            "url": f"{base}/api/users/{self.uuid}/",
            "uuid": self.uuid,
            "username": self.username,
            "full_name": self.full_name,
            "email": f"{self.username}@example.com",
            "is_active": True,
            "token": self.token,
            "token_lifetime": 3600,
        }
        if self.staff:  # real Waldur omits the key for a non-staff user
            body["is_staff"] = True
        return body


class Users:
    def __init__(
        self, staff_token: str, user_token: str, owner_token: str = DEFAULT_OWNER_TOKEN
    ) -> None:
        self._users = (
            User("sim-staff", "Simulated staff user", staff=True, token=staff_token),
            User("sim-user", "Simulated user", staff=False, token=user_token),
            User(
                "sim-owner",
                "Simulated offering owner",
                staff=False,
                token=owner_token,
                owns=frozenset({PROVIDER.uuid}),
            ),
        )

    def authenticate(self, header: str) -> User | None:
        """The user of an `Authorization: Token <key>` (or `Bearer`) header; None if anonymous."""
        parts = header.split()
        if not parts or parts[0].lower() not in ("token", "bearer"):
            return None
        if len(parts) == 1:
            message = "Invalid token header. No credentials provided."
        elif len(parts) > 2:
            message = "Invalid token header. Token string should not contain spaces."
        else:
            for user in self._users:
                if hmac.compare_digest(parts[1].encode(), user.token.encode()):
                    return user
            message = "Invalid token."
        raise HttpError(detail(401, message, [_WWW_AUTHENTICATE]))


def require_user(user: User | None) -> User:
    if user is None:
        raise HttpError(detail(401, NOT_PROVIDED, [_WWW_AUTHENTICATE]))
    return user


def require_staff(user: User | None) -> None:
    if not require_user(user).staff:
        raise HttpError(detail(403, "You do not have permission to perform this action."))
