"""`python -m waldur_sim`: the same as the `waldur-sim` command."""

from waldur_sim.server import main

raise SystemExit(main())
