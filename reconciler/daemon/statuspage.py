"""`GET /` of the daemon: its status (`StatusBook.snapshot`) as one self-contained HTML page.

The same style as the coverage report (`output/page`): inline CSS, no script, nothing loaded
from anywhere, light and dark, printable. It refreshes itself every `REFRESH` seconds. Every
state is told by a word and a symbol, not by colour alone; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.daemon.sourcepage import source_section
from reconciler.output.page import DASH, document, esc

REFRESH = 30
TITLE = "Catalog reconciler status"
_RESULT = {
    "success": ("ok", "✓", "success"),
    "not_applicable": ("p", "◐", "not applicable"),
    "failure": ("m", "✗", "failure"),
    "refused": ("m", "✗", "refused by a guard"),
    "running": ("n", "…", "running"),
}
_ACTION = {"create": ("ok", "+"), "update": ("x", "~"), "delete": ("m", "-")}
_STATUS = {"done": "ok", "not_applicable": "p"}

CSS = """
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
.links{display:flex;gap:1rem;flex-wrap:wrap;margin:.25rem 0 1rem;padding:0;list-style:none}
.links a{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.ok{color:var(--ok-fg);background:var(--ok)}.badge.m{color:var(--miss-fg);background:var(--miss)}
.badge.p{color:var(--part-fg);background:var(--part)}.badge.n{color:var(--muted)}
table.runs td,table.changes td{white-space:nowrap}
table.runs td.err,table.changes td.obj{white-space:normal;max-width:40rem;overflow-wrap:anywhere}
table.runs td.err{white-space:pre-line;font-size:.92em}
.sha{font-size:.85em;overflow-wrap:anywhere}
table.drift td.num,table.drift th.num{min-width:5.5rem}
table.drift thead td{background:var(--head);border-bottom:1px solid var(--line)}
section{max-width:80rem}
"""


def _n(value: Any) -> str:
    return f"{int(value or 0):,}"


def _when(text: str | None, now: datetime) -> str:
    """`2026-12-01 14:30:05 UTC (12 s ago)`."""
    if not text:
        return DASH
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    seconds = (moment - now).total_seconds()
    shown = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f'<time datetime="{esc(text)}">{shown}</time> <small>({_ago(seconds)})</small>'


def _ago(seconds: float) -> str:
    span = abs(seconds)
    if span < 1:
        return "now"
    if span < 90:
        amount = f"{span:.0f} s"
    elif span < 5400:
        amount = f"{span / 60:.0f} min"
    elif span < 172800:
        amount = f"{span / 3600:.1f} h"
    else:
        amount = f"{span / 86400:.1f} days"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _duration(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.2f} s" if value < 60 else f"{value / 60:.1f} min"


def _period(seconds: float) -> str:
    """`90 s`, `10 min`, `2 h`: a schedule's period as it was most likely given."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:g} s"


def _badge(result: str) -> str:
    cls, symbol, word = _RESULT.get(result, ("n", "?", result))
    return f'<span class="badge {cls}">{symbol} {esc(word)}</span>'


def _schedule(schedule: Mapping[str, Any]) -> str:
    if schedule.get("cron"):
        text = f"cron <code>{esc(schedule['cron'])}</code> (UTC)"
    else:
        text = f"every {_period(float(schedule.get('interval_s') or 0))}"
    if schedule.get("jitter_s"):
        text += f", plus a random delay of up to {_period(float(schedule['jitter_s']))}"
    return text


def render_status(status: Mapping[str, Any], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    body = [*_header(status, now)]
    body += source_section(status.get("source"), now, _when)
    body += _runs(status.get("runs") or [], now)
    body += _drift(status.get("drift"), now)
    body += _loads(status.get("loads") or [])
    body += _plan(status.get("last_plan"), status["mode"], now)
    body += _files(status["desired"], now)
    body.append(
        f"<footer>This page refreshes itself every {REFRESH} s. The same data as JSON: "
        '<a href="/status.json">/status.json</a> (fields in the README, "Status page"). '
        "waldur-catalog-reconciler.</footer>"
    )
    return document(TITLE, "\n".join(body), css=CSS, refresh=REFRESH)


def _loads(loads: list[Mapping[str, Any]]) -> Iterator[str]:
    """The catalogs Waldur's loaders fill: loading (checked on the next runs), ok, failed…"""
    if not loads:
        return
    yield '<section aria-labelledby="loads"><h2 id="loads">Catalog loads</h2>'
    yield "<table><thead><tr><th>catalog</th><th>state</th><th>detail</th></tr></thead><tbody>"
    for item in loads:
        yield (
            f"<tr><td>{esc(str(item['catalog']))}</td><td>{esc(str(item['state']))}</td>"
            f"<td>{esc(str(item['detail']))}</td></tr>"
        )
    yield "</tbody></table></section>"


def _header(status: Mapping[str, Any], now: datetime) -> Iterator[str]:
    ready = status["ready"]
    state = (
        '<span class="badge ok">✓ ready</span>'
        if ready["ready"]
        else f'<span class="badge m">✗ not ready</span> <span>{esc(ready["reason"])}</span>'
    )
    yield f'<header><div class="top"><h1>{TITLE}</h1>{state}</div>'
    mode = (
        "dry run: plans and reports drift, never writes"
        if status["mode"] == "dry-run"
        else "apply: makes the server match the files"
    )
    running = "yes, a run is in progress" if status["running"] else "no"
    finished = [r for r in status.get("runs") or [] if r["result"] != "running"]
    last = (
        f"{_badge(finished[0]['result'])} {_when(finished[0]['finished_at'], now)}"
        if finished
        else "none yet"
    )
    yield '<dl class="facts">'
    if status.get("environment"):
        yield f"<dt>environment</dt><dd><strong>{esc(status['environment'])}</strong></dd>"
    yield f"<dt>server</dt><dd><code>{esc(status['api_url'] or DASH)}</code></dd>"
    yield f"<dt>mode</dt><dd>{esc(mode)}</dd>"
    yield f"<dt>schedule</dt><dd>{_schedule(status['schedule'])}</dd>"
    yield f"<dt>last run</dt><dd>{last}</dd>"
    yield f"<dt>next run</dt><dd>{_when(status['next_run_at'], now)}</dd>"
    yield f"<dt>running now</dt><dd>{running}</dd>"
    yield f"<dt>up since</dt><dd>{_when(status['started_at'], now)}</dd>"
    yield "</dl>"
    yield '<ul class="links" aria-label="Endpoints">'
    for name, href in status["links"].items():
        label = "status.json" if name == "json" else name
        yield f'<li><a href="{esc(href)}">/{esc(label)}</a></li>'
    yield "</ul></header>"


def _drift(drift: Mapping[str, Any] | None, now: datetime) -> Iterator[str]:
    yield '<section aria-labelledby="drift"><h2 id="drift">Drift now</h2>'
    if drift is None:
        yield "<p>No observation of the server has finished yet.</p></section>"
        return
    total = drift["total"]
    if total == 0:
        yield '<p><span class="badge ok">✓ in sync</span> the server matches the files.</p>'
    else:
        yield (
            f'<p><span class="badge m">✗ {_n(total)} out of sync</span> '
            "objects that differ from the files after the last run.</p>"
        )
    kinds = [
        kind
        for kind, count in drift["now"].items()
        if kind != "offering_link" or count or drift["at_observation"].get(kind)
    ]
    heads = "".join(f'<th scope="col" class="num">{esc(k.replace("_", " "))}s</th>' for k in kinds)
    yield (
        '<table class="drift"><caption>Objects out of sync with the files, by kind</caption>'
        f"<thead><tr><td></td>{heads}</tr></thead><tbody>"
    )
    for label, counts in (
        ("now", drift["now"]),
        ("at the last observation", drift["at_observation"]),
    ):
        cells = "".join(f'<td class="num">{_n(counts.get(k, 0))}</td>' for k in kinds)
        yield f'<tr><th scope="row">{label}</th>{cells}</tr>'
    yield "</tbody></table>"
    yield (
        f'<p class="muted">Observed {_when(drift["observed_at"], now)}. A delete counts the '
        "objects the server removes with it.</p></section>"
    )


def _plan(plan: Mapping[str, Any] | None, mode: str, now: datetime) -> Iterator[str]:
    title = "What the last dry-run plan would change" if mode == "dry-run" else "Last plan"
    yield f'<section aria-labelledby="plan"><h2 id="plan">{title}</h2>'
    if plan is None:
        yield "<p>No plan yet.</p></section>"
        return
    summary = plan["summary"]
    how = (
        "Changes it would make (dry run: nothing was written)"
        if plan["dry_run"]
        else "Changes and their results"
    )
    counts = (
        " · ".join(f"{_n(summary.get(a, 0))} to {a}" for a in ("create", "update", "delete"))
        + f" · {_n(summary.get('not_applicable', 0))} not applicable on this server"
    )
    yield f"<p>Planned {_when(plan['at'], now)}: {counts}.</p>"
    if not plan["complete"]:
        yield '<p class="note bad">The server could not be read completely; deletes withheld.</p>'
    for note in plan["notes"]:
        yield f'<p class="note">{esc(note)}</p>'
    changes = plan["changes"]
    if not changes:
        yield '<p><span class="badge ok">✓ no changes</span> the server matched the files.</p>'
        yield "</section>"
        return
    yield (
        f'<table class="changes"><caption>{how}</caption><thead><tr>'
        '<th scope="col">action</th><th scope="col">kind</th><th scope="col">object</th>'
        '<th scope="col">fields</th><th scope="col">result</th></tr></thead><tbody>'
    )
    for change in changes:
        cls, symbol = _ACTION.get(change["action"], ("n", "?"))
        fields = ", ".join(change["fields"]) or (DASH if not change["cascade"] else "")
        if change["cascade"]:
            fields = f"and {change['cascade']} objects below it"
        if not change["applicable"]:
            result = f'<span class="sw p">not applicable</span> {esc(change.get("reason", ""))}'
        elif "status" in change:
            st = change["status"]
            result = f'<span class="sw {_STATUS.get(st, "m")}">{esc(st.replace("_", " "))}</span>'
        else:
            result = "would be sent" if plan["dry_run"] else DASH
        yield (
            f'<tr><td><span class="sw {cls}">{symbol} {esc(change["action"])}</span></td>'
            f"<td>{esc(change['kind'].replace('_', ' '))}</td>"
            f'<td class="obj">{esc(change["object"])}</td><td>{esc(fields)}</td>'
            f"<td>{result}</td></tr>"
        )
    yield "</tbody></table>"
    if plan["more"]:
        yield f"<p>… and {_n(plan['more'])} more (the counts above include them).</p>"
    yield "</section>"


def _runs(runs: list[Mapping[str, Any]], now: datetime) -> Iterator[str]:
    yield '<section aria-labelledby="runs"><h2 id="runs">Last runs</h2>'
    if not runs:
        yield "<p>No run yet.</p></section>"
        return
    which = "The last run" if len(runs) == 1 else f"The last {len(runs)} runs, newest first"
    yield (
        f'<table class="runs"><caption>{which}; changes applied, by action (a dry run '
        "applies none)</caption><thead><tr>"
        '<th scope="col">started</th><th scope="col" class="num">duration</th>'
        '<th scope="col">result</th><th scope="col" class="num">+ created</th>'
        '<th scope="col" class="num">~ updated</th><th scope="col" class="num">- deleted</th>'
        '<th scope="col" class="num">not applicable</th>'
        '<th scope="col" class="num">not done</th><th scope="col">error</th></tr></thead><tbody>'
    )
    for run in runs:
        changes = run["changes"]
        not_done = sum(run["not_done"].values())
        dry = " <small>(dry run)</small>" if run["dry_run"] else ""
        yield (
            f"<tr><td>{_when(run['started_at'], now)}</td>"
            f'<td class="num">{_duration(run["duration_s"])}</td>'
            f"<td>{_badge(run['result'])}{dry}</td>"
            f'<td class="num">{_n(changes.get("create"))}</td>'
            f'<td class="num">{_n(changes.get("update"))}</td>'
            f'<td class="num">{_n(changes.get("delete"))}</td>'
            f'<td class="num">{_n(run["not_applicable"])}</td>'
            f'<td class="num">{_n(not_done)}</td>'
            f'<td class="err">{esc(run["error"]) or DASH}</td></tr>'
        )
    yield "</tbody></table></section>"


def _files(desired: Mapping[str, Any], now: datetime) -> Iterator[str]:
    yield '<section aria-labelledby="files"><h2 id="files">Desired files</h2>'
    given = ", ".join(f"<code>{esc(a)}</code>" for a in desired["arguments"])
    yield f"<p>Given as {given}; read {_when(desired['loaded_at'], now)}.</p>"
    if desired["error"]:
        yield (
            f'<p class="note bad">✗ The files are invalid now; the last good state is kept and '
            f"nothing is written: {esc(desired['error'])}</p>"
        )
    if desired["files"]:
        yield (
            "<table><caption>Files of the last good desired state</caption><thead><tr>"
            '<th scope="col">file</th><th scope="col">sha256</th></tr></thead><tbody>'
        )
        for f in desired["files"]:
            yield (
                f'<tr><th scope="row"><code>{esc(f["path"])}</code></th>'
                f'<td class="mono sha">{esc(f["sha256"] or "unreadable")}</td></tr>'
            )
        yield "</tbody></table>"
    yield "</section>"
