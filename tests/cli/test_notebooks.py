"""``lpgeom notebooks DEST`` copies the book's notebooks out of the package (or the checkout)."""
from __future__ import annotations

import json
import pathlib

import pytest

from lpgeom.__main__ import main
from lpgeom.cli.notebooks import book_source, copy_notebooks
from lpgeom.utils import locations

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_copies_every_notebook_of_the_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    dest = tmp_path / "nb"
    assert main(["notebooks", str(dest)]) == 0
    wanted = sorted(p.relative_to(ROOT / "book") for p in (ROOT / "book").rglob("*.ipynb") if "_build" not in p.parts
                    and ".ipynb_checkpoints" not in p.parts)
    copied = sorted(p.relative_to(dest) for p in dest.rglob("*.ipynb"))
    assert copied == wanted and len(copied) >= 10
    assert json.loads((dest / "part2" / "training.ipynb").read_text())["cells"]
    assert (dest / "_toc.yml").is_file()
    assert f"copied {len(wanted)} notebooks" in capsys.readouterr().out
    # a second copy does not replace the user's files, unless asked
    assert main(["notebooks", str(dest)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["notebooks", str(dest), "--overwrite", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_the_wheels_copy_wins_and_a_file_dest_is_refused(tmp_path, monkeypatch):
    installed = tmp_path / "site" / "lpgeom"
    (installed / "_book" / "part1").mkdir(parents=True)
    (installed / "_book" / "part1" / "one.ipynb").write_text("{}")
    monkeypatch.setattr(locations, "package_dir", lambda: installed)
    assert book_source() == installed / "_book"
    written = copy_notebooks(tmp_path / "out")
    assert written == [tmp_path / "out" / "part1" / "one.ipynb"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        copy_notebooks(tmp_path / "file")
    with pytest.raises(ValueError, match="inside the installed lpgeom package"):
        copy_notebooks(installed / "copy")


def test_an_install_without_notebooks_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "package_dir", lambda: tmp_path / "site" / "lpgeom")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="carries no notebooks"):
        book_source()
