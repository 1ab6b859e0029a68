"""The Hypothesis settings of tests/property: deterministic (derandomize, no example
database) and bounded in time.

Shrinking is off by default: a falsifying example of these generators can take minutes to
shrink, which would blow the suite's time budget whenever a property fails. The exhaustive
grey-zone tests give minimal examples anyway (one value in the smallest catalog). To get
shrunk examples from the random properties, run with ``PROPERTY_SHRINK=1``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

SHRINK = os.environ.get("PROPERTY_SHRINK") == "1"
_PHASES = (Phase.explicit, Phase.generate) + ((Phase.shrink, Phase.explain) if SHRINK else ())

#: In-process properties: many examples, each a few milliseconds.
FAST = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Properties that run the CLI against waldur-sim (~0.4 s a run): few examples, never shrunk.
SLOW = settings(
    FAST,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
