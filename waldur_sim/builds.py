"""Upstream builds whose answers differ where the sim imitates them (`--upstream-build`).

- `newest`: waldur-mastermind as its newest tests expect (`test_software_catalogs.py`
  @0687593c): removing a link through an offering that does not own it answers 404 and keeps
  the link; switching a link to a catalog its offering already links answers 400 `{"catalog":
  […]}`.
- `004c5322`: the build the exchanges in `data/api_samples/` were recorded from (waldur-mastermind
  commit 004c5322, `GET /api/version/` 7.0.7+g1ea6cb82.swcatalog): it removes the link whichever
  offering it belongs to (204), and switching a link to an already linked catalog is an
  unhandled IntegrityError (500).
"""

from __future__ import annotations

NEWEST = "newest"
RECORDED = "004c5322"
BUILDS = (NEWEST, RECORDED)

#: The 400 of switching a link to a catalog its offering already links (newest builds).
ALREADY_LINKED = "This catalog is already linked to the offering."
