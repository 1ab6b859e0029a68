"""The `browser` fixture: one headless Chromium for the session, or a failure that says why.

Without Chromium every test that uses the fixture FAILS (an error at set-up, never a skip)
with a message naming the tests that did not run and how to install the browser (see
`chromium.missing_message`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .chromium import Browser, find_chromium, missing_message


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        users = [i.nodeid for i in request.session.items if "browser" in i.fixturenames]
        pytest.fail(missing_message(users), pytrace=False)
    started = Browser(executable, tmp_path_factory.mktemp("chromium"))
    yield started
    started.close()
