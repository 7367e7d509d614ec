"""``lpgeom notebooks DEST``: copy the book's notebooks (and the pages they link to) into a folder of yours.

A wheel carries the book as package data (``lpgeom/_book``, copied there from the checkout's
``book/`` when the wheel is built); in a checkout the ``book/`` folder of the checkout you are
in is copied. The copies are yours: they run from DEST (``jupyter lab DEST``), read the
recorded study shipped with the package (or ``$LPGEOM_RESULTS_DIR``) and write nothing into
the installed package.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import sys

PATTERNS = ("*.ipynb", "*.md", "_toc.yml", "references.bib")
SKIPPED = {"_build", ".ipynb_checkpoints"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("notebooks", help="copy the book's notebooks into a folder of yours, to run them there",
                              description="Copy the book's chapters (Jupyter notebooks, with the pages they link to) "
                                          "into DEST. Existing files are never replaced unless --overwrite is given.")
    p.add_argument("dest", metavar="DEST", help="folder to copy the notebooks into (created if missing)")
    p.add_argument("--overwrite", action="store_true", help="replace files of the same name in DEST")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)
    return p


def book_source() -> pathlib.Path:
    """The folder the notebooks are copied from: the wheel's ``lpgeom/_book``, else a checkout's ``book/``.

    Raises
    ------
    FileNotFoundError
        If neither exists (an editable install used from outside its checkout).
    """
    from ..utils.locations import find_checkout, package_dir

    shipped = package_dir() / "_book"
    if shipped.is_dir():
        return shipped
    checkout = find_checkout()
    if checkout is not None and (checkout / "book").is_dir():
        return checkout / "book"
    raise FileNotFoundError("this lpgeom install carries no notebooks (an editable install): run the command inside "
                            "its checkout, or install the wheel (pip install lpgeom)")


def book_files(source: pathlib.Path) -> list[pathlib.Path]:
    """The files copied, relative to ``source`` (notebooks, markdown pages, the table of contents, the bibliography)."""
    return sorted(p.relative_to(source) for p in source.rglob("*")
                  if p.is_file() and not SKIPPED & set(p.relative_to(source).parts)
                  and any(p.match(pattern) for pattern in PATTERNS))


def copy_notebooks(dest: str | pathlib.Path, overwrite: bool = False) -> list[pathlib.Path]:
    """Copy the book into ``dest``; returns the written paths.

    Raises
    ------
    ValueError
        If ``dest`` is a file, lies inside the installed package, or already holds one of the
        files and ``overwrite`` is false (nothing is copied then).
    """
    from ..utils import atomic_write_bytes
    from ..utils.locations import check_outside_package

    dest = pathlib.Path(dest).expanduser()
    if not str(dest).strip():
        raise ValueError("DEST is empty; give a folder")
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"DEST {dest} is a file; give a folder")
    check_outside_package(dest, "DEST")
    source = book_source()
    files = book_files(source)
    if not files:
        raise FileNotFoundError(f"no notebooks in {source}")
    clashes = [f for f in files if (dest / f).exists()]
    if clashes and not overwrite:
        raise ValueError(f"DEST {dest} already holds {len(clashes)} of the files (e.g. {clashes[0]}); "
                         f"give another folder or --overwrite")
    written = []
    for relative in files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, (source / relative).read_bytes())
        written.append(target)
    return written


def run(args: argparse.Namespace) -> int:
    written = copy_notebooks(args.dest, overwrite=args.overwrite)
    if not args.quiet:
        notebooks = [p for p in written if p.suffix == ".ipynb"]
        print(f"copied {len(notebooks)} notebooks ({len(written)} files) into {pathlib.Path(args.dest).resolve()}")
        print(f"run them with: jupyter lab {args.dest}   (needs pip install \"lpgeom[notebooks]\"; "
              f"LPGEOM_PROFILE=smoke is the quick size)", file=sys.stdout)
    return 0
