"""Atomic, resumable checkpoints.

``save_checkpoint`` writes to a temporary file in the same folder, fsyncs it and renames
it over ``last.pt`` after moving the previous ``last.pt`` to ``previous.pt``: a crash or a
kill at any moment leaves at least one complete checkpoint. ``load_latest`` reads
``last.pt`` with ``weights_only=True`` and falls back to ``previous.pt`` (with a warning)
if ``last.pt`` is corrupt or truncated.
"""
from __future__ import annotations

import os
import pathlib
import warnings

import torch

__all__ = ["save_checkpoint", "load_latest", "LAST", "PREVIOUS"]

LAST, PREVIOUS = "last.pt", "previous.pt"


def _fsync_dir(folder: pathlib.Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(state: dict, run_dir: str | os.PathLike) -> pathlib.Path:
    """Write ``state`` atomically as ``run_dir/last.pt`` (the former one becomes ``previous.pt``)."""
    folder = pathlib.Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{LAST}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        torch.save(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    last = folder / LAST
    if last.exists():
        os.replace(last, folder / PREVIOUS)
    os.replace(tmp, last)
    _fsync_dir(folder)
    return last


def _read(path: pathlib.Path, map_location) -> dict:
    return torch.load(path, map_location=map_location, weights_only=True)


def load_latest(run_dir: str | os.PathLike, map_location="cpu") -> dict | None:
    """The newest readable checkpoint of a run, or None if the run has none.

    Raises
    ------
    ValueError
        If checkpoints exist but none can be read (corrupt or truncated).
    """
    folder = pathlib.Path(run_dir)
    errors = []
    for name in (LAST, PREVIOUS):
        path = folder / name
        if not path.exists():
            continue
        try:
            state = _read(path, map_location)
        except Exception as err:  # any unreadable file: torch raises many types
            errors.append(f"{path}: {type(err).__name__}: {err}")
            continue
        if errors:
            warnings.warn(f"checkpoint {errors[0]} is unreadable; resuming from {path}", stacklevel=2)
        return state
    if errors:
        raise ValueError("no readable checkpoint in " + str(folder) + ": " + "; ".join(errors))
    return None
