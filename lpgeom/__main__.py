"""Command line: ``python -m lpgeom <command> ...`` (or the ``lpgeom`` script).

Each command lives in its own module under :mod:`lpgeom.cli` and provides
``add_parser(subparsers)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command -> module that defines it
COMMANDS: dict[str, str] = {
    "radii": "lpgeom.cli.radii",
    "train": "lpgeom.cli.train",
    "finetune": "lpgeom.cli.finetune",
    "eval": "lpgeom.cli.evaluate",
    "reproduce": "lpgeom.cli.reproduce",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lpgeom",
        description="lpgeom: robustness against several l_p threat models at once (Croce & Hein, 2022).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, FileNotFoundError) as err:  # bad input or missing files: one clear line, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
