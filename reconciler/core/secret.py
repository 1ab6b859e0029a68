"""A secret string that never shows itself: `repr` and `str` give ``'**********'``.

Every secret is registered with the one redactor (`reconciler.core.redact`) as it is made, so
a token read from anywhere (the settings, a project file's environment, a Git source's token
file, a SIGHUP rotation) is masked in every channel without each reader remembering to. A
value shorter than `MIN_SECRET_LENGTH` is not registered here: an API token that short is
refused before it is sent (`check_token`), and masking it as a word would mangle the message
that says so.
"""

from __future__ import annotations

from reconciler.core.redact import MIN_SECRET_LENGTH, register


class Secret:
    """A token. Read it with `get_secret_value()`, only where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= MIN_SECRET_LENGTH:
            register(value)

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
