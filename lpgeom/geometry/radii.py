"""Closed-form radii of the largest l_p balls inside the union and the convex hull.

Let :math:`B_1(\\epsilon_1)` and :math:`B_\\infty(\\epsilon_\\infty)` be balls in
:math:`\\mathbb{R}^d` with :math:`\\epsilon_\\infty < \\epsilon_1 < d\\,\\epsilon_\\infty`,
:math:`U` their union and :math:`C` the convex hull of :math:`U`.

* Proposition 3.1 (Croce & Hein, 2020/2022):
  :math:`\\min_{x \\notin U} \\|x\\|_p = \\big(\\epsilon_\\infty^p + (\\epsilon_1-\\epsilon_\\infty)^p/(d-1)^{p-1}\\big)^{1/p}`.
* Theorem 3.1: with :math:`k = \\lfloor \\epsilon_1/\\epsilon_\\infty \\rfloor`,
  :math:`\\alpha = \\epsilon_1/\\epsilon_\\infty - k` and :math:`1/p + 1/q = 1`,
  :math:`\\min_{x \\notin C} \\|x\\|_p = \\epsilon_1 / (k + \\alpha^q)^{1/q}`.
"""
from __future__ import annotations

import math

from ._validation import check_radii, parse_p

__all__ = ["union_radius", "hull_radius", "conjugate_exponent"]


def conjugate_exponent(p: float) -> float:
    """Return q with 1/p + 1/q = 1 (q = inf for p = 1, q = 1 for p = inf)."""
    p = parse_p(p)
    if p == 1:
        return math.inf
    if math.isinf(p):
        return 1.0
    return p / (p - 1.0)


def union_radius(eps1: float, eps_inf: float, p: float | str, d: int) -> float:
    """Radius of the largest l_p ball inside :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Proposition 3.1 of the paper: the smallest l_p norm of a point outside the union.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii of the l_1 and l_inf balls, with ``eps_inf < eps1 < d * eps_inf``.
    p : float or str
        The norm, ``1 <= p <= inf`` (``"inf"`` accepted).
    d : int
        Dimension, ``d >= 2``.

    Returns
    -------
    float
        :math:`(\\epsilon_\\infty^p + (\\epsilon_1-\\epsilon_\\infty)^p/(d-1)^{p-1})^{1/p}`;
        ``eps1`` for p = 1 and ``eps_inf`` for p = inf.

    Examples
    --------
    >>> round(union_radius(12, 8/255, 2, 3072), 4)
    0.2182
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    rest = (eps1 - eps_inf) / (d - 1)  # every other coordinate of the minimiser
    if math.isinf(p):
        return max(eps_inf, rest)
    # (eps_inf^p + (d-1) rest^p)^(1/p), evaluated stably through the largest term
    big = max(eps_inf, rest)
    total = (eps_inf / big) ** p + (d - 1) * (rest / big) ** p
    return big * total ** (1.0 / p)


def hull_radius(eps1: float, eps_inf: float, p: float | str, d: int) -> float:
    """Radius of the largest l_p ball inside the convex hull of :math:`B_1 \\cup B_\\infty`.

    Theorem 3.1 of the paper, valid for every ``p`` in ``[1, inf]`` (fractional too).

    Parameters
    ----------
    eps1, eps_inf : float
        Radii of the l_1 and l_inf balls, with ``eps_inf < eps1 < d * eps_inf``.
    p : float or str
        The norm, ``1 <= p <= inf``.
    d : int
        Dimension, ``d >= 2`` (the radius does not depend on ``d`` once the radii are
        non-degenerate, but ``d`` decides whether they are).

    Returns
    -------
    float
        :math:`\\epsilon_1 / (k + \\alpha^q)^{1/q}` with :math:`k = \\lfloor\\epsilon_1/\\epsilon_\\infty\\rfloor`,
        :math:`\\alpha = \\epsilon_1/\\epsilon_\\infty - k`; ``eps1`` for p = 1, ``eps_inf`` for p = inf.

    Examples
    --------
    >>> round(hull_radius(12, 8/255, 2, 3072), 4)
    0.6138
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    k, alpha = _split_ratio(eps1, eps_inf)
    q = conjugate_exponent(p)
    if math.isinf(q):  # p = 1: (k + alpha^q)^(1/q) -> 1 since k >= 1
        return eps1
    # (k + alpha^q)^(1/q) = exp(log(k + alpha^q) / q); alpha^q underflows harmlessly
    return eps1 / math.exp(math.log(k + alpha**q) / q)


def _split_ratio(eps1: float, eps_inf: float) -> tuple[int, float]:
    """Integer and fractional parts of eps1 / eps_inf, robust to rounding near integers."""
    ratio = eps1 / eps_inf
    k = math.floor(ratio)
    if ratio - k > 1 - 1e-12:  # 3.9999999999 is 4 up to rounding
        k += 1
    alpha = max(ratio - k, 0.0)
    return int(k), alpha
