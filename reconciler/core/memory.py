"""Building large structures without paying the cyclic garbage collector for them.

Reading a catalog of 18,606 objects allocates hundreds of thousands of small containers that
all live until the run ends; Python's cyclic collector would traverse the growing heap again
and again while they are built (measured: a quarter of a no-op `reconcile plan` of the full
EESSI catalog). Those structures hold no reference cycles worth collecting, so the collector
is paused while they are built and resumes afterwards (nothing is frozen: a long-running
daemon still frees each run's objects).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic collector for the block (reference counting still frees objects)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
