"""The paper's tables (package data ``lpgeom/experiments/paper_data/table<N>.csv``), as DataFrames labelled as the paper's."""
from __future__ import annotations

import importlib.resources
import pathlib

from ..utils.locations import recorded_results_dir

__all__ = ["load_paper_table", "PAPER_DIR", "PAPER_TABLES", "RESULTS_DIR"]

# shipped inside the package (pyproject package-data), so an installed wheel has them too
PAPER_DIR = pathlib.Path(str(importlib.resources.files("lpgeom.experiments") / "paper_data"))
# recorded results of the study, read by the tables (resolved once, at import; see lpgeom.utils.locations):
# $LPGEOM_RESULTS_DIR > $LPGEOM_DATA_DIR/results > the data/results of a checkout containing the working
# directory > ./lpgeom-data/results (if it holds records) > the recorded study shipped in the wheel
RESULTS_DIR = recorded_results_dir()
PAPER_TABLES = (1, 2, 3, 4, 5, 6, 7, 8, 9)


def load_paper_table(number: int):
    """Table ``number`` of Croce & Hein (2022) in percent.

    Raises
    ------
    TypeError
        If ``number`` is not an int (``True`` included).
    ValueError
        For a table the paper does not have.
    FileNotFoundError
        If the package's ``paper_data`` folder is missing (a package built without its data files).
    """
    import pandas as pd

    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"number must be an int (a table of the paper, {PAPER_TABLES[0]}-{PAPER_TABLES[-1]}), "
                        f"got {number!r} of type {type(number).__name__}")
    if number not in PAPER_TABLES:
        raise ValueError(f"the paper has Tables {PAPER_TABLES[0]}-{PAPER_TABLES[-1]}, got {number}")
    path = PAPER_DIR / f"table{number}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no transcription at {path}")
    frame = pd.read_csv(path, comment="#")
    frame.attrs["source"] = f"Croce & Hein (ICML 2022), Table {number}"
    return frame
