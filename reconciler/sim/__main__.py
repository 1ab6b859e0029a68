"""`python -m reconciler.sim`: the same as the `waldur-sim` command."""

from reconciler.sim.server import main

raise SystemExit(main())
