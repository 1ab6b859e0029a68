"""The new commands' command lines: help for every command, selectors, saved-plan arguments."""

from __future__ import annotations

import pytest

from reconciler.cli import main as cli
from reconciler.core.errors import ConfigError
from reconciler.tools.export import parse_selectors


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_command_has_working_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "usage: reconcile" in capsys.readouterr().out


def test_apply_takes_a_saved_plan_or_files_and_export_import_take_out():
    parser = cli.build_parser()
    args = parser.parse_args(cli.normalise_argv(["plan.json"]))
    assert (args.command, args.saved_plan.name, args.files) == ("apply", "plan.json", None)
    argv = ["export", "--catalog", "EESSI@2023.06", "--catalog", "X", "--out", "f"]
    args = parser.parse_args(argv)
    assert (args.catalog, args.out) == (["EESSI@2023.06", "X"], "f")
    args = parser.parse_args(["import", "eessi", "x.json", "--out", "out.yaml"])
    assert (args.source, str(args.path), args.out) == ("eessi", "x.json", "out.yaml")
    args = parser.parse_args(["plan", "-f", "d.yaml", "-o", "markdown", "--out", "p.json"])
    assert (args.output, args.out) == ("markdown", "p.json")


@pytest.mark.parametrize(
    "argv", [["export", "-o", "f.yaml"], ["import", "eessi", "x.json", "-ox.yaml"]]
)
def test_o_is_never_a_file_and_says_to_use_out(argv):
    """-o means the output format everywhere; the commands that write files take --out."""
    with pytest.raises(ConfigError, match="--out FILE; -o is the output format"):
        cli.normalise_argv(argv)


def test_options_prints_a_terminal_list_or_the_markdown_table(capsys):
    assert cli.main(["options"]) == 0
    text = capsys.readouterr().out
    assert "--concurrency  [env RECONCILE_CONCURRENCY; default 8]" in text and "|---|" not in text
    assert cli.main(["options", "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("| flag | environment | default | meaning |")


def test_catalog_selectors_from_flags_or_the_environment():
    assert parse_selectors(["EESSI@2023.06", "Local"]) == [("EESSI", "2023.06"), ("Local", None)]
    assert parse_selectors("EESSI@2023.06, Local,") == [("EESSI", "2023.06"), ("Local", None)]
    assert parse_selectors(None) == [] and parse_selectors("") == []
