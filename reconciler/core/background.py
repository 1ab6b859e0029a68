"""A value computed on a thread of its own while the caller does something else.

A one-shot plan overlaps its start-up steps: loading the desired files with building the HTTP
client (whose CA bundle is read with the GIL released, ~50 ms) and with the catalog
listing's round trip. Whatever the work raises is raised where the value is taken, in the
caller's thread, as if it had run there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """`work()` on a daemon thread, started now; `result()` waits for it."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # raised in the caller's thread, by `result`
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set: the work returned
