"""`reconcile plan --all-envs`: plan every environment of the project file, one summary table.

Each environment is planned as `reconcile plan --env NAME` would (its server, token, files and
values; one commit of the Git source for all of them), its plan printed under a heading, and
then one table: environment, server, changes by action, and the result (or the error). The
exit code is the worst of them (an error > refused > changes with --detailed-exitcode > ok).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from reconciler.core.errors import ConfigError, ExitCode, ReconcileError
from reconciler.engine.runner import load, reconcile_once
from reconciler.output import logs
from reconciler.output.table import Cell, cell, plain, render
from reconciler.remote.client import WaldurClient
from reconciler.settings import Settings
from reconciler.source.workspace import environments, workspace

HEAD = ("environment", "server", "changes", "result")
_RANK = {ExitCode.OK: 0, ExitCode.CHANGES: 1, ExitCode.PARTIAL: 2, ExitCode.REFUSED: 3}


def plan_all(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from reconciler.cli.context import fetch, with_context
    from reconciler.cli.run import emit

    if settings.env:
        raise ConfigError("give --env NAME or --all-envs, not both")
    if settings.out:
        raise ConfigError("--out saves one environment's plan: use --env NAME with it")
    checkout = fetch(settings)
    names = environments(settings, checkout)
    if not names:
        raise ConfigError("--all-envs needs a project file (reconcile.yaml) with environments")
    markdown = settings.output == "markdown"
    rows: list[tuple[Cell, ...]] = []
    docs: list[dict[str, Any]] = []
    worst = ExitCode.OK
    as_json = settings.output == "json"
    for name in names:
        if not as_json:
            out.write(f"{'#' * 3 if settings.output == 'markdown' else '==='} {name}\n\n")
        try:
            ws = workspace(settings, args.files, checkout, env=name)
            desired = load(ws.files, ws.values)
            with WaldurClient(ws.settings.client_config()) as client:
                outcome = reconcile_once(ws.settings.run_options(), client, desired, write=False)
            if not as_json:
                emit(out, ws.settings, outcome.plan, None, client, None, ws)
            else:
                from reconciler.output.render import render_json

                docs.append(json.loads(with_context(render_json(outcome.plan), "json", ws)))
            s = outcome.plan.summary()
            counts = ("+{} ~{} -{}", *(str(s.get(a, 0)) for a in ("create", "update", "delete")))
            code = outcome.exit_code
            if code == ExitCode.OK and settings.detailed_exitcode and outcome.plan.actionable:
                code = ExitCode.CHANGES
            result = "refused by a guard" if outcome.refusal is not None else (
                "in sync" if not outcome.plan.actionable else "changes"
            )  # fmt: skip
            rows.append((name, ws.settings.api_url, counts, (result,)))
        except ReconcileError as exc:
            message = logs.redact(str(exc)).splitlines()[0]
            if as_json:
                docs.append({"environment": name, "error": message})
            else:
                out.write(cell(("error: {}", message), markdown) + "\n")
            rows.append((name, "", "", ("error: {}", message)))
            code = ExitCode.ERROR
        if not as_json:
            out.write("\n")
        worst = _worse(worst, code)
    if as_json:
        keys = ("environment", "server", "changes", "result")
        table = [dict(zip(keys, map(plain, row), strict=True)) for row in rows]
        out.write(json.dumps({"environments": docs, "summary": table}, indent=2) + "\n")
    else:
        out.write(render(HEAD, rows, markdown))
    return int(worst)


def _worse(a: ExitCode, b: ExitCode) -> ExitCode:
    if ExitCode.ERROR in (a, b):
        return ExitCode.ERROR
    return a if _RANK.get(a, 0) >= _RANK.get(b, 0) else b
