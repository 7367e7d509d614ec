"""Argument checks shared by the geometry functions and the layers above (one clear sentence each).

Each check returns the value in its canonical Python type or raises one sentence that names
the argument, the value and what is accepted: ``TypeError`` for the wrong kind of value,
``ValueError`` for one out of range. ``bool`` (Python's or numpy's) is never taken for a
number; numpy integers and floats are taken where Python's are; integers too large for a
float are refused with their number of digits, not an ``OverflowError``.
"""
from __future__ import annotations

import math

from ..utils import MAX_INT64, as_float, check_integer, check_real, is_bool, is_integer, is_real, shown

__all__ = ["parse_p", "check_radii", "check_dimension", "check_integer", "check_real", "MAX_DIMENSION"]

MAX_DIMENSION = MAX_INT64
"""Largest dimension accepted: the largest size of a tensor axis (int64)."""

# the generic checks live in the bottom layer (lpgeom.utils.checks); kept importable from here
_is_bool, _is_integer, _is_real = is_bool, is_integer, is_real


def parse_p(p: float | int | str) -> float:
    """Return ``p`` as a float in ``[1, inf]``; accepts ``"inf"``, ``"Linf"``, ``"L2"``, ``float('inf')``.

    Raises
    ------
    TypeError
        If ``p`` is neither a string nor a real number (a bool, a list, None, ...).
    ValueError
        If ``p`` is a string that names no number, is NaN, is smaller than 1, or is an
        integer beyond the float range (pass ``"inf"``).
    """
    accepted = "a number >= 1 or 'inf'"
    if isinstance(p, str):
        text = p.strip().lower().removeprefix("l")
        if text in {"inf", "infty", "infinity", "∞"}:
            return math.inf
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"p must be {accepted}, got {shown(p)}") from None
        if math.isinf(value) and value > 0 and "inf" not in text:  # '1e400': beyond the float range
            raise ValueError(f"p must be {accepted}, got {shown(p)}, beyond the float range (for the l_inf ball pass "
                             f"'inf')")
    elif _is_real(p):
        value = as_float(p, "p", accepted + " (for a huge p pass 'inf')")
    else:
        raise TypeError(f"p must be {accepted}, got {shown(p)} ({type(p).__name__})")
    if math.isnan(value):
        raise ValueError(f"p must be {accepted}, got NaN")
    if value < 1:
        raise ValueError(f"p must be >= 1 (l_p is not a norm for p < 1), got p={value:g}")
    return value


def check_dimension(d: int, minimum: int = 2) -> int:
    """Return ``d`` as an int in ``[minimum, 2**63 - 1]``.

    A float with an integer value (``3072.0``) is taken; a bool is not.

    Parameters
    ----------
    d : int
        A number of coordinates.
    minimum : int
        2 for the geometry of B_1 and B_inf (in 1-D they coincide); 1 for a ball's limits.

    Raises
    ------
    TypeError
        If ``d`` is not a real number (a bool, a string, None, ...).
    ValueError
        If ``d`` has a fractional part, is not finite, or lies outside the range.
    """
    if _is_bool(d) or not _is_real(d):
        raise TypeError(f"the dimension d must be an integer >= {minimum}, got {shown(d)}"
                        + (" (a bool)" if _is_bool(d) else f" ({type(d).__name__})"))
    if not (_is_integer(d) or math.isfinite(d) and float(d).is_integer()):
        raise ValueError(f"the dimension d must be an integer >= {minimum}, got {shown(d)}")
    d = int(d)
    if d < minimum:
        why = " (in 1D the l_1 and l_inf balls coincide)" if minimum == 2 else ""
        raise ValueError(f"the dimension d must be >= {minimum}{why}, got d={d}")
    if d > MAX_DIMENSION:
        raise ValueError(f"the dimension d must be at most 2**63 - 1 (the largest tensor axis), got d={shown(d)}")
    return d


def check_radii(eps1: float, eps_inf: float, d: int) -> tuple[float, float, int]:
    """Validate radii and dimension for the non-degenerate setting of the paper.

    The balls :math:`B_1(\\epsilon_1)` and :math:`B_\\infty(\\epsilon_\\infty)` in
    :math:`\\mathbb{R}^d` contain neither one another iff
    :math:`\\epsilon_\\infty < \\epsilon_1 < d\\,\\epsilon_\\infty`.

    Returns
    -------
    tuple of (float, float, int)
        ``(eps1, eps_inf, d)`` as Python numbers.

    Raises
    ------
    TypeError
        A radius that is not a real number (:func:`check_real`).
    ValueError
        Non-positive or non-finite radii, ``d < 2``, or one ball containing the other
        (the message says which).
    """
    eps1 = check_real(eps1, "eps1", 0.0, low_open=True)
    eps_inf = check_real(eps_inf, "eps_inf", 0.0, low_open=True)
    d = check_dimension(d)
    if eps1 <= eps_inf:
        raise ValueError(
            f"degenerate radii: eps1={eps1:g} <= eps_inf={eps_inf:g}, so B_1(eps1) is contained in "
            f"B_inf(eps_inf) and the union is just the l_inf ball; need eps_inf < eps1 < d*eps_inf"
        )
    if eps1 >= d * eps_inf:
        raise ValueError(
            f"degenerate radii: eps1={eps1:g} >= d*eps_inf={d * eps_inf:g} (d={d}), so B_inf(eps_inf) is "
            f"contained in B_1(eps1) and the union is just the l_1 ball; need eps_inf < eps1 < d*eps_inf"
        )
    return eps1, eps_inf, d
