"""Settings precedence, argument spelling, and the token rules of the command line."""

import argparse

import pytest

from reconciler.cli import main as cli
from reconciler.core.errors import ConfigError
from reconciler.daemon.loop import Schedule
from reconciler.settings import OPTIONS, duration, listen_address, options_markdown, resolve


def ns(**given):
    values = dict.fromkeys(OPTIONS)
    values.update(given)
    return argparse.Namespace(**values)


def test_flag_beats_environment_beats_default():
    env = {"RECONCILE_CONCURRENCY": "3", "WALDUR_API_URL": "https://w.example/api/"}
    assert resolve(ns(), {}).concurrency == 8
    assert resolve(ns(), env).concurrency == 3
    assert resolve(ns(concurrency=5), env).concurrency == 5
    assert resolve(ns(), env).api_url == "https://w.example/api/"


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="RECONCILE_CONCURRENCY"):
        resolve(ns(), {"RECONCILE_CONCURRENCY": "many"})
    with pytest.raises(ConfigError, match="RECONCILE_OUTPUT"):
        resolve(ns(), {"RECONCILE_OUTPUT": "xml"})


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("RECONCILE_DRY_RUN", "ture", "is not true or false"),
        ("RECONCILE_ALLOW_INSECURE_HTTP", "maybe", "is not true or false"),
        ("RECONCILE_INTERVAL", "soon", "is not a duration"),
        ("RECONCILE_MAX_DELETE_PERCENT", "150", "between 0 and 100"),
        ("RECONCILE_MAX_DELETE", "-1", "cannot be negative"),
        ("RECONCILE_LISTEN", "9090", "is not HOST:PORT"),
    ],
)
def test_a_bad_typed_value_is_an_error_naming_the_variable(variable, value, says):
    """Never a silent default: RECONCILE_DRY_RUN=ture used to mean false."""
    with pytest.raises(ConfigError, match=f"environment variable {variable}=.*{says}"):
        resolve(ns(), {variable: value})


def test_booleans_and_typed_values_from_the_environment():
    env = {"RECONCILE_DRY_RUN": "Yes", "RECONCILE_INTERVAL": "10m", "RECONCILE_LISTEN": ":80"}
    settings = resolve(ns(), env)
    assert (settings.dry_run, settings.interval, settings.listen) == (
        True,
        600.0,
        ("127.0.0.1", 80),
    )
    assert resolve(ns(), {"RECONCILE_DRY_RUN": "off"}).dry_run is False
    assert settings.given == {"dry_run", "interval", "listen"}


def test_a_bad_flag_value_names_the_flag(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["daemon", "-f", "x", "--interval", "soon"])
    assert "argument --interval: 'soon' is not a duration" in capsys.readouterr().err


def test_token_from_env_or_file_and_never_in_repr(tmp_path):
    s = resolve(ns(), {"WALDUR_API_TOKEN": "secret-abc"})
    assert s.token.get_secret_value() == "secret-abc" and "secret-abc" not in repr(s)
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    s = resolve(ns(token_file=str(token_file)), {"WALDUR_API_TOKEN": "secret-abc"})
    assert s.token.get_secret_value() == "from-file"
    with pytest.raises(ConfigError, match="cannot read the token file"):
        resolve(ns(token_file=str(tmp_path / "missing")), {})


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["--dry-run", "-f", "x.yaml"], ["plan", "-f", "x.yaml"]),
        (["-f", "x.yaml"], ["apply", "-f", "x.yaml"]),
        (["plan", "-f", "x.yaml"], ["plan", "-f", "x.yaml"]),
        (["daemon", "--dry-run", "-f", "d"], ["daemon", "--dry-run", "-f", "d"]),
    ],
)
def test_spellings(argv, expected):
    assert cli.normalise_argv(argv) == expected


@pytest.mark.parametrize("argv", [["--token", "s3cret"], ["plan", "--token=s3cret"]])
def test_token_on_the_command_line_is_refused_without_echoing_it(argv):
    with pytest.raises(ConfigError) as info:
        cli.normalise_argv(argv)
    assert "s3cret" not in str(info.value) and "WALDUR_API_TOKEN" in str(info.value)


def test_durations_and_addresses():
    assert duration("90") == 90 and duration("10m") == 600 and duration("2h") == 7200
    with pytest.raises(ValueError):
        duration("soon")
    assert listen_address("127.0.0.1:9090") == ("127.0.0.1", 9090)
    assert listen_address(":9090") == ("127.0.0.1", 9090)
    with pytest.raises(ValueError):
        listen_address("9090")


def test_cron_schedule_period():
    assert Schedule(cron="*/15 * * * *").period() == 900
    assert Schedule(interval=60).period() == 60


def test_the_daemons_run_deadline_is_the_schedules_period_unless_given():
    cron = resolve(ns(cron="*/5 * * * *"), {})
    assert cron.for_daemon(Schedule(cron=cron.cron).period()).run_timeout == 300  # not 600
    assert resolve(ns(interval=90), {}).for_daemon(90).run_timeout == 90
    given = resolve(ns(cron="*/5 * * * *", run_timeout=42), {})
    assert given.for_daemon(300).run_timeout == 42


def test_options_table_lists_every_option():
    table = options_markdown()
    for option in OPTIONS.values():
        assert (option.flag or "(environment only)") in table and option.env in table


def test_the_configuration_page_holds_the_generated_table():
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "reference" / "configuration.md"
    assert options_markdown() in page.read_text(), "stale: run `make docs-reference`"
