"""The status page's Git source section: which commit the server reflects, and whether the
last fetch worked (``source`` of /status.json, filled by `daemon.source`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.output.page import DASH, esc


def source_section(
    source: Mapping[str, Any] | None, now: datetime, when: Callable[[str | None, datetime], str]
) -> Iterator[str]:
    if source is None:
        return
    yield '<section aria-labelledby="source"><h2 id="source">Git source</h2>'
    yield '<dl class="facts">'
    yield f"<dt>repository</dt><dd><code>{esc(source['url'])}</code></dd>"
    yield f"<dt>branch or tag</dt><dd><code>{esc(source['ref'])}</code></dd>"
    if source.get("path"):
        yield f"<dt>directory</dt><dd><code>{esc(source['path'])}</code></dd>"
    yield f"<dt>signatures</dt><dd>{esc(_verification(source))}</dd>"
    commit = source.get("commit")
    if commit:
        sha = esc(commit["sha"])
        shown = (
            f'<a href="{esc(commit["link"])}"><code class="sha">{sha}</code></a>'
            if commit.get("link")
            else f'<code class="sha">{sha}</code>'
        )
        committed = datetime.fromtimestamp(int(commit["committed_at"]), UTC)
        yield f"<dt>commit</dt><dd>{shown}</dd>"
        yield f"<dt>subject</dt><dd>{esc(commit['subject'])}</dd>"
        yield f"<dt>author</dt><dd>{esc(commit['author'])}</dd>"
        yield f"<dt>committed</dt><dd>{when(_iso(committed), now)}</dd>"
        if commit.get("signed_by"):
            yield f"<dt>signed by</dt><dd>{esc(commit['signed_by'])}</dd>"
    else:
        yield f"<dt>commit</dt><dd>{DASH} none applied yet</dd>"
    yield "</dl>"
    if source.get("error"):
        at = datetime.fromtimestamp(float(source["error_at"]), UTC)
        kept = "the commit above stays applied" if commit else "nothing is applied"
        yield (
            f'<p class="note bad">✗ The last update of the source failed '
            f"{when(_iso(at), now)}; {kept}: {esc(source['error'])}</p>"
        )
    yield "</section>"


def _verification(source: Mapping[str, Any]) -> str:
    if source.get("verification") == "off":
        return "not checked (every commit is applied)"
    return "only commits signed by an allowed key are applied"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
