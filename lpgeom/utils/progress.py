"""Progress bars (tqdm, with an ETA) for lpgeom's long jobs, one switch to turn them all off.

Every long job of the Python API (:func:`lpgeom.evaluate_robustness`, the AutoAttack wrapper,
the study's ``run_study``, training) takes ``progress: bool | None``: ``True`` shows a bar,
``False`` none, ``None`` (the default) follows :func:`progress_enabled`, which is on unless
``$LPGEOM_PROGRESS=0`` is set or :func:`set_progress` turned it off (the CLI's ``--quiet``
does). Bars go to stderr, so a command's results on stdout stay clean for pipes.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_enabled", "set_progress", "progress_bar"]

_SWITCH: list[bool | None] = [None]  # None: decided by $LPGEOM_PROGRESS


def set_progress(enabled: bool | None) -> None:
    """Turn progress bars on or off for this process (``None``: back to ``$LPGEOM_PROGRESS``)."""
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool or None, got {enabled!r}")
    _SWITCH[0] = enabled


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a bar: ``progress`` if given, else :func:`set_progress`'s choice, else ``$LPGEOM_PROGRESS``."""
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be a bool or None, got {progress!r}")
        return progress
    if _SWITCH[0] is not None:
        return _SWITCH[0]
    return os.environ.get("LPGEOM_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


class _NoBar:
    """What :func:`progress_bar` returns when bars are off: iterates and accepts tqdm's calls, prints nothing."""

    def __init__(self, iterable: Iterable | None = None, total: int | None = None):
        self.iterable, self.total, self.n = iterable, total, 0

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_description_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
                 unit: str = "it", progress: bool | None = None, leave: bool = False, initial: int = 0):
    """A tqdm bar (rate and ETA) on stderr, or a silent stand-in with the same methods when bars are off."""
    if not progress_enabled(progress):
        bar = _NoBar(iterable, total)
        bar.n = initial
        return bar
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, initial=initial, file=sys.stderr,
                dynamic_ncols=True, mininterval=1.0)
