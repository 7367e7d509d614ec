"""Checks of the attacks' hyperparameters: counts, step sizes, fractions, seeds, flags, generators.

Each returns the value in its canonical type or raises one sentence naming the argument, the
value and what is accepted (``TypeError`` for the wrong kind of value, ``ValueError`` for one
out of range). Numpy integers and floats are accepted where Python's are; ``bool`` is never
taken for a number.
"""
from __future__ import annotations

import math
import numbers

import torch

from ..utils.seeds import MAX_SEED, check_seed  # the one seed check (lpgeom.utils)

__all__ = ["MAX_ITERATIONS", "MAX_SEED", "check_count", "check_positive", "check_fraction", "check_seed", "check_flag",
           "check_generator"]

MAX_ITERATIONS = 10**9  # more steps than any attack can run; larger counts also overflow the schedule's floats


def _show(value: object) -> str:
    """``repr(value)``, shortened in the middle when long (a 400-digit count stays readable)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:18]}...{text[-8:]} ({len(text)} characters)"


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and not _is_numpy_bool(value)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not _is_numpy_bool(value)


def _is_numpy_bool(value: object) -> bool:
    return type(value).__name__ == "bool_" and type(value).__module__ == "numpy"


def check_count(value: object, name: str, low: int = 1, high: int = MAX_ITERATIONS) -> int:
    """``value`` as an int in ``[low, high]``.

    >>> check_count(10, "n_iter")
    10
    >>> check_count(True, "n_iter")
    Traceback (most recent call last):
    TypeError: n_iter must be an integer in [1, 1000000000], got True (bool)
    """
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer in [{low}, {high}], got {_show(value)} ({type(value).__name__})")
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {_show(value)}")
    return int(value)


def check_positive(value: object, name: str) -> float:
    """``value`` as a finite float > 0 (a step size, a radius-like setting)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a finite number > 0, got {_show(value)} ({type(value).__name__})")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        finite = False
    if not (finite and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {_show(value)}")
    return float(value)


def check_fraction(value: object, name: str) -> float:
    """``value`` as a float in (0, 1] (a sparsity: the fraction of coordinates in a step)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a number in (0, 1], got {_show(value)} ({type(value).__name__})")
    if not 0 < value <= 1:  # NaN fails both comparisons
        raise ValueError(f"{name} must be a number in (0, 1], got {_show(value)}")
    return float(value)


def check_flag(value: object, name: str) -> bool:
    """``value`` if it is a bool (``random_start="no"`` would otherwise be true)."""
    if not isinstance(value, bool) and not _is_numpy_bool(value):
        raise TypeError(f"{name} must be True or False, got {_show(value)} ({type(value).__name__})")
    return bool(value)


def check_generator(generator: object, device: torch.device) -> None:
    """``None`` or a ``torch.Generator`` on ``device``'s type, else ``TypeError``/``ValueError``."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if generator.device.type != torch.device(device).type:
        raise ValueError(f"generator lives on {generator.device} but x is on {device}: pass a generator on x's device")
