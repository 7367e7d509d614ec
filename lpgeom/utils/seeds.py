"""The one check of a seed, shared by the attacks, training and data order.

A seed is an integer in ``[0, 2**64 - 1]``: what ``torch.Generator.manual_seed`` and
``torch.manual_seed`` take without wrapping. Numpy integers are taken as Python's; ``bool``
(Python's or numpy's) never counts as an integer. Derived seeds (seed and step, seed and
epoch) are reduced modulo ``2**64`` where they are made, so any seed in the range works
everywhere.
"""
from __future__ import annotations

import numbers

__all__ = ["MAX_SEED", "SEED_RANGE", "check_seed"]

MAX_SEED = 2**64 - 1
SEED_RANGE = "an integer in [0, 2**64 - 1]"


def _shown(value: object) -> str:
    """``repr(value)``, long integers abbreviated to their first digits and length (one short line)."""
    text = repr(value)
    if isinstance(value, numbers.Integral) and len(text) > 24:
        return f"{text[:10]}...({len(text.lstrip('-'))} digits)"
    return text if len(text) <= 80 else text[:77] + "..."


def _is_integer(value: object) -> bool:
    numpy_bool = type(value).__name__ == "bool_" and type(value).__module__ == "numpy"
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and not numpy_bool


def check_seed(value: object, name: str = "seed", optional: bool = True) -> int | None:
    """``value`` as an int in ``[0, 2**64 - 1]``, or ``None`` where ``optional``.

    Parameters
    ----------
    value : object
        The seed given.
    name : str
        What the messages call it (``"seed"``, ``"subset seed"``).
    optional : bool
        Whether ``None`` is accepted (and returned).

    Raises
    ------
    TypeError
        Not an integer (a float, a bool, a string, ...), one sentence naming ``name``.
    ValueError
        Outside ``[0, 2**64 - 1]``, one sentence naming ``name``.

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(-1, optional=False)
    Traceback (most recent call last):
    ValueError: seed must be an integer in [0, 2**64 - 1], got -1
    """
    accepted = ("None or " if optional else "") + SEED_RANGE
    if value is None and optional:
        return None
    if not _is_integer(value):
        raise TypeError(f"{name} must be {accepted}, got {_shown(value)} ({type(value).__name__})")
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name} must be {accepted}, got {_shown(value)}")
    return int(value)
