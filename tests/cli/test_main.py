"""The `python -m lpgeom` dispatcher: help for every command, one-line errors with exit code 2."""
import subprocess
import sys

import pytest

from lpgeom.__main__ import COMMANDS, build_parser, main


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "lpgeom", "--help"], capture_output=True, text=True, check=True)
    for command in COMMANDS:
        assert command in out.stdout, f"command {command!r} missing from --help"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m lpgeom {command}") and "--help" in out and len(out.splitlines()) > 5


def test_no_command_is_an_error(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "COMMAND" in err and "required" in err


def test_unknown_command_names_the_choices(capsys):
    assert main(["bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'bogus'" in err and "radii" in err


def test_parser_is_built_from_the_command_modules():
    assert build_parser().prog == "python -m lpgeom"


@pytest.mark.parametrize("command, hint", [("eval", False), ("train", True)])
def test_ctrl_c_is_one_line_and_exit_code_130(command, hint, monkeypatch, capsys):
    import importlib

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(COMMANDS[command]), "run", interrupted)
    argv = {"eval": ["eval", "--checkpoint", "x.pt"], "train": ["train", "--run-dir", "r"]}[command]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()] and err.startswith("interrupted (Ctrl-C)")
    assert ("resume from the last checkpoint" in err) == hint


def test_version_and_the_usage_line_name_how_lpgeom_was_started(capsys):
    """`lpgeom --version`; usage says `lpgeom` from the console script, `python -m lpgeom` otherwise (issue 26)."""
    import importlib.metadata

    from lpgeom.__main__ import program_name

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip().endswith(importlib.metadata.version("lpgeom"))
    assert program_name("/venv/bin/lpgeom") == "lpgeom"
    assert program_name("/x/lpgeom/__main__.py") == "python -m lpgeom"
    assert build_parser("lpgeom").format_usage().startswith("usage: lpgeom ")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_quiet(command):
    parser = build_parser()
    assert "--quiet" in parser.command_parsers[command]._option_string_actions


def test_quiet_turns_progress_off_for_the_command_only(monkeypatch):
    import importlib

    monkeypatch.delenv("LPGEOM_PROGRESS", raising=False)
    from lpgeom.utils.progress import progress_enabled

    seen = []
    module = importlib.import_module(COMMANDS["radii"])
    monkeypatch.setattr(module, "run", lambda args: seen.append(progress_enabled()) or 0)
    assert main(["radii", "--quiet"]) == 0 and main(["radii"]) == 0
    assert seen == [False, True]
