"""The HTML page that the coverage report and the daemon's status page share.

One self-contained document: the style sheet inline, no font, image or script from anywhere
(a Content-Security-Policy meta tag of ``default-src 'none'`` makes the browser refuse any
request the page would make; an inline script is allowed by its sha256 only). It reads in light
and dark mode (``prefers-color-scheme``) and prints in black on white; every state is told by
a symbol or a word as well as by colour.
"""

from __future__ import annotations

import base64
import hashlib
import html

#: Colours: GitHub's Primer palette, light and dark.
CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--head:#f6f8fa;--hover:#f3f6f9;--accent:#0969da;--ok:#dafbe1;--ok-fg:#116329;
--part:#ddf4ff;--part-fg:#0550ae;--miss:#ffebe9;--miss-fg:#a40e26;--extra:#fff8c5;
--extra-fg:#7d4e00;--bar:#1f883d;--bar-bg:#d1d9e0}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--head:#151b23;--hover:#1c232c;--accent:#4493f8;--ok:#12361f;--ok-fg:#56d364;
--part:#0c2d6b;--part-fg:#79c0ff;--miss:#4c1a1d;--miss-fg:#ff9492;--extra:#3b2e0a;
--extra-fg:#e3b341;--bar:#3fb950;--bar-bg:#3d444d}}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem 2rem;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem}
h3{font-size:1rem;margin:1.25rem 0 .5rem}
a{color:var(--accent)}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:.92em}
.muted,small{color:var(--muted)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.meta{margin:.25rem 0 1rem;color:var(--muted)}
.note{border-left:4px solid var(--extra-fg);background:var(--extra);padding:.5rem .75rem;
margin:.75rem 0}
.bad{border-left-color:var(--miss-fg);background:var(--miss)}
table{border-collapse:separate;border-spacing:0;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0 .5rem;caption-side:top}
th,td{border-bottom:1px solid var(--line);padding:.3rem .55rem;text-align:left;
vertical-align:top}
thead th{background:var(--head);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:.5rem 0;padding:0;list-style:none}
.stats li b{font-size:1.15rem}
.legend{display:flex;flex-wrap:wrap;gap:.35rem 1.25rem;margin:.5rem 0 1rem;padding:0;
list-style:none}
.legend li{display:flex;align-items:center;gap:.4rem}
.sw{display:inline-block;min-width:2.6rem;text-align:center;padding:0 .3rem;
border:1px solid var(--line);border-radius:3px}
.f{color:var(--ok-fg)}.p{background:var(--part);color:var(--part-fg)}
.m{background:var(--miss);color:var(--miss-fg);font-weight:600}
.x{background:var(--extra);color:var(--extra-fg);font-weight:600}
.n{color:var(--muted)}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;
border:1px solid currentColor}
.bar{display:inline-block;width:6rem;height:.6rem;background:var(--bar-bg);border-radius:.3rem;
overflow:hidden;vertical-align:middle;margin-right:.4rem}
.bar i{display:block;height:100%;background:var(--bar)}
input[type=search]{font:inherit;padding:.35rem .6rem;width:min(24rem,100%);color:var(--fg);
background:var(--bg);border:1px solid var(--line);border-radius:6px}
footer{margin-top:2rem;color:var(--muted);font-size:.9em}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#999;--head:#eee;--ok:#fff;
--part:#fff;--miss:#fff;--extra:#fff;--ok-fg:#000;--part-fg:#000;--miss-fg:#000;
--extra-fg:#000;--bar:#555;--bar-bg:#ddd}
body{padding:0;font-size:10pt}.noprint,input[type=search]{display:none!important}
thead th,tbody th{position:static!important}tr{break-inside:avoid}
a{color:inherit;text-decoration:none}}
"""


#: What an empty value shows: an en dash.
DASH = "\u2013"


def esc(text: object) -> str:
    """Text for HTML content or an attribute value (quotes escaped too)."""
    return html.escape(str(text), quote=True)


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def policy(script: str = "") -> str:
    """The Content-Security-Policy of a page: nothing from anywhere; inline style; the one
    inline script by its hash; `data:` images (none is used, but a browser asks for a
    favicon otherwise)."""
    parts = ["default-src 'none'", "style-src 'unsafe-inline'", "img-src data:"]
    if script:
        parts.append(f"script-src {_script_hash(script)}")
    parts += ["base-uri 'none'", "form-action 'none'"]
    return "; ".join(parts)


def document(
    title: str,
    body: str,
    *,
    css: str = "",
    script: str = "",
    refresh: int | None = None,
) -> str:
    """A whole HTML document: `body` is markup already escaped by the caller."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(policy(script))}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta name="referrer" content="no-referrer">',
    ]
    if refresh:
        head.append(f'<meta http-equiv="refresh" content="{int(refresh)}">')
    head += [
        f"<title>{esc(title)}</title>",
        '<link rel="icon" href="data:,">',
        f"<style>{CSS}{css}</style>",
        "</head>",
        "<body>",
        body,
    ]
    if script:
        head.append(f"<script>{script}</script>")
    head += ["</body>", "</html>", ""]
    return "\n".join(head)
