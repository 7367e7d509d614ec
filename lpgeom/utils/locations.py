"""Where lpgeom reads and writes its data: never inside the installed package, never found from ``__file__``.

Folders are chosen, first match wins:

write (``reproduce``, re-attacks, checks)
    1. the folder passed as an argument (``--results-dir``, ``results_dir=``);
    2. ``$LPGEOM_RESULTS_DIR``, else ``$LPGEOM_RECORDS_DIR/results``;
    3. the ``data/results`` of an lpgeom checkout that contains the working directory
       (found by walking up from the working directory to a ``pyproject.toml`` naming lpgeom);
    4. ``./lpgeom-data/results`` in the working directory (:data:`DEFAULT_RECORDS_DIRNAME`).

read (the study tables, the book's Part II)
    1-3 as above, then ``./lpgeom-data/results`` if it holds records, then the recorded study
    shipped inside the wheel (``lpgeom/_recorded/results``, read only; absent in a checkout,
    where 3 applies).

The build and test scripts set ``LPGEOM_RECORDS_DIR`` to the checkout's ``data`` folder, so the
book and the tests read exactly the checkout's records wherever they run.
"""
from __future__ import annotations

import os
import pathlib

__all__ = ["RECORDS_DIR_ENV", "RESULTS_DIR_ENV", "DEFAULT_RECORDS_DIRNAME", "find_checkout", "records_dir", "results_dir",
           "recorded_results_dir", "packaged_recorded_dir", "package_dir", "check_outside_package"]

RECORDS_DIR_ENV = "LPGEOM_RECORDS_DIR"
RESULTS_DIR_ENV = "LPGEOM_RESULTS_DIR"
DEFAULT_RECORDS_DIRNAME = "lpgeom-data"


def package_dir() -> pathlib.Path:
    """The folder of the imported ``lpgeom`` package (where it is installed; never written)."""
    import lpgeom

    return pathlib.Path(lpgeom.__path__[0]).resolve()


def find_checkout(start: str | os.PathLike | None = None) -> pathlib.Path | None:
    """The lpgeom checkout (a folder with a ``pyproject.toml`` naming lpgeom and a ``data`` folder)
    that contains ``start`` (default: the working directory), or ``None``."""
    here = pathlib.Path.cwd() if start is None else pathlib.Path(start)
    here = here.resolve()
    for folder in (here, *here.parents):
        project = folder / "pyproject.toml"
        if project.is_file() and (folder / "data").is_dir():
            try:
                text = project.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if 'name = "lpgeom"' in text:
                return folder
    return None


def _env_path(name: str) -> pathlib.Path | None:
    value = os.environ.get(name, "").strip()
    return pathlib.Path(value).expanduser() if value else None


def records_dir(folder: str | os.PathLike | None = None) -> pathlib.Path:
    """The records folder (results, checks, benchmarks): ``folder`` > ``$LPGEOM_RECORDS_DIR`` > a checkout's ``data`` > ``./lpgeom-data``."""
    if folder is not None:
        if not str(folder).strip():
            raise ValueError("data folder is empty; give a folder or leave it out")
        return pathlib.Path(folder).expanduser()
    env = _env_path(RECORDS_DIR_ENV)
    if env is not None:
        return env
    checkout = find_checkout()
    if checkout is not None:
        return checkout / "data"
    return pathlib.Path.cwd() / DEFAULT_RECORDS_DIRNAME


def results_dir(folder: str | os.PathLike | None = None) -> pathlib.Path:
    """Where new records are written: ``folder`` > ``$LPGEOM_RESULTS_DIR`` > :func:`records_dir` ``/ results``.

    Raises
    ------
    ValueError
        If the folder lies inside the installed lpgeom package (an install folder is never written).
    """
    if folder is None:
        folder = _env_path(RESULTS_DIR_ENV) or records_dir() / "results"
    elif not str(folder).strip():
        raise ValueError("results folder is empty; give a folder or leave it out")
    path = pathlib.Path(folder).expanduser()
    check_outside_package(path, "results folder")
    return path


def packaged_recorded_dir() -> pathlib.Path | None:
    """The recorded study shipped inside a built wheel (``lpgeom/_recorded``), or ``None`` (a checkout)."""
    folder = package_dir() / "_recorded"
    return folder if (folder / "results").is_dir() else None


def recorded_results_dir(folder: str | os.PathLike | None = None) -> pathlib.Path:
    """Where recorded results are read from (see the module docstring for the order)."""
    if folder is not None:
        return pathlib.Path(folder).expanduser()
    env = _env_path(RESULTS_DIR_ENV)
    if env is not None:
        return env
    if _env_path(RECORDS_DIR_ENV) is not None or find_checkout() is not None:
        return records_dir() / "results"
    local = pathlib.Path.cwd() / DEFAULT_RECORDS_DIRNAME / "results"
    if local.is_dir() and any(local.iterdir()):
        return local
    shipped = packaged_recorded_dir()
    return shipped / "results" if shipped is not None else local


def check_outside_package(path: str | os.PathLike, what: str = "output folder") -> None:
    """Refuse a path inside the installed lpgeom package (the install folder is read only for lpgeom).

    Raises
    ------
    ValueError
        Naming ``what``, the path and where to write instead.
    """
    resolved = pathlib.Path(path).expanduser().resolve()
    if resolved.is_relative_to(package_dir()):
        raise ValueError(f"{what} {path} lies inside the installed lpgeom package ({package_dir()}); lpgeom never "
                         f"writes there: give another folder or set ${RECORDS_DIR_ENV}")
