"""Checks of the attacks' hyperparameters: counts, step sizes, fractions, seeds, flags, generators.

Each returns the value in its canonical type or raises one sentence naming the argument, the
value and what is accepted (``TypeError`` for the wrong kind of value, ``ValueError`` for one
out of range). Numbers are checked by the geometry layer's :func:`~lpgeom.geometry.check_integer`
and :func:`~lpgeom.geometry.check_real`, seeds by :func:`lpgeom.utils.check_seed`: the rules
every layer shares (numpy integers and floats accepted where Python's are; ``bool`` never
taken for a number).
"""
from __future__ import annotations

import torch

from ..utils import check_bool, check_integer, check_real
from ..threats import MAX_ITERATIONS
from ..utils.seeds import MAX_SEED, check_seed  # the one seed check (lpgeom.utils)

__all__ = ["MAX_ITERATIONS", "MAX_SEED", "check_count", "check_positive", "check_fraction", "check_seed", "check_flag",
           "check_generator", "target_count"]


def check_count(value: object, name: str, low: int = 1, high: int = MAX_ITERATIONS) -> int:
    """``value`` as an int in ``[low, high]`` (``high``: 1e9, more steps than any attack runs).

    >>> check_count(10, "n_iter")
    10
    >>> check_count(True, "n_iter")
    Traceback (most recent call last):
    TypeError: n_iter must be an integer in [1, 1000000000], got True (bool)
    """
    return check_integer(value, name, low, high)


def check_positive(value: object, name: str) -> float:
    """``value`` as a finite float > 0 (a step size, a radius-like setting)."""
    return check_real(value, name, 0.0, low_open=True)


def check_fraction(value: object, name: str) -> float:
    """``value`` as a float in (0, 1] (a sparsity: the fraction of coordinates in a step)."""
    return check_real(value, name, 0.0, 1.0, low_open=True)


def target_count(n_target_classes: int | None, default: int, n_classes: int) -> int:
    """How many target classes a targeted attack runs on a model with ``n_classes`` outputs.

    ``n_target_classes`` if given (refused above ``n_classes - 1``: there are no more other
    classes), else ``default`` (AutoAttack's standard for the norm) capped at ``n_classes - 1``.
    """
    if n_target_classes is not None and n_target_classes > n_classes - 1:
        raise ValueError(f"n_target_classes={n_target_classes} but the model has {n_classes} classes: "
                         f"at most {n_classes - 1} other classes can be targets")
    return min(default if n_target_classes is None else n_target_classes, n_classes - 1)


def check_flag(value: object, name: str) -> bool:
    """``value`` if it is a bool (``random_start="no"`` would otherwise be true): ``lpgeom.utils.check_bool``."""
    return check_bool(value, name)


def check_generator(generator: object, device: torch.device) -> None:
    """``None`` or a ``torch.Generator`` on ``device``'s type, else ``TypeError``/``ValueError``."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if generator.device.type != torch.device(device).type:
        raise ValueError(f"generator lives on {generator.device} but x is on {device}: pass a generator on x's device")
