"""Command line: ``lpgeom <command> ...`` (the console script) or ``python -m lpgeom <command> ...``.

Usage lines name the way the command was started. ``lpgeom --version`` prints the version.
Every command takes ``--quiet``: no progress bars and no informational lines (results and
errors are still printed; warnings and errors go to stderr, results to stdout).

Each command lives in its own module under :mod:`lpgeom.cli` and provides
``add_parser(subparsers)`` and ``run(args) -> int``.

Exit codes: 0 success; 1 a check failed or the machine failed (disk full, read-only
folder); 2 bad input (an option's value, conflicting options, missing or unreadable files,
a run dir another process is writing), reported as one line on stderr, never a traceback;
130 interrupted (Ctrl-C), one line saying how to resume a training run.
"""
from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

# command -> module that defines it
COMMANDS: dict[str, str] = {
    "radii": "lpgeom.cli.radii",
    "train": "lpgeom.cli.train",
    "finetune": "lpgeom.cli.finetune",
    "eval": "lpgeom.cli.evaluate",
    "soup": "lpgeom.cli.soup",
    "reproduce": "lpgeom.cli.reproduce",
    "notebooks": "lpgeom.cli.notebooks",
}

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
RESUMABLE = ("train", "finetune")


class UsageError(Exception):
    """A command line argparse refused (unknown option, bad value, conflicting options)."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are raised as :class:`UsageError` (one line), not printed with the usage.

    The top-level parser keeps each command's parser in ``command_parsers`` (``--config`` values
    are checked against the command's options).
    """

    command_parsers: dict[str, argparse.ArgumentParser]

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def program_name(argv0: str | None = None) -> str:
    """``lpgeom`` when started as the console script, ``python -m lpgeom`` otherwise (``python -m``, tests)."""
    name = pathlib.Path(sys.argv[0] if argv0 is None else argv0).name
    return "lpgeom" if name == "lpgeom" else "python -m lpgeom"


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("lpgeom")
    except importlib.metadata.PackageNotFoundError:  # imported from a folder that was never installed
        return "unknown (not installed)"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = Parser(
        prog=prog or program_name(),
        description="lpgeom: robustness against several l_p threat models at once (Croce & Hein, 2022).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.command_parsers = {name: importlib.import_module(module_name).add_parser(sub)
                              for name, module_name in COMMANDS.items()}
    for command in parser.command_parsers.values():
        if "--quiet" not in command._option_string_actions:
            command.add_argument("--quiet", action="store_true",
                                 help="no progress bars or informational lines (results and errors still print)")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; a command's ``--config FILE`` options go before the command line's, which win."""
    args = parser.parse_args(argv)
    config = getattr(args, "config", None)
    if config is None:
        return args
    from .cli.options import config_file_arguments

    command = getattr(parser, "command_parsers", {}).get(args.command)
    return parser.parse_args([argv[0], *config_file_arguments(pathlib.Path(config), args, command), *argv[1:]])


def _bad_input_errors() -> tuple[type[BaseException], ...]:
    from .training.lock import RunLockedError

    return ValueError, TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError, RunLockedError, UsageError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parse(parser, argv)
        from .utils.progress import set_progress

        quiet = bool(getattr(args, "quiet", False))
        if quiet:
            set_progress(False)
        try:
            return int(args.run(args) or 0)
        finally:
            if quiet:
                set_progress(None)
    except _bad_input_errors() as err:  # bad input or missing files: one clear line, no traceback
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # the machine: disk full, read-only folder
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        command = next((a for a in argv if a in COMMANDS), None)
        hint = ("; run the same command again to resume from the last checkpoint" if command in RESUMABLE else "")
        print(f"interrupted (Ctrl-C){hint}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
