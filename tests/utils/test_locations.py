"""Where lpgeom reads and writes records: an argument, environment variables, a checkout found from the
working directory, ./lpgeom-data, the study shipped in the wheel; never the install folder, never ``__file__``."""
from __future__ import annotations

import ast
import pathlib

import pytest

from lpgeom.utils import locations
from lpgeom.utils.locations import (check_outside_package, find_checkout, recorded_results_dir, records_dir,
                                    results_dir)

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "lpgeom"


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """A working directory outside any checkout, with no lpgeom variables set."""
    for name in (locations.RECORDS_DIR_ENV, locations.RESULTS_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _fake_checkout(root: pathlib.Path) -> pathlib.Path:
    (root / "data" / "results").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "lpgeom"\n')
    return root


def test_outside_a_checkout_records_go_to_lpgeom_data_in_the_working_directory(outside):
    assert find_checkout() is None
    assert records_dir() == outside / "lpgeom-data"
    assert results_dir() == outside / "lpgeom-data" / "results"


def test_argument_beats_environment_beats_checkout(outside, monkeypatch, tmp_path):
    checkout = _fake_checkout(tmp_path / "clone")
    (checkout / "sub").mkdir()
    monkeypatch.chdir(checkout / "sub")
    assert find_checkout() == checkout.resolve()
    assert results_dir() == checkout.resolve() / "data" / "results"
    assert recorded_results_dir() == checkout.resolve() / "data" / "results"
    monkeypatch.setenv("LPGEOM_RECORDS_DIR", str(tmp_path / "records"))
    assert results_dir() == tmp_path / "records" / "results"
    assert recorded_results_dir() == tmp_path / "records" / "results"
    monkeypatch.setenv("LPGEOM_RESULTS_DIR", str(tmp_path / "mine"))
    assert results_dir() == tmp_path / "mine" and recorded_results_dir() == tmp_path / "mine"
    assert results_dir(tmp_path / "given") == tmp_path / "given"


def test_a_pyproject_of_another_project_is_no_checkout(outside):
    (outside / "data").mkdir()
    (outside / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert find_checkout() is None


def test_reading_falls_back_to_the_study_shipped_in_the_wheel(outside, monkeypatch, tmp_path):
    installed = tmp_path / "site-packages" / "lpgeom"
    (installed / "_recorded" / "results" / "cpu").mkdir(parents=True)
    monkeypatch.setattr(locations, "package_dir", lambda: installed)
    assert recorded_results_dir() == installed / "_recorded" / "results"
    # the user's own records, once there are some, are what the tables read
    (outside / "lpgeom-data" / "results" / "smoke").mkdir(parents=True)
    assert recorded_results_dir() == outside / "lpgeom-data" / "results"
    # and nothing is ever written into the install folder
    with pytest.raises(ValueError, match="inside the installed lpgeom package"):
        results_dir(installed / "_recorded" / "results")
    with pytest.raises(ValueError, match="inside the installed lpgeom package"):
        check_outside_package(installed / "anything", "runs folder")


def test_empty_folder_argument_is_refused(outside):
    with pytest.raises(ValueError, match="empty"):
        results_dir(" ")


def test_no_module_finds_a_path_from_its_own_file():
    """Paths into a checkout computed from ``__file__`` break in an installed wheel (issue 26)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Name) and node.id == "__file__":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, f"__file__ used in {offenders}: take folders from lpgeom.utils.locations"


def test_run_study_refuses_to_write_into_the_package(outside, monkeypatch, tmp_path):
    from lpgeom.experiments import run_study

    installed = tmp_path / "site-packages" / "lpgeom"
    installed.mkdir(parents=True)
    monkeypatch.setattr(locations, "package_dir", lambda: installed)
    with pytest.raises(ValueError, match="inside the installed lpgeom package"):
        run_study("smoke", ["table1"], installed / "data" / "results", tmp_path / "runs")
