"""Argument checks shared by the geometry functions (clear ``ValueError`` messages)."""
from __future__ import annotations

import math
import numbers

__all__ = ["parse_p", "check_radii", "check_dimension"]


def parse_p(p: float | int | str) -> float:
    """Return ``p`` as a float in ``[1, inf]``; accepts ``"inf"``, ``"Linf"``, ``"L2"``, ``float('inf')``.

    Raises
    ------
    ValueError
        If ``p`` is not a number, is NaN, or is smaller than 1.
    """
    if isinstance(p, str):
        text = p.strip().lower().removeprefix("l")
        if text in {"inf", "infty", "infinity", "∞"}:
            return math.inf
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"p must be a number >= 1 or 'inf', got {p!r}") from None
    elif isinstance(p, numbers.Real) and not isinstance(p, bool):
        value = float(p)
    else:
        raise ValueError(f"p must be a number >= 1 or 'inf', got {p!r}")
    if math.isnan(value):
        raise ValueError("p must be a number >= 1 or 'inf', got NaN")
    if value < 1:
        raise ValueError(f"p must be >= 1 (l_p is not a norm for p < 1), got p={value:g}")
    return value


def _check_positive_finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value:g}")
    return value


def check_dimension(d: int) -> int:
    """Return ``d`` as an int >= 2, or raise ``ValueError``."""
    if isinstance(d, bool) or not isinstance(d, numbers.Integral):
        if isinstance(d, numbers.Real) and float(d).is_integer():
            d = int(d)
        else:
            raise ValueError(f"the dimension d must be an integer >= 2, got {d!r}")
    if d < 2:
        raise ValueError(f"the dimension d must be >= 2 (in 1D the l_1 and l_inf balls coincide), got d={d}")
    return int(d)


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
    ValueError
        Non-positive or non-finite radii, ``d < 2``, or one ball containing the other
        (the message says which).
    """
    eps1 = _check_positive_finite("eps1", eps1)
    eps_inf = _check_positive_finite("eps_inf", eps_inf)
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
