"""How a setting is declared and how its text is read: the parts of `reconciler.settings`
that need nothing but the standard library (and so can be tested and reused on their own).

Each parser turns the text of a flag or an environment variable into a value, or raises
ValueError saying what was expected; the caller adds which flag or variable it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting is spelled and read (a secret has no flag: `ps` would show it)."""

    name: str
    flag: str | None
    env: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    short: str | None = None

    @property
    def is_bool(self) -> bool:
        return self.parse is boolean


def option(
    flag: str | None,
    env: str,
    default: Any,
    help: str,
    parse: Callable[[str], Any] = str,
    choices: tuple[str, ...] | None = None,
    short: str | None = None,
) -> Any:
    """A `Settings` field that is also a flag and an environment variable; with no flag, an
    environment variable only, kept out of the settings' repr (a secret)."""
    spec = {"flag": flag, "env": env, "help": help, "parse": parse}
    spec.update(choices=choices, short=short)
    return field(default=default, metadata={"option": spec}, repr=flag is not None)


def host_names(text: str) -> tuple[str, ...]:
    """`name,name:port,…` → the names, lower-cased (empty entries dropped)."""
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for name in names:
        if any(c.isspace() or c in "/@?#" for c in name):
            raise ValueError(f"{name!r} is not a host name (HOST or HOST:PORT)")
    return names


# Parsers: text (a flag's or a variable's) → value, or ValueError saying what is expected.


def boolean(text: str) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case); anything else is an error, not false."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not true or false (also: yes/no, on/off, 1/0)")


def duration(text: str) -> float:
    """`90`, `90s`, `10m`, `2h`, `1d` → seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(text[-1:])
    number = text[:-1] if factor else text
    try:
        value = float(number) * (factor or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration like 90s, 10m or 2h") from None
    if value < 0:
        raise ValueError("a duration cannot be negative")
    return value


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ValueError("cannot be negative")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value <= 0:
        raise ValueError("must be positive")
    return value


def percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100")
    return value
