"""Users and tokens: DRF's TokenAuthentication and Waldur's staff-only writes.

Two users exist: a staff user and a non-staff user, each with one token. Reads are public;
a token that is sent must be valid (else 401, even on reads). Writes need the staff user:
anonymous → 401, non-staff → 403. 401 answers carry `WWW-Authenticate: Token`.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.sim.responses import HttpError, detail

DEFAULT_STAFF_TOKEN = "sim-staff-token"
DEFAULT_USER_TOKEN = "sim-user-token"
NOT_PROVIDED = "Authentication credentials were not provided."
_WWW_AUTHENTICATE = ("WWW-Authenticate", "Token")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    full_name: str
    staff: bool
    token: str

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
    def __init__(self, staff_token: str, user_token: str) -> None:
        self._users = (
            User("sim-staff", "Simulated staff user", staff=True, token=staff_token),
            User("sim-user", "Simulated user", staff=False, token=user_token),
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
