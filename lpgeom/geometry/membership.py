"""Exact membership in the union and the convex hull, and the gauge of the hull.

The polar of :math:`C = \\mathrm{conv}(B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty))` is
:math:`C^\\circ = \\{u : \\|u\\|_\\infty \\le 1/\\epsilon_1,\\ \\|u\\|_1 \\le 1/\\epsilon_\\infty\\}`, so the
gauge :math:`\\gamma_C(x) = \\max_{u \\in C^\\circ} \\langle u, x\\rangle` is a fractional knapsack:
with :math:`k = \\lfloor \\epsilon_1/\\epsilon_\\infty \\rfloor`, :math:`\\alpha = \\epsilon_1/\\epsilon_\\infty - k`
and :math:`|x|_{(1)} \\ge |x|_{(2)} \\ge \\dots` the sorted magnitudes,

.. math:: \\gamma_C(x) = \\frac{1}{\\epsilon_1}\\Big(\\sum_{i \\le k} |x|_{(i)} + \\alpha\\, |x|_{(k+1)}\\Big).

:math:`x \\in C` iff :math:`\\gamma_C(x) \\le 1`. Everything is batched over rows, exact in any
dimension (one partial sort per row), and accepts numpy arrays or torch tensors.

Tolerance policy: a point is inside when its gauge (or normalised norm) is at most
``1 + tol``; ``tol`` defaults to 1e-9 for float64 input and 1e-5 otherwise, so points
constructed on the boundary count as inside and points 1e-4 beyond it as outside.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_radii
from .radii import _split_ratio

__all__ = ["hull_gauge", "in_hull", "in_union"]

ArrayLike = Any  # numpy.ndarray or torch.Tensor of shape (n, d) or (d,)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _as_rows(x: ArrayLike) -> tuple[Any, bool]:
    """Return x as 2D (n, d) plus whether the input was a single point."""
    if _is_torch(x):
        single = x.ndim == 1
        if x.ndim not in (1, 2):
            raise ValueError(f"x must have shape (d,) or (n, d), got {tuple(x.shape)}")
        return (x.unsqueeze(0) if single else x), single
    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (d,) or (n, d), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"x must be numeric, got dtype {x.dtype}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    single = x.ndim == 1
    return (x[None, :] if single else x), single


def _default_tol(x: Any) -> float:
    dtype = str(x.dtype)
    return 1e-9 if "float64" in dtype else 1e-5


def _check_finite(x: Any) -> None:
    finite = x.isfinite().all() if _is_torch(x) else np.isfinite(x).all()
    if not bool(finite):
        raise ValueError("x contains NaN or infinite values")


def hull_gauge(x: ArrayLike, eps1: float, eps_inf: float) -> ArrayLike:
    """Gauge (Minkowski functional) of the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
        Points, one per row.
    eps1, eps_inf : float
        Radii, with ``eps_inf < eps1 < d * eps_inf``.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (n,) or ()
        :math:`\\gamma_C(x) = \\min\\{t \\ge 0 : x \\in tC\\}`, same kind (and device) as ``x``.

    Examples
    --------
    >>> float(hull_gauge(np.array([12.0, 0, 0, 0]), 12, 4))   # a vertex of B_1
    1.0
    >>> float(hull_gauge(np.array([4.0, 4, 4, 0]), 12, 4))    # on the face between them
    1.0
    """
    rows, single = _as_rows(x)
    eps1, eps_inf, d = check_radii(eps1, eps_inf, rows.shape[-1])
    _check_finite(rows)
    k, alpha = _split_ratio(eps1, eps_inf)  # k + 1 <= d in the non-degenerate regime
    if _is_torch(rows):
        import torch

        mags = rows.abs()
        top = torch.topk(mags, k + 1, dim=-1, sorted=True).values
        value = (top[..., :k].sum(dim=-1) + alpha * top[..., k]) / eps1
    else:
        mags = np.abs(rows)
        # the k+1 largest magnitudes, unsorted except that index k holds the (k+1)-th largest
        part = np.partition(mags, d - k - 1, axis=-1)[..., d - k - 1 :]
        kth = part[..., 0]
        value = (part[..., 1:].sum(axis=-1) + alpha * kth) / eps1
    return value[0] if single else value


def in_hull(x: ArrayLike, eps1: float, eps_inf: float, tol: float | None = None) -> ArrayLike:
    """Whether each row of ``x`` lies in the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
    eps1, eps_inf : float
    tol : float, optional
        Inside means ``hull_gauge(x) <= 1 + tol`` (default: 1e-9 for float64, else 1e-5).

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()
    """
    rows, _ = _as_rows(x)
    tol = _default_tol(rows) if tol is None else float(tol)
    return hull_gauge(x, eps1, eps_inf) <= 1 + tol


def in_union(x: ArrayLike, eps1: float, eps_inf: float, tol: float | None = None) -> ArrayLike:
    """Whether each row of ``x`` lies in :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
    eps1, eps_inf : float
    tol : float, optional
        Relative tolerance on each norm (default: 1e-9 for float64, else 1e-5).

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()
    """
    rows, single = _as_rows(x)
    eps1, eps_inf, _ = check_radii(eps1, eps_inf, rows.shape[-1])
    _check_finite(rows)
    tol = _default_tol(rows) if tol is None else float(tol)
    mags = rows.abs() if _is_torch(rows) else np.abs(rows)
    l1 = mags.sum(-1)
    linf = mags.amax(-1) if _is_torch(rows) else mags.max(-1)
    inside = (l1 <= eps1 * (1 + tol)) | (linf <= eps_inf * (1 + tol))
    return inside[0] if single else inside
