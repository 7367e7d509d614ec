"""Atomic, verified, resumable checkpoints of a run: ``last.pt`` and ``previous.pt``.

``save_checkpoint`` stores the state with its SHA-256 digest (:func:`lpgeom.models.checkpoints.state_digest`
over every tensor and value) under the key ``"sha256"``, moves the former ``last.pt`` to
``previous.pt`` and writes the new one atomically (:mod:`lpgeom.utils.files`): a crash or a
kill at any moment leaves at least one complete checkpoint (``last.pt``, or ``previous.pt``
alone between the two renames). ``load_latest`` reads with ``weights_only=True``, checks the
digest (a checkpoint without one is refused like a corrupt one), and falls back from a corrupt
``last.pt`` to ``previous.pt`` with a warning.
"""
from __future__ import annotations

import os
import pathlib
import warnings
from dataclasses import dataclass

import torch

from ..models.checkpoints import DIGEST_KEY, CheckpointError, split_digest, state_digest
from ..utils.files import atomic_torch_save, replace_file

__all__ = ["save_checkpoint", "load_latest", "CheckpointPolicy", "LAST", "PREVIOUS", "DIGEST_KEY"]

LAST, PREVIOUS = "last.pt", "previous.pt"


def save_checkpoint(state: dict, run_dir: str | os.PathLike) -> pathlib.Path:
    """Write ``state`` (plus its digest) atomically as ``run_dir/last.pt``; the former one becomes ``previous.pt``.

    Raises
    ------
    OSError
        If the folder cannot be written (disk full, read-only): one sentence naming the file;
        no temporary file is left and the newest complete checkpoint stays readable.
    ValueError
        If ``state`` already holds the reserved key ``"sha256"``.
    """
    if DIGEST_KEY in state:
        raise ValueError(f"a checkpoint state must not hold the key {DIGEST_KEY!r} (it is added on saving)")
    folder = pathlib.Path(run_dir)
    last = folder / LAST
    payload = {**state, DIGEST_KEY: state_digest(state)}
    if last.exists() or last.is_symlink():  # a link is refused, never moved or written through
        replace_file(last, folder / PREVIOUS, folder)
    return atomic_torch_save(payload, last, folder)


def _read_verified(path: pathlib.Path, map_location) -> dict:
    state, recorded = split_digest(torch.load(path, map_location=map_location, weights_only=True))
    if not isinstance(state, dict):
        raise CheckpointError(f"it holds a {type(state).__name__}, not a checkpoint dict")
    if recorded is None:
        raise CheckpointError("it carries no digest, so it cannot be verified (every checkpoint lpgeom writes has one: "
                              "the file was replaced or damaged)")
    if recorded != state_digest(state):
        raise CheckpointError("its content does not match its SHA-256 digest (the file is corrupt)")
    return state


def load_latest(run_dir: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict | None:
    """The newest readable, verified checkpoint of a run (without its digest), or None if the run has none.

    Warns (``UserWarning``) when ``last.pt`` is unreadable or corrupt and ``previous.pt`` is used.

    Raises
    ------
    CheckpointError
        If checkpoints exist but none can be read or verified (a ``ValueError``).
    """
    folder = pathlib.Path(run_dir)
    errors = []
    for name in (LAST, PREVIOUS):
        path = folder / name
        if not path.exists():
            continue
        try:
            state = _read_verified(path, map_location)
        except Exception as err:  # any unreadable file: torch raises many types
            errors.append(f"{path}: {type(err).__name__}: {err}")
            continue
        if errors:
            warnings.warn(f"checkpoint {errors[0]} is unreadable; resuming from {path}", stacklevel=2)
        return state
    if errors:
        raise CheckpointError("no readable checkpoint in " + str(folder) + ": " + "; ".join(errors))
    return None


@dataclass(frozen=True)
class CheckpointPolicy:
    """When the loop checkpoints: at every epoch end, every ``every`` steps, and where it stops.

    Attributes
    ----------
    every : int
        Also checkpoint after every ``every``-th step of the run (0: at epoch ends only).
    stop_after : int, optional
        Stop (checkpointed) once the run has done this many steps.

    Examples
    --------
    >>> policy = CheckpointPolicy(every=3, stop_after=5)
    >>> [policy.resume_point(0, s, 4, s + 1) for s in range(4)]  # epoch 0 of 4 steps
    [None, None, (0, 3), (1, 0)]
    >>> policy.resume_point(1, 0, 4, 5), policy.stops(5)
    ((1, 1), True)
    """

    every: int = 0
    stop_after: int | None = None

    def stops(self, global_step: int) -> bool:
        """True once ``global_step`` steps are done and the run should stop."""
        return self.stop_after is not None and global_step >= self.stop_after

    def resume_point(self, epoch: int, step: int, steps_per_epoch: int, global_step: int) -> tuple[int, int] | None:
        """After step ``step`` of ``epoch`` (``global_step`` steps done): the (epoch, step) a checkpoint resumes
        from, or None when no checkpoint is due."""
        if step + 1 == steps_per_epoch:
            return epoch + 1, 0
        if self.stops(global_step) or (self.every and global_step % self.every == 0):
            return epoch, step + 1
        return None
