"""Build hook: the wheel carries the book's notebooks and the recorded study, taken from the checkout.

Single sources stay where they are (``book/`` and ``data/``); ``build_py`` copies them into the
built package as ``lpgeom/_book`` (notebooks and the pages they link to; ``lpgeom notebooks DEST``
copies them out) and ``lpgeom/_recorded`` (``data/results``, ``data/checks``, ``data/benchmarks``:
read only, what the study tables show when the user has no records of their own). An editable
install copies nothing: the checkout's folders are read in place. Everything else is in
pyproject.toml.
"""
from __future__ import annotations

import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent
BOOK_FILES = ("*.ipynb", "*.md", "_toc.yml", "references.bib")
RECORDED = ("results", "checks", "benchmarks")
SKIPPED = {"_build", ".ipynb_checkpoints", "__pycache__"}


def _copy_tree(source: pathlib.Path, target: pathlib.Path, patterns: tuple[str, ...] | None) -> list[str]:
    copied = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or SKIPPED & set(relative.parts) or path.suffix in {".lock", ".tmp"}:
            continue
        if patterns is not None and not any(path.match(p) for p in patterns):
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        copied.append(str(out))
    return copied


class BuildWithBookAndRecords(build_py):
    """``build_py`` that also copies ``book/`` notebooks and ``data/`` records into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = pathlib.Path(self.build_lib) / "lpgeom"
        book, data = HERE / "book", HERE / "data"
        if not book.is_dir() or not data.is_dir():
            raise SystemExit("building lpgeom needs the checkout's book/ and data/ folders (they are in the sdist)")
        for name, target in (("_book", package / "_book"), ("_recorded", package / "_recorded")):
            if target.exists():
                shutil.rmtree(target)
        self._copied = _copy_tree(book, package / "_book", BOOK_FILES)
        for name in RECORDED:
            if (data / name).is_dir():
                self._copied += _copy_tree(data / name, package / "_recorded" / name, None)

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), *getattr(self, "_copied", [])]


setup(cmdclass={"build_py": BuildWithBookAndRecords})
