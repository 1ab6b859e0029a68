"""The shipped CI files as their CI reads them: the GitLab component rendered with its inputs
(as GitLab interpolates ``$[[ inputs.NAME ]]``), the GitHub Action's steps with their ``env``.

`python -m tests.ci_files OUTDIR` (run by `make lint`) writes the component's two documents,
the ``spec`` header and the jobs rendered with the default inputs, so that check-jsonschema's
GitLab schema (one document per file) validates both.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPONENT = ROOT / "templates" / "reconcile" / "template.yml"
ACTION = ROOT / "action.yml"
_INPUT = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
_EXPR = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def component_documents(path: Path = COMPONENT) -> tuple[dict[str, Any], dict[str, Any]]:
    spec, jobs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return spec, jobs


def _interpolate(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {_interpolate(k, values): _interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, values) for v in node]
    if isinstance(node, str):
        whole = _INPUT.fullmatch(node.strip())
        if whole:  # a value that is one input keeps the input's type (an array stays one)
            return values[whole.group(1)]

        def text(found: re.Match[str]) -> str:
            value = values[found.group(1)]
            return json.dumps(value) if not isinstance(value, str) else value

        return _INPUT.sub(text, node)
    return node


def render_component(inputs: dict[str, Any] | None = None, path: Path = COMPONENT) -> dict:
    """The jobs document with every input interpolated (defaults for those not given)."""
    spec, jobs = component_documents(path)
    declared = spec["spec"]["inputs"]
    values = {name: d.get("default") for name, d in declared.items()}
    unknown = set(inputs or {}) - set(declared)
    assert not unknown, f"not inputs of the component: {unknown}"
    values.update(inputs or {})
    missing = [name for name, value in values.items() if value is None]
    assert not missing, f"inputs without a value: {missing}"
    return _interpolate(jobs, values)


def job_script(jobs: dict[str, Any], name: str) -> str:
    """A job's before_script (from what it extends) and script, as one shell script."""
    job = jobs[name]
    base = jobs.get(job.get("extends", ""), {})
    lines = [*base.get("before_script", []), *job.get("script", [])]
    return "\n".join(lines)


def job_variables(jobs: dict[str, Any], name: str) -> dict[str, str]:
    job = jobs[name]
    base = jobs.get(job.get("extends", ""), {})
    merged = {**base.get("variables", {}), **job.get("variables", {})}
    return {k: str(v) for k, v in merged.items()}


def action_step(step_id: str, path: Path = ACTION) -> dict[str, Any]:
    action = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(s for s in action["runs"]["steps"] if s.get("id") == step_id)


def action_env(step: dict[str, Any], inputs: dict[str, str], path: Path = ACTION) -> dict[str, str]:
    """The step's `env`, each ``${{ inputs.NAME }}`` replaced by the input (or its default)."""
    declared = yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"]
    values = {name: str(d.get("default", "")) for name, d in declared.items()}
    values.update(inputs)
    env = {}
    for key, value in step.get("env", {}).items():
        env[key] = _EXPR.sub(lambda m: values[m.group(1)], str(value))
    return env


def outputs(path: Path) -> dict[str, str]:
    """`$GITHUB_OUTPUT` read as the runner reads it (the last value of a name wins)."""
    values: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        name, sep, value = lines[i].partition("=")
        if "<<" in lines[i] and not sep:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        values[name] = value
        i += 1
    return values


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    spec, _ = component_documents()
    (out / "component-spec.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    rendered = render_component()
    (out / "component-jobs.yml").write_text(yaml.safe_dump(rendered, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
