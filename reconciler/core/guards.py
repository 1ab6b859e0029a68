"""Safety guards: checks on a plan that refuse it as a whole, before anything is written.

1. Deletes only from a complete picture: if any listing could not be read in full, the plan
   has withheld its deletes; when it needed any, the run is refused.
2. Mass deletion: per catalog, a plan may remove at most max(`max_delete`, `max_delete_percent`
   of the catalog's live objects) objects, counting the children the server deletes with their
   parent.
3. Emptying a catalog: a declared catalog whose desired package list is empty while the server
   has packages is refused unless the file says `allow_empty: true`.

Pure: plan and desired state in, `GuardRefused` out (or nothing).
"""

from __future__ import annotations

import math
from collections import defaultdict

from reconciler.core.errors import GuardRefused
from reconciler.core.model import DesiredState, Key, Kind, format_key
from reconciler.core.plan import Action, Plan

SHOW = 15


def check(
    plan: Plan, desired: DesiredState, *, max_delete: int = 10, max_delete_percent: float = 10.0
) -> None:
    problems = _incomplete(plan) + _empty_catalogs(plan, desired)
    problems += _mass_deletes(plan, max_delete, max_delete_percent)
    if problems:
        raise GuardRefused(
            "refused by a safety guard; nothing was written:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def _incomplete(plan: Plan) -> list[str]:
    if not plan.withheld_deletes:
        return []
    return [
        f"the plan needs {plan.withheld_deletes} delete(s), but the server could not be "
        "read completely, and deletes are only made from a complete picture; run again "
        "when the server answers every listing. " + " ".join(plan.notes)
    ]


def _empty_catalogs(plan: Plan, desired: DesiredState) -> list[str]:
    declared: dict[Key, int] = defaultdict(int)
    for key in desired.records:
        if key.kind is Kind.PACKAGE:
            declared[key.catalog] += 1
    problems = []
    for cat, policy in desired.policies.items():
        if policy.absent or not policy.prune or policy.allow_empty or declared[cat]:
            continue
        doomed = [
            c
            for c in plan.changes
            if c.action is Action.DELETE and c.key.catalog == cat and c.kind is Kind.PACKAGE
        ]
        if doomed:
            problems.append(
                f"catalog {format_key(cat)} declares no packages, so every one of its "
                f"{len(doomed)} live packages would be deleted; if that is really meant, say "
                "`allow_empty: true` on the catalog"
            )
    return problems


def _mass_deletes(plan: Plan, max_delete: int, max_delete_percent: float) -> list[str]:
    by_catalog: dict[Key, list[str]] = defaultdict(list)
    removed: dict[Key, int] = defaultdict(int)
    for change in plan.changes:
        if change.action is not Action.DELETE:
            continue
        cat = change.key.catalog
        removed[cat] += 1 + change.cascade
        below = f" (and {change.cascade} below it)" if change.cascade else ""
        by_catalog[cat].append(f"- {change.kind.label} {format_key(change.key)}{below}")
    problems = []
    for cat, count in sorted(removed.items()):
        live = plan.live_counts.get(cat, 0) + 1
        limit = max(max_delete, math.floor(live * max_delete_percent / 100))
        if count <= limit:
            continue
        shown = by_catalog[cat][:SHOW]
        more = len(by_catalog[cat]) - len(shown)
        problems.append(
            f"the plan deletes {count} objects of catalog {format_key(cat)} ({live} live), "
            f"more than the limit of {limit} (the larger of --max-delete {max_delete} and "
            f"--max-delete-percent {max_delete_percent:g}% of its live objects). To allow it, "
            f"raise --max-delete to at least {count}. What would be deleted:\n    "
            + "\n    ".join(shown)
            + (f"\n    … and {more} more" if more else "")
        )
    return problems
