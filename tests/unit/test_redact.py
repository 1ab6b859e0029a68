"""The one redactor: every secret in force masked as a token, never as part of a word; URLs
shown without their userinfo; secrets too short to mask safely refused."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from reconciler.core import redact as r

TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"  # Waldur's shape: 40 hex digits


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    r.forget_all()
    yield
    r.forget_all()


def test_a_long_secret_is_masked_wherever_it_occurs():
    r.register(TOKEN)
    for text in (
        f"Authorization: Token {TOKEN}",
        f'{{"detail": "you sent Token {TOKEN}"}}',
        f"Authorization=Token%20{TOKEN}&x=1",  # glued to a percent-escape
        f"prefix{TOKEN}suffix",
    ):
        shown = r.redact(text)
        assert TOKEN not in shown and r.MASK in shown


def test_a_secret_is_masked_in_its_json_html_and_url_forms():
    secret = 'tok"en<&>/+\\1234'
    r.register(secret)
    for form in (json.dumps(secret)[1:-1], html.escape(secret), quote(secret, safe="")):
        assert form != secret
        assert r.redact(f"[{form}]") == f"[{r.MASK}]"


def test_ordinary_words_stay_readable():
    r.register(TOKEN)
    r.register("a")  # a short secret (a forge token we do not choose): whole words only
    text = "EESSI 2023.06 / GROMACS: desired state, catalogs and a package"
    assert r.redact(text) == "EESSI 2023.06 / GROMACS: desired state, catalogs and *** package"


def test_the_registry_grows_with_rotated_tokens():
    r.register(TOKEN)
    rotated = TOKEN[::-1]
    assert r.redact(rotated) == rotated
    r.register(rotated)
    assert r.redact(f"{TOKEN} {rotated}") == f"{r.MASK} {r.MASK}"


def test_urls_lose_their_userinfo():
    shown = r.redact("cannot connect to http://operator:pa55word@127.0.0.1:9/api/: refused")
    assert shown == "cannot connect to http://127.0.0.1:9/api/: refused"
    assert r.redact("write to a@b.org or see https://x.org/p@q") == (
        "write to a@b.org or see https://x.org/p@q"
    )
    assert "user" in r.redact("http://user:x@h/", userinfo=False)


def test_the_url_password_is_a_secret():
    r.register_url("https://operator:long-password-123@waldur.example.org/api/")
    assert r.redact("echo long-password-123") == f"echo {r.MASK}"
    assert r.url_password("https://waldur.example.org/api/") is None


@pytest.mark.parametrize("token", ["EESSI", "a", "short-token"])
def test_short_tokens_are_refused_with_a_reason(token):
    with pytest.raises(ValueError, match="at least 12"):
        r.check_token(token)


def test_tokens_with_white_space_are_refused_and_real_ones_taken():
    with pytest.raises(ValueError, match="white space"):
        r.check_token("abcdef 123456789")
    r.check_token(TOKEN)


def test_the_stream_wrapper_masks_every_write_and_passes_the_rest():
    r.register(TOKEN)
    inner = io.StringIO()
    stream = r.RedactingStream(inner)
    stream.write(f"token {TOKEN}\n")
    stream.writelines([f"http://u:p@h/ {TOKEN}\n"])
    assert inner.getvalue() == f"token {r.MASK}\nhttp://h/ {r.MASK}\n"
    assert stream.isatty() is False and stream.wrapped is inner


def test_the_url_userinfo_is_dropped_even_without_a_scheme():
    r.register_url("http://operator:long-password-123@127.0.0.1:9/api/")
    shown = r.redact("cannot connect to operator:long-password-123@127.0.0.1:9: refused")
    assert shown == "cannot connect to 127.0.0.1:9: refused"


def test_the_basic_credentials_of_the_url_are_masked():
    r.register_url("https://op%40x:p%2Fssword-1234@h/api/")
    basic = base64.b64encode(b"op@x:p/ssword-1234").decode()
    assert r.redact(f"Authorization: Basic {basic}") == f"Authorization: Basic {r.MASK}"
    assert "p/ssword-1234" not in r.redact("echo p/ssword-1234 and p%2Fssword-1234")


def test_secrets_refused_as_too_short_are_not_registered():
    from reconciler.core.secret import Secret
    from reconciler.settings import Settings

    settings = Settings(sync_token="EESSI").with_token(Secret("EESSI"))
    assert settings.secrets() == []
    r.register_url("https://user:EESSI@h/api/")
    assert r.redact("EESSI 2023.06 / GROMACS") == "EESSI 2023.06 / GROMACS"
