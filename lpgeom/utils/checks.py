"""Generic argument checks every layer uses: integers, real numbers, booleans (one clear sentence each).

Each check returns the value in its canonical Python type or raises one sentence that names
the argument, the value and what is accepted: ``TypeError`` for the wrong kind of value,
``ValueError`` for one out of range. ``bool`` (Python's or numpy's) is never taken for a
number; numpy integers and floats are taken where Python's are; integers too large for a
float are refused with their number of digits, not an ``OverflowError``. (The geometry's own
checks, ``parse_p`` / ``check_radii`` / ``check_dimension``, stay in ``lpgeom.geometry``.)
"""
from __future__ import annotations

import math
import numbers

__all__ = ["check_integer", "check_real", "check_bool", "shown", "is_bool", "is_integer", "is_real", "as_float",
           "MAX_INT64"]

MAX_INT64 = 2**63 - 1
"""Largest integer a count may be: the largest size of a tensor axis (int64)."""


def shown(value: object) -> str:
    """``repr(value)``, with integers of more than 30 digits abbreviated (an error message stays one short line)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        digits = str(abs(int(value)))
        if len(digits) > 30:
            return f"{'-' if value < 0 else ''}{digits[:6]}... (an integer of {len(digits)} digits)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_bool(value: object) -> bool:
    """Whether ``value`` is Python's or numpy's bool."""
    # numpy's bool type is named bool_ in numpy 1 and bool in numpy 2
    return isinstance(value, bool) or (type(value).__name__ in ("bool_", "bool") and type(value).__module__ == "numpy")


def is_integer(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or numpy's), a bool not counted."""
    return isinstance(value, numbers.Integral) and not is_bool(value)


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number (Python's or numpy's), a bool not counted."""
    return isinstance(value, numbers.Real) and not is_bool(value)


def as_float(value: numbers.Real, name: str, accepted: str) -> float:
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
    if not is_integer(value):
        raise TypeError(f"{name} must be {accepted}, got {shown(value)} ({type(value).__name__})")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {accepted}, got {shown(value)}")
    if high is None and value > MAX_INT64:
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
    if not is_real(value):
        raise TypeError(f"{name} must be {accepted}, got {shown(value)} ({type(value).__name__})")
    number = as_float(value, name, accepted)
    inside_low = number > low if low_open else number >= low
    inside_high = number < high if high_open else number <= high
    if not (math.isfinite(number) and inside_low and inside_high):
        raise ValueError(f"{name} must be {accepted}, got {shown(value)}")
    return number


def check_bool(value: object, name: str) -> bool:
    """``value`` as a bool: Python's ``True`` / ``False`` or numpy's (``flag="no"`` or ``1`` would otherwise count as true).

    Raises
    ------
    TypeError
        Anything else, e.g. ``TypeError: augment must be True or False, got 'no' (str)``.
    """
    if not is_bool(value):
        raise TypeError(f"{name} must be True or False, got {shown(value)} ({type(value).__name__})")
    return bool(value)
