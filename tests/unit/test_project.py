"""The project file (reconcile.yaml), values in desired files, and what the Git source hands
to git (offline: the Git server tests are in tests/e2e/test_git_source.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from reconciler.core.errors import ConfigError, InputError
from reconciler.core.secret import Secret
from reconciler.daemon.metrics import label_all
from reconciler.desired.files import expand
from reconciler.desired.loader import load_desired
from reconciler.desired.project import load_project, project_json_schema
from reconciler.source.git import GitConfig, GitSource, forge_link

PROJECT = """\
files: [catalogs/]
values:
  prefix: /cvmfs
environments:
  staging:
    api_url: https://staging.example.org/api/
    token_env: STAGING_TOKEN
    values: {cluster: Cluster S}
  production:
    api_url: https://waldur.example.org/api/
    token_file: /run/secrets/token
    files: [production/]
    values: {cluster: Cluster A, prefix: /opt}
"""
CATALOG = """\
catalogs:
  - name: Site
    version: "1"
    target_defaults:
      architectures: [x86_64/generic]
      path: "{{ values.prefix }}/{package}"
    offerings:
      - offering: "{{ values.cluster }}"
    packages:
      - name: GROMACS
        versions: [{version: "1"}]
"""


def write(tmp_path: Path, project: str = PROJECT) -> Path:
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "production").mkdir()
    (tmp_path / "catalogs" / "site.yaml").write_text(CATALOG)
    (tmp_path / "reconcile.yaml").write_text(project)
    return tmp_path / "reconcile.yaml"


def test_environments_merge_files_and_values(tmp_path):
    project = load_project(write(tmp_path))
    staging, production = project.select("staging"), project.select("production")
    assert staging.files == (tmp_path / "catalogs",)
    assert production.files == (tmp_path / "catalogs", tmp_path / "production")
    assert staging.values == {"prefix": "/cvmfs", "cluster": "Cluster S"}
    assert production.values == {"prefix": "/opt", "cluster": "Cluster A"}
    assert staging.token_env == "STAGING_TOKEN" and production.token_file == "/run/secrets/token"
    assert staging.where.endswith("reconcile.yaml:5")
    with pytest.raises(ConfigError, match="no environment 'prod'; it declares: staging, prod"):
        project.select("prod")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("token_env: STAGING_TOKEN", "tokn_env: STAGING_TOKEN"),
         "reconcile.yaml:7: environments.staging.tokn_env: unknown field"),
        (("    api_url: https://staging.example.org/api/\n", ""),
         "reconcile.yaml:5: environments.staging.api_url: required field is missing"),
        (("token_file: /run/secrets/token", "token_file: /run/secrets/token\n    token_env: X"),
         "reconcile.yaml:9: environments.production: give token_env or token_file, not both"),
        (("{cluster: Cluster S}", "{cluster: 42}"),
         "reconcile.yaml:8: environments.staging.values.cluster: Input should be a valid string"),
        (("  staging:", "  bad name:"), "reconcile.yaml:5: environments.bad name"),
    ],
)  # fmt: skip
def test_a_bad_project_file_names_file_line_and_field(tmp_path, edit, expected):
    path = write(tmp_path, PROJECT.replace(*edit))
    with pytest.raises(InputError) as caught:
        load_project(path)
    assert expected in str(caught.value), str(caught.value)


def test_values_are_substituted_before_validation(tmp_path):
    write(tmp_path)
    state = load_desired([tmp_path / "catalogs"], values={"prefix": "/opt", "cluster": "A"})
    paths = {r.fields.get("path") for r in state.records.values() if "path" in r.fields}
    assert paths == {"/opt/GROMACS"}
    links = [k for k in state.records if k.kind.label == "offering_link"]
    assert [k.parts[-1] for k in links] == ["A"]


@pytest.mark.parametrize(
    ("spelled", "substituted"),
    [
        ('"{{ values.cluster }}"', True),
        ('"\\x7b\\x7b values.cluster }}"', True),  # an escape makes the braces: still a placeholder
        ('"{ { values.cluster }}"', False),
    ],
)
def test_placeholders_are_found_however_yaml_spells_their_braces(tmp_path, spelled, substituted):
    """Files that cannot hold a placeholder are not walked; YAML escapes can still make one."""
    path = tmp_path / "d.yaml"
    path.write_text(
        f'catalogs:\n  - name: EESSI\n    version: "2023.06"\n    description: {spelled}\n',
        encoding="utf-8",
    )
    state = load_desired([path], values={"cluster": "A"})
    (catalog,) = state.records.values()
    assert (catalog.fields["description"] == "A") is substituted


def test_a_missing_value_or_no_environment_is_an_error_at_the_placeholder(tmp_path):
    write(tmp_path)
    with pytest.raises(InputError) as caught:
        load_desired([tmp_path / "catalogs"], values={"prefix": "/opt"})
    assert (
        "site.yaml:8: catalogs[0].offerings[0].offering: no value 'cluster' in the environment "
        "(its values: prefix)" in str(caught.value)
    )
    with pytest.raises(InputError) as caught:
        load_desired([tmp_path / "catalogs"])
    assert "site.yaml:6: catalogs[0].target_defaults.path: {{ values.prefix }} needs an " in str(
        caught.value
    )


def test_a_value_that_breaks_a_rule_is_reported_at_the_placeholder(tmp_path):
    write(tmp_path)
    with pytest.raises(InputError) as caught:
        load_desired([tmp_path / "catalogs"], values={"prefix": "/opt", "cluster": "x\x00y"})
    assert "site.yaml:8: catalogs[0].offerings[0].offering" in str(caught.value)


def test_the_project_file_is_never_read_as_a_catalog(tmp_path):
    write(tmp_path)
    (tmp_path / "catalogs" / "reconcile.yaml").write_text(PROJECT)
    assert [p.name for p in expand([tmp_path / "catalogs"], [])] == ["site.yaml"]


def test_the_schema_describes_the_environments():
    schema = project_json_schema()
    assert schema["required"] == ["environments"]
    environment = schema["$defs"]["EnvironmentSpec"]
    assert environment["required"] == ["api_url"]
    assert environment["additionalProperties"] is False


def test_git_gets_the_token_as_a_header_and_ssh_a_pinned_known_hosts(tmp_path):
    source = GitSource(
        GitConfig(
            url="https://git.example.org/catalogs.git",
            cache_dir=tmp_path,
            token=Secret("tok-123"),
            ssh_key="/keys/id_ed25519",
            known_hosts="/keys/known_hosts",
        )
    )
    env = source._env()
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"] == "Authorization: Basic eC1hY2Nlc3MtdG9rZW46dG9rLTEyMw=="
    ssh = shlex.split(env["GIT_SSH_COMMAND"])
    assert "StrictHostKeyChecking=yes" in ssh and "UserKnownHostsFile=/keys/known_hosts" in ssh
    assert ssh[ssh.index("-i") + 1] == "/keys/id_ed25519" and "BatchMode=yes" in ssh
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    with pytest.raises(ConfigError, match="holds a password"):
        GitSource(GitConfig(url="https://user:pw@git.example.org/c.git", cache_dir=tmp_path))


def test_commit_links_on_known_forges():
    sha = "a" * 40
    assert forge_link("https://github.com/org/repo.git", sha) == (
        f"https://github.com/org/repo/commit/{sha}"
    )
    assert forge_link("git@gitlab.com:group/sub/repo.git", sha) == (
        f"https://gitlab.com/group/sub/repo/-/commit/{sha}"
    )
    assert forge_link("https://git.example.org/repo.git", sha) is None


def test_every_metric_sample_carries_the_environment():
    text = b'# HELP a x\n# TYPE a counter\na_total{kind="p"} 1.0\nb 2.0\nc{} 3.0\n'
    assert label_all(text, "env", "staging") == (
        b'# HELP a x\n# TYPE a counter\na_total{env="staging",kind="p"} 1.0\n'
        b'b{env="staging"} 2.0\nc{env="staging"} 3.0\n'
    )
    assert label_all(text, "env", "") == text


def test_validate_checks_the_files_with_each_environments_values(tmp_path, monkeypatch):
    import io

    from reconciler.cli.main import run

    long = "/p" * 249  # 498 characters: a valid value, but the path it makes is too long
    write(tmp_path, PROJECT.replace("prefix: /opt}", f"prefix: {long}}}"))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert run(["validate", "--env", "staging"], out) == 0
    assert out.getvalue().startswith("staging: Valid: 1 file(s), 1 catalog, 1 offering link")
    with pytest.raises(InputError) as caught:
        run(["validate", "-f", "catalogs/site.yaml", "reconcile.yaml"], io.StringIO())
    text = str(caught.value)
    assert "(against the values of the environment production)" in text
    assert "site.yaml:6: catalogs[0].target_defaults.path: is 508 characters long" in text
