"""Re-execute notebooks in place so their stored outputs match the current code.

Usage: .venv/bin/python scripts/execute_notebooks.py [NOTEBOOK ...]   (default: every book/**/*.ipynb)

The profile comes from LPGEOM_PROFILE (default smoke) and is recorded in each
notebook's metadata (``lpgeom.profile``), together with the lpgeom version.
"""
from __future__ import annotations

import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def execute(path: pathlib.Path) -> float:
    import lpgeom

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   store_widget_state=True).execute()
    nb.metadata["lpgeom"] = {"profile": os.environ.get("LPGEOM_PROFILE", "smoke"), "version": lpgeom.__version__}
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    os.environ.setdefault("LPGEOM_PROFILE", "smoke")
    paths = [pathlib.Path(a) for a in argv] or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts
    )
    for path in paths:
        print(f"{path.relative_to(ROOT) if path.is_absolute() else path}: {execute(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
