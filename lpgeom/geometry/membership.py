"""Exact membership in the union and the convex hull, and the gauge of the hull.

The polar of :math:`C = \\mathrm{conv}(B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty))` is
:math:`C^\\circ = \\{u : \\|u\\|_\\infty \\le 1/\\epsilon_1,\\ \\|u\\|_1 \\le 1/\\epsilon_\\infty\\}`, so the
gauge :math:`\\gamma_C(x) = \\max_{u \\in C^\\circ} \\langle u, x\\rangle` is a fractional knapsack:
with :math:`k = \\lfloor \\epsilon_1/\\epsilon_\\infty \\rfloor`, :math:`\\alpha = \\epsilon_1/\\epsilon_\\infty - k`
and :math:`|x|_{(1)} \\ge |x|_{(2)} \\ge \\dots` the sorted magnitudes,

.. math:: \\gamma_C(x) = \\frac{1}{\\epsilon_1}\\Big(\\sum_{i \\le k} |x|_{(i)} + \\alpha\\, |x|_{(k+1)}\\Big).

:math:`x \\in C` iff :math:`\\gamma_C(x) \\le 1`. Everything is batched over rows, exact in any
dimension (one partial sort per row), and accepts numpy arrays or torch tensors.

Every input (integers, booleans, float16, bfloat16, lists of Python numbers, ...) is
computed in float64 (float32 on MPS), exactly as given (:mod:`lpgeom.geometry.arrays`);
complex, non-numeric, masked and meta input is refused. Rows are scaled by a power of two
(exact) before summing, so entries near the float64 limit do not overflow.

Tolerance policy: a point counts as inside when its gauge (for the union: its l_1 or
l_inf norm over the radius) is at most ``1 + tol``, and as outside above. ``tol`` defaults
by the input's dtype to cover that dtype's rounding, so a point constructed on the boundary
and rounded to the input's dtype still counts as inside:

==================================  ===========  ====================================
input dtype                         default tol  a point counts as outside from
==================================  ===========  ====================================
float64, integers, booleans         1e-9         1e-9 beyond the boundary
float32                             1e-5         1e-5 beyond
float16                             2e-3         2e-3 beyond (its rounding is 4.9e-4)
bfloat16                            1e-2         1e-2 beyond (its rounding is 3.9e-3)
other floats (float8, long double)  2 x epsilon  that far beyond (at least 1e-9)
==================================  ===========  ====================================

So a float16 or bfloat16 point 1e-4 beyond the boundary counts as inside by default: at
their resolution that is rounding. Pass ``tol`` to judge finer: it applies to the exact
values of the input whatever its dtype (``tol=0`` judges them as they are).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_radii, check_real
from .arrays import as_rows, check_finite, is_torch
from .radii import _split_ratio

__all__ = ["hull_gauge", "in_hull", "in_union"]

ArrayLike = Any  # numpy.ndarray, torch.Tensor or nested lists of real numbers, shape (n, d) or (d,)


def _check_tol(tol: float | None, default: float) -> float:
    """The membership tolerance: ``tol`` if given (finite, >= 0), else the input dtype's default."""
    return default if tol is None else check_real(tol, "tol", 0.0)


def _power_of_two_scale(rows: Any) -> Any:
    """Per row, the power of two at or below its largest magnitude: (n, d) -> (n, 1).

    Dividing by it is exact and brings every entry into (-2, 2), so sums of d entries cannot
    overflow (2**1023, the largest power of two, is a float64; a zero row gets 1/2).
    """
    if is_torch(rows):
        import torch

        _, exponent = torch.frexp(rows.abs().amax(dim=-1, keepdim=True))
        return torch.ldexp(torch.ones_like(rows[:, :1]), exponent - 1)
    _, exponent = np.frexp(np.abs(rows).max(axis=-1, keepdims=True))
    return np.ldexp(1.0, exponent - 1)


def hull_gauge(x: ArrayLike, eps1: float, eps_inf: float) -> ArrayLike:
    """Gauge (Minkowski functional) of the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray, torch.Tensor or nested lists, shape (n, d) or (d,)
        Points, one per row; any real dtype (integers, booleans, float16, bfloat16, Python
        integers beyond int64), computed in float64 (float32 on MPS, which has no float64).
    eps1, eps_inf : float
        Radii, with ``eps_inf < eps1 < d * eps_inf``.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (n,) or ()
        :math:`\\gamma_C(x) = \\min\\{t \\ge 0 : x \\in tC\\}`, same kind (and device) as ``x``, float64.

    Raises
    ------
    TypeError
        Complex, non-numeric, masked or sparse ``x``.
    ValueError
        Wrong shape, a meta tensor, NaN or infinite entries, or degenerate radii.

    Examples
    --------
    >>> float(hull_gauge(np.array([12.0, 0, 0, 0]), 12, 4))   # a vertex of B_1
    1.0
    >>> float(hull_gauge(np.array([4.0, 4, 4, 0]), 12, 4))    # on the face between them
    1.0
    """
    rows, single, _ = as_rows(x)
    value = _gauge_of_rows(rows, eps1, eps_inf)
    return value[0] if single else value


def _gauge_of_rows(rows: Any, eps1: float, eps_inf: float) -> Any:
    """:func:`hull_gauge` of float64 rows (n, d) -> (n,), computed on rows scaled by a power of two."""
    eps1, eps_inf, d = check_radii(eps1, eps_inf, rows.shape[-1])
    check_finite(rows)
    k, alpha = _split_ratio(eps1, eps_inf)
    if k >= d:  # eps1/eps_inf within rounding below d, counted as d: the same knapsack with k = d - 1, alpha = 1
        k, alpha = d - 1, 1.0
    scale = _power_of_two_scale(rows)
    if is_torch(rows):
        import torch

        top = torch.topk((rows / scale).abs(), k + 1, dim=-1, sorted=True).values
        return (top[..., :k].sum(dim=-1) + alpha * top[..., k]) / eps1 * scale[:, 0]
    mags = np.abs(rows / scale)
    # the k+1 largest magnitudes, unsorted except that index k holds the (k+1)-th largest
    part = np.partition(mags, d - k - 1, axis=-1)[..., d - k - 1 :]
    with np.errstate(over="ignore"):  # a gauge beyond the float range is inf, as it should be
        return (part[..., 1:].sum(axis=-1) + alpha * part[..., 0]) / eps1 * scale[:, 0]


def in_hull(x: ArrayLike, eps1: float, eps_inf: float, tol: float | None = None) -> ArrayLike:
    """Whether each row of ``x`` lies in the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
    eps1, eps_inf : float
    tol : float, optional
        Inside means ``hull_gauge(x) <= 1 + tol``; finite and >= 0, applied to the exact
        values of ``x``. Default by the input's dtype (module docstring): 1e-9 for float64,
        integers and booleans, 1e-5 for float32, 2e-3 for float16, 1e-2 for bfloat16.

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()

    Raises
    ------
    TypeError
        Complex, non-numeric, masked or sparse ``x``, or a non-numeric ``tol``.
    ValueError
        Wrong shape, a meta tensor, NaN or infinite entries, ``tol`` negative or not finite,
        or degenerate radii.
    """
    rows, single, default = as_rows(x)
    tol = _check_tol(tol, default)
    inside = _gauge_of_rows(rows, eps1, eps_inf) <= 1 + tol
    return inside[0] if single else inside


def in_union(x: ArrayLike, eps1: float, eps_inf: float, tol: float | None = None) -> ArrayLike:
    """Whether each row of ``x`` lies in :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
    eps1, eps_inf : float
    tol : float, optional
        Inside means ``||x||_1 <= eps1 (1 + tol)`` or ``||x||_inf <= eps_inf (1 + tol)``;
        finite and >= 0, applied to the exact values of ``x``. Default by the input's dtype,
        as for :func:`in_hull`: 1e-9 for float64, integers and booleans, 1e-5 for float32,
        2e-3 for float16, 1e-2 for bfloat16.

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()

    Raises
    ------
    TypeError
        Complex, non-numeric, masked or sparse ``x``, or a non-numeric ``tol``.
    ValueError
        Wrong shape, a meta tensor, NaN or infinite entries, ``tol`` negative or not finite,
        or degenerate radii.
    """
    rows, single, default = as_rows(x)
    eps1, eps_inf, _ = check_radii(eps1, eps_inf, rows.shape[-1])
    check_finite(rows)
    tol = _check_tol(tol, default)
    scale = _power_of_two_scale(rows)
    mags = abs(rows / scale)  # exact; compared with the radii divided by the same power of two
    l1 = mags.sum(-1)
    linf = mags.amax(-1) if is_torch(rows) else mags.max(-1)
    inside = (l1 <= eps1 * (1 + tol) / scale[:, 0]) | (linf <= eps_inf * (1 + tol) / scale[:, 0])
    return inside[0] if single else inside
