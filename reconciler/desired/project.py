"""The project file: one catalog repository, several Waldur servers (environments).

``reconcile.yaml`` at the root of a catalog repository names the environments. Each says
which server it is (``api_url``), where its token comes from (``token_env`` or
``token_file``: the name of a variable or a file, never the token), which desired files it
applies (the project's shared ``files`` plus its own) and the few ``values`` that differ
between servers. A desired file writes ``{{ values.NAME }}`` where such a value goes (an
offering's name, a path prefix); the loader substitutes the selected environment's value
before validating, so a bad value is reported at the line of the placeholder::

    files: [catalogs/]                 # applied by every environment
    values: {site: /cvmfs}             # defaults, overridden per environment
    environments:
      staging:
        api_url: https://waldur-staging.example.org/api/
        token_env: WALDUR_STAGING_TOKEN
        values: {cluster: HPC cluster A (staging)}
      production:
        api_url: https://waldur.example.org/api/
        token_file: /run/secrets/waldur-production-token
        files: [environments/production/]
        values: {cluster: HPC cluster A}

Every problem is reported ``FILE:LINE: FIELD.PATH: message``, like the catalog files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic import StringConstraints as Len

from reconciler.core.errors import InputError
from reconciler.desired.environments import Environment, Project
from reconciler.desired.yamlsrc import FieldPath, YamlError, load_yaml

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
Name = Annotated[str, Len(pattern=_NAME)]
ValueName = Annotated[str, Len(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
Value = Annotated[str, Len(max_length=500)]
RelPath = Annotated[str, Len(min_length=1, max_length=500)]
EnvVar = Annotated[str, Len(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class EnvironmentSpec(_Spec):
    """One Waldur server the repository's catalogs are applied to."""

    model_config = ConfigDict(title="Environment")
    api_url: Annotated[str, Len(min_length=1, max_length=500)] = Field(
        description="The server's API URL, e.g. https://waldur-staging.example.org/api/"
    )
    token_env: EnvVar | None = Field(
        default=None, description="The environment variable that holds this server's token"
    )
    token_file: RelPath | None = Field(
        default=None, description="The file that holds this server's token (absolute path)"
    )
    files: list[RelPath] = Field(
        default_factory=list,
        description="Desired files or directories of this environment only, after the "
        "project's shared files (relative to the project file)",
    )
    values: dict[ValueName, Value] = Field(
        default_factory=dict,
        description="Values of {{ values.NAME }} placeholders here (override the project's)",
    )

    @model_validator(mode="after")
    def _one_token_source(self) -> EnvironmentSpec:
        if self.token_env and self.token_file:
            raise ValueError("give token_env or token_file, not both")
        return self


class ProjectFile(_Spec):
    """The project file (reconcile.yaml): the environments of one catalog repository."""

    model_config = ConfigDict(title="Reconcile project")
    files: list[RelPath] = Field(
        default_factory=list,
        description="Desired files or directories every environment applies (relative to "
        "the project file)",
    )
    values: dict[ValueName, Value] = Field(
        default_factory=dict, description="Default values of {{ values.NAME }} placeholders"
    )
    environments: dict[Name, EnvironmentSpec] = Field(
        min_length=1, description="The environments, by name (e.g. staging, production)"
    )


def load_project(path: Path) -> Project:
    """Read and validate the project file; `InputError` with every problem."""
    try:
        doc = load_yaml(path)
    except YamlError as exc:
        raise InputError(exc.problems, what="the project file") from None
    problems = list(doc.problems)
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "expected a mapping with 'environments:'"))
        raise InputError(problems, what="the project file")
    try:
        spec = ProjectFile.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            where = _data_path(error["loc"], doc.data)
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "required field is missing"
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(doc.problem(where, message))
        raise InputError(problems, what="the project file") from None
    if problems:
        raise InputError(problems, what="the project file")
    base = path.parent
    environments = {}
    for name, env in spec.environments.items():
        files = tuple(base / f for f in (*spec.files, *env.files))
        if not files:
            where = ("environments", name, "files")
            problems.append(doc.problem(where, "no desired files: list some here or in files:"))
        environments[name] = Environment(
            name=name,
            api_url=env.api_url,
            files=files,
            values={**spec.values, **env.values},
            token_env=env.token_env,
            token_file=env.token_file,
            where=doc.where(("environments", name)),
        )
    if problems:
        raise InputError(problems, what="the project file")
    return Project(path, environments)


def _data_path(loc: tuple[str | int, ...], data: Any) -> FieldPath:
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node:
            path.append(part)  # a missing or unknown key: name it
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def project_json_schema() -> dict[str, Any]:
    """The JSON Schema of the project file (for editors and `reconcile schema --project`)."""
    schema = ProjectFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
