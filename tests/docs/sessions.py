"""The shell sessions of the documentation, read from its Markdown (rules: docs/contributing.md).

A page's ```console blocks hold commands (`$ ` lines; a line ending in `\\` continues on the
next) each followed by the lines of output a reader should see. HTML comments steer the test:

    <!-- docs-test: sim ARGS -->      (anywhere) waldur-sim's arguments for this page
    <!-- docs-test: setup COMMAND --> (before a block) run COMMAND first, output not shown
    <!-- docs-test: skip REASON -->   (before a block) not run here, and why; counted

A ```yaml (or any) block with `title="PATH"` is a file: the test writes it to PATH, relative to
the page's working directory, where it stands among the commands.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: The pages whose sessions run: the tutorials, the how-to guides and the README.
RUN_DIRS = ("tutorials", "how-to")
README = ROOT / "README.md"
#: Fences that are shell sessions or scripts: each must be run (console) or marked skip.
SHELL_LANGS = ("console", "sh", "shell", "bash", "shell-session")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<verb>\w+)\s*(?P<arg>.*?)\s*-->\s*$")
_TITLE = re.compile(r"""title=["']([^"']+)["']""")


@dataclass
class Command:
    text: str  # the shell command, continuation lines joined
    expected: list[str]  # the output lines shown under it
    line: int  # where it is in the page (1-based)
    may_fail: bool = False  # followed by `$ echo $?`: its exit status is shown, not required 0


@dataclass
class Block:
    """One step of a page: a session to run, a file to write, a command to run first."""

    kind: str  # "session", "file", "setup", "skip"
    line: int
    lang: str = ""
    commands: list[Command] = field(default_factory=list)
    path: str = ""  # kind file: where to write it
    content: str = ""  # kind file: what; kind setup: the command; kind skip: the reason


@dataclass
class Page:
    path: Path
    sim_args: list[str]
    blocks: list[Block]

    @property
    def name(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    def count(self, kind: str) -> int:
        if kind == "commands":
            return sum(len(b.commands) for b in self.blocks if b.kind == "session")
        return sum(1 for b in self.blocks if b.kind == kind)


def pages() -> list[Path]:
    """Every page whose sessions the tests run, in a stable order."""
    return [README, *sorted(p for d in RUN_DIRS for p in (DOCS / d).glob("*.md"))]


def parse(path: Path) -> Page:
    lines = path.read_text(encoding="utf-8").splitlines()
    sim_args: list[str] = []
    blocks: list[Block] = []
    pending: list[Block] = []  # directives waiting for the next fence
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m:
            verb, arg = m.group("verb"), m.group("arg")
            if verb == "sim":
                sim_args = shlex.split(arg)
            elif verb in ("skip", "setup"):
                if not arg:
                    raise ValueError(f"{path}:{i + 1}: docs-test: {verb} needs a {verb} text")
                pending.append(Block(verb, i + 1, content=arg))
            else:
                raise ValueError(f"{path}:{i + 1}: unknown directive docs-test: {verb}")
            i += 1
            continue
        f = _FENCE.match(lines[i])
        if not f:
            i += 1
            continue
        start, indent, fence = i, len(f.group("indent")), f.group("fence")
        info = f.group("info").strip()
        lang = info.split()[0].lstrip(".{") if info else ""
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
            body.append(_dedent(lines[i], indent))
            i += 1
        i += 1  # the closing fence
        skip = next((b for b in pending if b.kind == "skip"), None)
        blocks.extend(b for b in pending if b.kind == "setup")
        pending = []
        title = _TITLE.search(info)
        if skip is not None:
            if lang not in SHELL_LANGS and not title and not _session_like(body):
                raise ValueError(f"{path}:{skip.line}: docs-test: skip before a {lang} block")
            skip.lang = lang
            skip.commands = _commands(body, start + 2) if lang == "console" else []
            blocks.append(skip)
        elif title:
            blocks.append(Block("file", start + 1, lang, path=title.group(1), content=_text(body)))
        elif lang == "console":
            blocks.append(Block("session", start + 1, lang, commands=_commands(body, start + 2)))
        elif lang in SHELL_LANGS or _session_like(body):
            # a session written as ```text (or any other fence) would escape the test
            blocks.append(Block("unmarked", start + 1, lang))
    if pending:
        raise ValueError(f"{path}:{pending[0].line}: docs-test: {pending[0].kind} before no block")
    return Page(path, sim_args, blocks)


def _session_like(body: list[str]) -> bool:
    return any(line.startswith("$ ") for line in body)


def _dedent(line: str, indent: int) -> str:
    """A line of a fenced block indented by `indent` (in a list item), without that indent."""
    return line[indent:] if line[:indent].strip() == "" else line.lstrip()


def _text(body: list[str]) -> str:
    return "\n".join(body) + "\n"


def _commands(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    i = 0
    while i < len(body):
        line = body[i]
        if not line.startswith("$ "):
            if commands:
                commands[-1].expected.append(line.rstrip())
            elif line.strip():
                raise ValueError(f"line {first_line + i}: output before the first `$ ` command")
            i += 1
            continue
        text, at = line[2:], first_line + i
        while text.endswith("\\") and i + 1 < len(body):
            i += 1
            text = text[:-1] + "\n" + body[i]
        commands.append(Command(text, [], at))
        i += 1
    for before, after in itertools.pairwise(commands):
        before.may_fail = after.text.strip() == "echo $?"
    return commands


def missing(expected: list[str], output: str) -> str | None:
    """The first shown line not found, in order, in the output (None: all found).

    Each non-empty shown line must be in some line of the output, after the line matched by the
    one before it (lines in between are allowed: the page shows the key lines). Leading and
    trailing spaces do not count; `…` inside a line stands for any text; a line that is only
    `...` or `…` is a visible "more here" and matches nothing.
    """
    actual = [line.strip() for line in output.splitlines()]
    at = 0
    for want in expected:
        want = want.strip()
        if not want or want in ("...", "…"):
            continue
        pattern = re.compile(".*?".join(re.escape(part) for part in want.split("…")))
        while at < len(actual) and not pattern.search(actual[at]):
            at += 1
        if at == len(actual):
            return want
        at += 1
    return None
