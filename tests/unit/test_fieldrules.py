"""The offline value rules against the server's own: Django's URLValidator is the oracle.

`reconciler.fieldrules.is_valid_url` (what `reconcile validate` uses) and waldur-sim's rule are
both rebuilds of Django's `URLValidator`, the validator behind Waldur's URL fields; Hypothesis
throws URL-shaped and arbitrary text at all three and they must agree.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.core import fieldrules
from waldur_sim import validation as sim_validation

DJANGO = URLValidator(schemes=["http", "https", "ftp", "ftps"])  # URLField's defaults


def django_accepts(value: str) -> bool:
    try:
        DJANGO(value)
    except ValidationError:
        return False
    return True


label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True) | st.sampled_from(
    ["-x", "x-", "xn--bcher-kva", "bücher", "例え", "a" * 63, "a" * 64]
)
tld = st.sampled_from(["org", "io", "例え", "xn--p1ai", "c", "co1", "org."])
host = st.one_of(
    st.builds(lambda names, end: ".".join([*names, end]), st.lists(label, max_size=3), tld),
    st.lists(label, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["localhost", "127.0.0.1", "256.1.1.1", "[::1]", "[2001:db8::1]", "[::1"]),
)


def mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Mostly (5 in 6) a part the server takes, else one it does not: whole URLs come out
    valid about half the time, and invalid ones differ from a valid one in one place."""
    return st.sampled_from(good * 5 * len(bad) + bad * len(good))


url_like = st.builds(
    lambda scheme, sep, user, host, port, rest: f"{scheme}{sep}{user}{host}{port}{rest}",
    mostly(["http", "https", "ftp", "ftps", "HTTPS"], ["hhttps", "file", "javascript", ""]),
    mostly(["://"], [":/", "//", ":"]),
    mostly(["", "user@", "user:pw@"], ["@", "a b@"]),
    host,
    mostly(["", ":80", ":65535"], [":99999", ":x"]),
    mostly(["", "/", "/path/to?q=1#frag", "?x", "#", "/ü"], ["/a b", "/\t"]),
)


@settings(max_examples=400, derandomize=True)
@given(st.one_of(url_like, st.text(max_size=40)))
@example("(none)")
@example("ftp//bad")
@example("hhttps://www.gnu.org/software/bison")
@example("None")
@example("https://example.org/")
def test_offline_url_rule_agrees_with_django(value: str) -> None:
    want = django_accepts(value)
    assert fieldrules.is_valid_url(value) is want, value
    assert sim_validation.is_valid_url(value) is want, value


@pytest.mark.parametrize(
    ("value", "multiline", "found"),
    [
        ("GROMACS", False, None),
        ("a\x00b", False, "U+0000 (NUL) at position 2"),
        ("a\tb", False, "U+0009 (TAB)"),
        ("line one\nline two\tend", True, None),
        ("bell\x07", True, "U+0007"),
        ("del\x7f", False, "U+007F (DEL)"),
        ("\ud800", False, "lone surrogate U+D800"),
        ("Zürich 例え \u200f", False, None),
    ],
)
def test_bad_character_names_the_character_and_its_position(value, multiline, found):
    problem = fieldrules.bad_character(value, multiline=multiline)
    if found is None:
        assert problem is None
    else:
        assert problem is not None and found in problem


def test_url_problem_says_what_to_write_instead():
    assert fieldrules.url_problem("https://www.gnu.org/software/bison/") is None
    assert "scheme 'hhttps' is not one of" in str(fieldrules.url_problem("hhttps://x.org"))
    assert "no scheme and host" in str(fieldrules.url_problem("(none)"))
    assert "https://example.org/" in str(fieldrules.url_problem("www.example.org"))
