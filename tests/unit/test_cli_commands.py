"""The new commands' command lines: help for every command, selectors, saved-plan arguments."""

from __future__ import annotations

import pytest

from reconciler import cli
from reconciler.export import parse_selectors


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
    args = parser.parse_args(["export", "--catalog", "EESSI@2023.06", "--catalog", "X", "-o", "f"])
    assert (args.catalog, args.out) == (["EESSI@2023.06", "X"], "f")
    args = parser.parse_args(["import", "eessi", "x.json", "-o", "out.yaml"])
    assert (args.source, str(args.path), args.out) == ("eessi", "x.json", "out.yaml")
    args = parser.parse_args(["plan", "-f", "d.yaml", "-o", "markdown", "--out", "p.json"])
    assert (args.output, args.out) == ("markdown", "p.json")


def test_catalog_selectors_from_flags_or_the_environment():
    assert parse_selectors(["EESSI@2023.06", "Local"]) == [("EESSI", "2023.06"), ("Local", None)]
    assert parse_selectors("EESSI@2023.06, Local,") == [("EESSI", "2023.06"), ("Local", None)]
    assert parse_selectors(None) == [] and parse_selectors("") == []
