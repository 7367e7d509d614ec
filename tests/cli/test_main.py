"""The `python -m lpgeom` dispatcher."""
import subprocess
import sys

from lpgeom.__main__ import COMMANDS, build_parser, main


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "lpgeom", "--help"], capture_output=True, text=True, check=True)
    for command in COMMANDS:
        assert command in out.stdout, f"command {command!r} missing from --help"


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


def test_no_command_is_an_error(capsys):
    try:
        main([])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("expected a usage error")
