"""Argument checks shared by the geometry functions and the layers above (one clear sentence each).

Each check returns the value in its canonical Python type or raises one sentence that names
the argument, the value and what is accepted: ``TypeError`` for the wrong kind of value,
``ValueError`` for one out of range. ``bool`` (Python's or numpy's) is never taken for a
number; numpy integers and floats are taken where Python's are; integers too large for a
float are refused with their number of digits, not an ``OverflowError``.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["parse_p", "check_radii", "check_dimension", "check_integer", "check_real", "MAX_DIMENSION"]

MAX_DIMENSION = 2**63 - 1
"""Largest dimension accepted: the largest size of a tensor axis (int64)."""


def shown(value: object) -> str:
    """``repr(value)``, with integers of more than 30 digits abbreviated (an error message stays one short line)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        digits = str(abs(int(value)))
        if len(digits) > 30:
            return f"{'-' if value < 0 else ''}{digits[:6]}... (an integer of {len(digits)} digits)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_bool(value: object) -> bool:
    return isinstance(value, bool) or (type(value).__name__ == "bool_" and type(value).__module__ == "numpy")


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _as_float(value: numbers.Real, name: str, accepted: str) -> float:
    """``float(value)``, or one clear ``ValueError`` for an integer beyond the float range."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {accepted}, got {shown(value)}, beyond the float range") from None


def check_integer(value: object, name: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: up to 2**63 - 1, the int64 range).

    Raises
    ------
    TypeError
        Not an integer (a bool, a float, a string, ...).
    ValueError
        Out of range.

    Examples
    --------
    >>> check_integer(3, "n_starts")
    3
    >>> check_integer(True, "n_starts")
    Traceback (most recent call last):
    TypeError: n_starts must be an integer >= 1, got True (bool)
    """
    accepted = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
    if not _is_integer(value):
        raise TypeError(f"{name} must be {accepted}, got {shown(value)} ({type(value).__name__})")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {accepted}, got {shown(value)}")
    if high is None and value > MAX_DIMENSION:
        raise ValueError(f"{name} must be {accepted} and at most 2**63 - 1 (int64), got {shown(value)}")
    return int(value)


def check_real(value: object, name: str, low: float = -math.inf, high: float = math.inf, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (ends open if asked).

    Raises
    ------
    TypeError
        Not a real number (a bool, a complex, a string, a tensor, ...).
    ValueError
        NaN, infinite, beyond the float range, or outside the interval.

    Examples
    --------
    >>> check_real(0.5, "delta", 0, 1, low_open=True, high_open=True)
    0.5
    """
    accepted = (f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
                if math.isfinite(low) and math.isfinite(high)
                else f"a finite number {'>' if low_open else '>='} {low:g}" if math.isfinite(low)
                else f"a finite number {'<' if high_open else '<='} {high:g}" if math.isfinite(high)
                else "a finite number")
    if not _is_real(value):
        raise TypeError(f"{name} must be {accepted}, got {shown(value)} ({type(value).__name__})")
    number = _as_float(value, name, accepted)
    inside_low = number > low if low_open else number >= low
    inside_high = number < high if high_open else number <= high
    if not (math.isfinite(number) and inside_low and inside_high):
        raise ValueError(f"{name} must be {accepted}, got {shown(value)}")
    return number


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
        value = _as_float(p, "p", accepted + " (for a huge p pass 'inf')")
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
