"""What one command or run works on: the root its files are read from (the current
directory, or one commit's tree from the Git source), the project file's environment, the
desired files and values, and the settings with that environment's server and token.

Without a project file and without ``--env`` nothing changes: the ``-f`` files, the API URL
and the token as given. With ``--env NAME`` (or ``RECONCILE_ENV``) the project file
(``reconcile.yaml`` at the root, or ``--project``) gives the server, the token's source, the
files (``-f`` replaces them) and the values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.core.errors import ConfigError
from reconciler.core.secret import Secret
from reconciler.desired.environments import PROJECT_FILE, Environment, find_project
from reconciler.settings import Settings, read_token

if TYPE_CHECKING:  # imported when a Git URL is set: a run from local files never needs it
    from reconciler.source.git import Checkout, GitSource


@dataclass(frozen=True)
class Workspace:
    settings: Settings
    files: tuple[Path, ...]
    values: dict[str, str] | None = None
    environment: str = ""
    checkout: Checkout | None = None


def git_source(settings: Settings) -> GitSource | None:
    """The Git source of `settings`, or None when the files are local."""
    if not settings.git_url:
        return None
    from reconciler.source.git import GitConfig, GitSource  # subprocess, tarfile, …: ~15 ms

    token = None
    if settings.git_token_file:
        token = read_token(settings.git_token_file, {})
    elif os.environ.get("RECONCILE_GIT_TOKEN", "").strip():
        token = Secret(os.environ["RECONCILE_GIT_TOKEN"].strip())
    return GitSource(
        GitConfig(
            url=settings.git_url,
            ref=settings.git_ref,
            path=settings.git_path,
            cache_dir=Path(settings.git_cache) if settings.git_cache else None,
            token=token,
            username=settings.git_username,
            ssh_key=settings.git_ssh_key,
            known_hosts=settings.git_known_hosts,
            allowed_signers=settings.git_allowed_signers,
            gpg_home=settings.git_gpg_home,
            timeout=settings.timeout * 4,
        )
    )


def environments(settings: Settings, checkout: Checkout | None = None) -> tuple[str, ...]:
    root = checkout.root if checkout is not None else Path(".")
    path = find_project(root, settings.project)
    if path is None:
        return ()
    from reconciler.desired.project import load_project  # pydantic: only with a project file

    return tuple(load_project(path).environments)


def workspace(
    settings: Settings,
    files: Sequence[Path] | None,
    checkout: Checkout | None = None,
    env: str | None = None,
) -> Workspace:
    """The workspace of one command (see the module docstring); `env` overrides --env."""
    root = checkout.root if checkout is not None else Path(".")
    given = [p if checkout is None or p.is_absolute() else root / p for p in files or ()]
    name = settings.env if env is None else env
    path = find_project(root, settings.project)
    if path is None:
        if name:
            raise ConfigError(
                f"--env {name} needs a project file: {root / PROJECT_FILE} does not exist "
                "(or give --project FILE)"
            )
        if not given:
            raise ConfigError("no desired files: give -f FILE (or a project file and --env)")
        return Workspace(settings, tuple(given), checkout=checkout)
    from reconciler.desired.project import load_project  # pydantic: only with a project file

    project = load_project(path)
    names = tuple(project.environments)
    if not name:
        if not given:
            raise ConfigError(
                f"{path} declares the environments {', '.join(names)}: choose one with "
                "--env NAME (or RECONCILE_ENV), or plan them all with --all-envs"
            )
        return Workspace(settings, tuple(given), checkout=checkout)
    chosen = project.select(name)
    return Workspace(
        _settings_for(settings, chosen, path),
        tuple(given) or chosen.files,
        values=dict(chosen.values),
        environment=name,
        checkout=checkout,
    )


def _settings_for(settings: Settings, env: Environment, project: Path) -> Settings:
    """`settings` pointed at the environment's server, with its token."""
    if "api_url" in settings.given and settings.api_url.rstrip("/") != env.api_url.rstrip("/"):
        raise ConfigError(
            f"the environment {env.name} ({env.where}) is {env.api_url}, but --api-url or "
            f"WALDUR_API_URL says {settings.api_url}; leave one out"
        )
    token = settings.token
    if env.token_env:
        value = os.environ.get(env.token_env, "").strip()
        if not value:
            raise ConfigError(
                f"the environment {env.name} takes its token from the variable "
                f"{env.token_env} ({project}), which is not set"
            )
        token = Secret(value)
    elif env.token_file:
        token = read_token(env.token_file, {})
    return replace(settings, api_url=env.api_url, env=env.name, token=token)
