"""Speaking the CI's language inside GitHub Actions (`GITHUB_ACTIONS=true`), nothing elsewhere.

- `plan` and `apply` append their Markdown rendering to the job summary
  (``$GITHUB_STEP_SUMMARY``) and write step outputs to ``$GITHUB_OUTPUT``: `OUTPUTS`, i.e.
  ``has_changes`` (``true``/``false``: some change would be, or was, sent), ``create``,
  ``update``, ``delete``, ``not_applicable`` and ``exit_code``. A run that ends in an error
  before it has a plan writes ``exit_code`` only, and its error to the summary.
- Every error becomes a workflow command on stderr (the runner reads both streams, and stdout
  may be redirected to a file): one ``::error file=PATH,line=N,title=…::message`` per
  problem of an `InputError` (problems are ``FILE:LINE: FIELD.PATH: message``), so GitHub
  annotates the line in the pull request's diff; any other error as one ``::error``.

Paths are made relative to ``$GITHUB_WORKSPACE`` (annotations name files from the repository
root), whatever directory the command ran in. Data and properties are escaped as the Actions
toolkit escapes them (``%``, CR and LF; in properties also ``:`` and ``,``).

GitLab has no equivalent files: its pipelines use ``-o markdown`` and post the result as a
merge-request note (`reconciler.tools.forge`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.core.redact import redact
from reconciler.output.escape import fence, terminal

if TYPE_CHECKING:  # the plan types only for annotations: importing this module stays cheap
    from reconciler.core.plan import Plan
    from reconciler.engine.apply import ApplyResult

#: The step outputs, in the order they are written (names pinned: workflows read them).
OUTPUTS = ("has_changes", "create", "update", "delete", "not_applicable", "exit_code")
#: `FILE:LINE: rest` as `reconciler.desired.loader` and the server's field rules write them.
_PROBLEM = re.compile(r"(?P<file>[^\n]+?):(?P<line>[0-9]+): (?P<rest>.*)", re.S)
#: `FIELD.PATH: message` (a path such as ``catalogs[0].packages[1].homepage``).
_FIELD = re.compile(
    r"(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\[[0-9]+\]|\.[A-Za-z0-9_]+)*): (?P<msg>.*)", re.S
)
TITLE = "Waldur catalog"


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int) -> str:
    """``::command key=value,…::message`` (properties in the given order, empty ones left out)."""
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties.items() if value != ""
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def _workspace_path(path: str, environ: Mapping[str, str]) -> str:
    """`path` relative to the repository root when it lies inside ``$GITHUB_WORKSPACE``."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(workspace)).as_posix()
    except ValueError:
        return path


def problem_annotation(problem: str, environ: Mapping[str, str], title: str = TITLE) -> str:
    """One ``::error`` for one problem line, with file and line when the problem names them."""
    found = _PROBLEM.fullmatch(problem)
    if found is None:
        return workflow_command("error", problem, title=title)
    rest = found["rest"]
    named = _FIELD.fullmatch(rest)
    return workflow_command(
        "error",
        named["msg"] if named else rest,
        file=_workspace_path(found["file"], environ),
        line=found["line"],
        title=f"{title}: {named['field']}" if named else title,
    )


def error_annotations(exc: BaseException, message: str, environ: Mapping[str, str]) -> list[str]:
    """The workflow commands for an error: one per problem of an `InputError`, else one with
    `message` (the error as printed, secrets redacted)."""
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list) and problems and all(isinstance(p, str) for p in problems):
        return [problem_annotation(p, environ) for p in problems]
    return [workflow_command("error", message, title=TITLE)]


def plan_outputs(plan: Plan, exit_code: int) -> dict[str, str]:
    summary = plan.summary()
    values = {
        "has_changes": "true" if plan.actionable else "false",
        "create": str(summary.get("create", 0)),
        "update": str(summary.get("update", 0)),
        "delete": str(summary.get("delete", 0)),
        "not_applicable": str(summary.get("not_applicable", 0)),
        "exit_code": str(exit_code),
    }
    return {name: values[name] for name in OUTPUTS}


def _append(path: str, text: str) -> None:
    """Append to a file the runner reads (summary, outputs), every secret masked."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(redact(text))


def write_outputs(path: str, values: Mapping[str, str]) -> None:
    """Append ``name=value`` lines (a multi-line value in the heredoc form)."""
    lines = []
    for name, value in values.items():
        if "\n" in value:
            delimiter = f"EOF_{os.urandom(8).hex()}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            lines.append(f"{name}={value}\n")
    _append(path, "".join(lines))


@dataclass
class GitHubStep:
    """What a `plan` or `apply` run tells GitHub: `shown` when its plan is printed, `finish`
    with the exit code (or `fail` with the error) when it ends."""

    command: str
    environ: Mapping[str, str]
    shown: list[tuple[Plan, ApplyResult | None]] = field(default_factory=list)

    @classmethod
    def from_environ(
        cls, command: str, environ: Mapping[str, str] | None = None
    ) -> GitHubStep | None:
        env = os.environ if environ is None else environ
        return cls(command, env) if in_github_actions(env) else None

    def show(self, plan: Plan, result: ApplyResult | None) -> None:
        self.shown.append((plan, result))

    def finish(self, exit_code: int, error: str | None = None) -> None:
        """Write the summary and the outputs; `error` is the message as printed (redacted)."""
        summary_path = self.environ.get("GITHUB_STEP_SUMMARY")
        output_path = self.environ.get("GITHUB_OUTPUT")
        if summary_path:
            _append(summary_path, self._summary(exit_code, error))
        if output_path:
            if self.shown:
                write_outputs(output_path, plan_outputs(self.shown[-1][0], exit_code))
            else:
                write_outputs(output_path, {"exit_code": str(exit_code)})

    def _summary(self, exit_code: int, error: str | None) -> str:
        parts = []
        if self.shown:
            from reconciler.output.markdown import render_markdown

            plan, result = self.shown[-1]
            parts.append(render_markdown(plan, result).rstrip("\n") + "\n")
        if error is not None:
            text = terminal(error, newlines=True)
            opening, closing = fence(text.splitlines())
            parts.append(
                f"### reconcile {self.command}: exit {exit_code}\n\n{opening}\n{text}\n{closing}\n"
            )
        return "\n".join(parts) + "\n"


def annotate(
    exc: BaseException, message: str, stream: TextIO, environ: Mapping[str, str] | None = None
) -> None:
    """Write the error's workflow commands to `stream` when running in GitHub Actions."""
    env = os.environ if environ is None else environ
    if in_github_actions(env):
        stream.write("".join(line + "\n" for line in error_annotations(exc, message, env)))
        stream.flush()
