"""One redactor for every channel: the secrets in force, masked wherever text leaves the process.

Every secret the process holds is registered here as soon as it is read: the API token (and
each token a SIGHUP rotation reads), the password of the API URL, the daemon's sync token,
the forge's token. Every channel passes its text through `redact` at the point where it leaves:
stdout and stderr (`RedactingStream`, installed by the CLI), log lines, files written
(`$GITHUB_STEP_SUMMARY`, `$GITHUB_OUTPUT`, saved plans), the daemon's HTTP answers (status
page, /status.json, /metrics). A renderer that forgets is caught at the door.

How a secret is matched:

- A secret of at least `MIN_SECRET_LENGTH` characters is masked wherever it occurs, even
  glued to other text (``Token%20<token>`` in an echoed query string). Such a string does not
  occur in ordinary words by chance, so masking it cannot mangle them. The API token and the
  sync token and a password in the API URL must be this long: a shorter one is refused at
  start-up (`check_token`), so no secret we choose can be a word like ``EESSI``.
- A shorter secret (only a forge token we do not choose could be one) is masked only as a
  whole occurrence, bounded by characters that cannot be part of a token (not a letter or
  digit): the secret ``a`` never turns "desired state" into "desired st***te". A word equal
  to such a secret is masked: showing it would show the secret.
- Each secret is also matched in the forms it takes on the way out: JSON-escaped,
  HTML-escaped, percent-encoded; a URL's password also as the Basic credentials an HTTP
  client sends for it (base64 of ``user:password``).

`redact` also drops the userinfo of every URL in the text (``http://user:pass@host/`` is
shown as ``http://host/``), whether or not it was registered.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, unquote, urlsplit

#: The shortest API token (and sync token) accepted. Waldur's tokens are 40 hex digits.
MIN_SECRET_LENGTH = 12
MASK = "***"
_WORD = "A-Za-z0-9"
#: ``scheme://userinfo@``: the userinfo part, up to the ``@`` before the host.
_USERINFO = re.compile(r"://[^/?#\s@\"'<>\\\[\]]*@")


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secrets: set[str] = set()
        #: Every form of every secret (a quick test), and the pattern that masks them; one
        #: tuple, replaced whole, so a reader never sees one without the other.
        self.matcher: tuple[tuple[str, ...], re.Pattern[str]] | None = None
        self.userinfo: tuple[str, ...] = ()  # ``user:password@`` of the API URL: dropped

    def add(self, value: str) -> None:
        with self.lock:
            if value in self.secrets:
                return
            self.secrets.add(value)
            forms = sorted({f for s in self.secrets for f in _forms(s)}, key=lambda f: (-len(f), f))
            alternatives = [
                re.escape(f) if len(f) >= MIN_SECRET_LENGTH else _whole(f) for f in forms
            ]
            self.matcher = (tuple(forms), re.compile("|".join(alternatives)))

    def drop(self, userinfo: str) -> None:
        with self.lock:
            if userinfo not in self.userinfo:
                self.userinfo = (*self.userinfo, userinfo)

    def clear(self) -> None:
        with self.lock:
            self.secrets.clear()
            self.matcher = None
            self.userinfo = ()


def _forms(secret: str) -> set[str]:
    """The secret as it is written raw, in JSON, in HTML and in a URL."""
    import html  # here: a run without secrets never needs it

    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    } - {""}


def _whole(form: str) -> str:
    return f"(?<![{_WORD}]){re.escape(form)}(?![{_WORD}])"


_REGISTRY = _Registry()


def register(value: str | None) -> None:
    """Mask `value` from now on in everything `redact` sees (None and "" are ignored)."""
    if value:
        _REGISTRY.add(value)


def url_password(url: str | None) -> str | None:
    """The password of `url` (``https://user:password@host/``), if it has one."""
    try:
        return urlsplit((url or "").strip()).password
    except ValueError:
        return None


def register_url(url: str | None) -> None:
    """Register the password of `url`, if it has one, and the Basic credentials HTTP
    clients send for it (base64 of ``user:password``)."""
    password = url_password(url)
    if not password or len(password) < MIN_SECRET_LENGTH:
        return  # none, or refused before it is ever sent (`check_token`)
    raw_user = urlsplit((url or "").strip()).username or ""
    user = unquote(raw_user)
    for userinfo in (f"{raw_user}:{password}@", f"{user}:{unquote(password)}@"):
        _REGISTRY.drop(userinfo)  # also where a message shows the host without a scheme
    register(password)
    register(unquote(password))
    import base64

    basic = f"{user}:{unquote(password)}".encode()
    register(base64.b64encode(basic).decode("ascii"))


def forget_all() -> None:
    """Drop every registered secret (tests only)."""
    _REGISTRY.clear()


def redact(text: str, *, userinfo: bool = True) -> str:
    """`text` with every registered secret masked (and, with `userinfo`, every URL's
    ``user:password@`` dropped).

    Secrets are masked before userinfo is dropped: a registered secret that is a whole URL
    with userinfo (a notification URL, whose path holds tokens too) must still match."""
    if userinfo and "@" in text:
        for found in _REGISTRY.userinfo:
            text = text.replace(found, "")
    matcher = _REGISTRY.matcher
    if matcher is not None:
        forms, pattern = matcher
        if any(form in text for form in forms):  # the common case: a substring scan, no regex
            text = pattern.sub(MASK, text)
    if userinfo and "@" in text and "://" in text:
        text = _USERINFO.sub("://", text)
    return text


def check_token(value: str, what: str = "the API token") -> None:
    """Raise ValueError when `value` is too short to be masked safely, or cannot be sent."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{what} is {len(value)} characters long; at least {MIN_SECRET_LENGTH} are "
            "needed (Waldur's tokens have 40): a shorter one could not be told apart from "
            "ordinary words when it is masked in output"
        )
    if any(not char.isprintable() or char.isspace() for char in value):
        raise ValueError(f"{what} holds white space or control characters")


class RedactingStream:
    """A text stream that redacts every write before passing it on (stdout, stderr)."""

    def __init__(self, stream: TextIO, *, userinfo: bool = True) -> None:
        self._stream = stream
        self._userinfo = userinfo

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text, userinfo=self._userinfo))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, …
        return getattr(self._stream, name)
