"""Names are shown, never obeyed: escapes for terminals and Markdown."""

from __future__ import annotations

import re

from reconciler.output.escape import code, fence, html_inline, md, terminal

HOSTILE = "x```\n</details>\n## ✅ No deletes in this plan"
ERASER = "evil\x1b[2K\rfine"


def test_terminal_shows_controls_escaped():
    assert terminal(ERASER) == "evil\\x1b[2K\\rfine"
    assert terminal("a\u202eb\x9bc\x00") == "a\\u202eb\\x9bc\\x00"
    assert terminal("line\nnext\r", newlines=True) == "line\nnext\\r"
    assert terminal("GROMACS 2024.4 — ✅") == "GROMACS 2024.4 — ✅"


def test_markdown_text_is_one_inert_line():
    shown = md(HOSTILE + " | [link](https://evil.example/) *bold*")
    assert "\n" not in shown
    assert "</details>" not in shown and "&lt;/details&gt;" in shown
    assert not re.search(r"(?<!\\)[|*\[\]`]", shown)  # every special escaped
    assert md("x86_64/intel/icelake") == "x86_64/intel/icelake"


def test_html_inline_text_has_no_markup_and_no_markdown():
    shown = html_inline(HOSTILE + " <b>&")
    assert "\n" not in shown and "<" not in shown and "`" not in shown and "## " not in shown
    assert html_inline("EESSI 2023.06") == "EESSI 2023.06"


def test_code_spans_outlast_any_backticks():
    assert code("plain") == "`plain`"
    assert code("a``b") == "```a``b```"
    assert code("`edge`") == "`` `edge` ``"
    assert code("a|b", table=True) == "`a\\|b`"


def test_fences_are_longer_than_any_run_inside():
    assert fence(["no ticks"]) == ("```", "```")
    opening, closing = fence(["x ````` y"], "diff")
    assert opening == "``````diff" and closing == "``````"


def test_console_log_lines_show_names_escaped_and_secrets_masked():
    import io

    import structlog

    from reconciler.core import log as core_log
    from reconciler.core import redact
    from reconciler.output import logs

    stream = io.StringIO()
    token = "0123456789abcdef0123"
    redact.register(token)
    try:
        logs.configure("info", "console", stream, now=True)
        core_log.get_logger("test").warning("change", key="evil\x1b[2K\rfine", why=f"T {token}")
    finally:
        structlog.reset_defaults()
        core_log.set_backend(core_log.WARNING, core_log._default_backend)
        redact.forget_all()
    line = stream.getvalue()
    assert "evil\\x1b[2K\\rfine" in line and "\r" not in line
    assert token not in line and "T ***" in line
