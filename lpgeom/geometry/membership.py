"""Exact membership in the union and the convex hull, and the gauge of the hull.

The polar of :math:`C = \\mathrm{conv}(B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty))` is
:math:`C^\\circ = \\{u : \\|u\\|_\\infty \\le 1/\\epsilon_1,\\ \\|u\\|_1 \\le 1/\\epsilon_\\infty\\}`, so the
gauge :math:`\\gamma_C(x) = \\max_{u \\in C^\\circ} \\langle u, x\\rangle` is a fractional knapsack:
with :math:`k = \\lfloor \\epsilon_1/\\epsilon_\\infty \\rfloor`, :math:`\\alpha = \\epsilon_1/\\epsilon_\\infty - k`
and :math:`|x|_{(1)} \\ge |x|_{(2)} \\ge \\dots` the sorted magnitudes,

.. math:: \\gamma_C(x) = \\frac{1}{\\epsilon_1}\\Big(\\sum_{i \\le k} |x|_{(i)} + \\alpha\\, |x|_{(k+1)}\\Big).

:math:`x \\in C` iff :math:`\\gamma_C(x) \\le 1`. Everything is batched over rows, exact in any
dimension (one partial sort per row), and accepts numpy arrays or torch tensors.

Every input (integers, booleans, float16, ...) is computed in float64 (float32 on MPS).
Tolerance policy: a point is inside when its gauge (or normalised norm) is at most
``1 + tol``; ``tol`` defaults by the input's dtype (1e-9 for float64 and integers, 1e-5 for
float32, 2e-3 for float16, 1e-2 for bfloat16), so points
constructed on the boundary count as inside and points 1e-4 beyond it as outside.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_radii
from .radii import _split_ratio

__all__ = ["hull_gauge", "in_hull", "in_union"]

ArrayLike = Any  # numpy.ndarray or torch.Tensor of shape (n, d) or (d,)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


# default tolerance by the input's dtype: a boundary point rounded to that dtype still counts as inside
_DEFAULT_TOL = {"float64": 1e-9, "float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}


def _default_tol(dtype: Any) -> float:
    name = str(dtype).removeprefix("torch.")
    return _DEFAULT_TOL.get(name, 1e-9)  # integers and booleans are exact


def _as_rows(x: ArrayLike) -> tuple[Any, bool, float]:
    """Return x as float64 rows of shape (n, d), whether it was a single point, and its default tolerance.

    Integer, boolean and low-precision float input is converted to float64 first: ``abs`` of
    int8 -128 overflows and a float16 sum of large entries overflows, so computing in the
    input's dtype gives wrong membership. Complex and non-numeric input is refused.
    """
    if _is_torch(x):
        import torch

        if x.is_complex():
            raise TypeError(f"x must be real, got a complex tensor of dtype {x.dtype}; pass x.real or x.abs()")
        if x.ndim not in (1, 2):
            raise ValueError(f"x must have shape (d,) or (n, d), got {tuple(x.shape)}")
        tol = _default_tol(x.dtype)
        x = x.to(torch.float32 if x.device.type == "mps" else torch.float64)  # MPS has no float64
        single = x.ndim == 1
        return (x.unsqueeze(0) if single else x), single, tol
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be an array of real numbers, got {type(x).__name__} ({error})") from None
    if np.iscomplexobj(x):
        raise TypeError(f"x must be real, got complex dtype {x.dtype}; pass x.real or np.abs(x)")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise TypeError(f"x must be an array of real numbers, got dtype {x.dtype}")
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (d,) or (n, d), got {x.shape}")
    tol = _default_tol(x.dtype)
    x = x.astype(np.float64, copy=False)
    single = x.ndim == 1
    return (x[None, :] if single else x), single, tol


def _check_tol(tol: float | None, default: float) -> float:
    """The membership tolerance: ``tol`` if given (finite, >= 0), else the input dtype's default."""
    if tol is None:
        return default
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise TypeError(f"tol must be a real number >= 0 or None, got {tol!r}")
    tol = float(tol)
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0 or None, got tol={tol}")
    return tol


def _check_finite(x: Any) -> None:
    finite = x.isfinite().all() if _is_torch(x) else np.isfinite(x).all()
    if not bool(finite):
        raise ValueError("x contains NaN or infinite values")


def hull_gauge(x: ArrayLike, eps1: float, eps_inf: float) -> ArrayLike:
    """Gauge (Minkowski functional) of the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
        Points, one per row; any real dtype (integers and float16 included), computed in
        float64 (float32 on MPS, which has no float64).
    eps1, eps_inf : float
        Radii, with ``eps_inf < eps1 < d * eps_inf``.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (n,) or ()
        :math:`\\gamma_C(x) = \\min\\{t \\ge 0 : x \\in tC\\}`, same kind (and device) as ``x``, float64.

    Raises
    ------
    TypeError
        Complex or non-numeric ``x``.
    ValueError
        Wrong shape, NaN or infinite entries, or degenerate radii.

    Examples
    --------
    >>> float(hull_gauge(np.array([12.0, 0, 0, 0]), 12, 4))   # a vertex of B_1
    1.0
    >>> float(hull_gauge(np.array([4.0, 4, 4, 0]), 12, 4))    # on the face between them
    1.0
    """
    rows, single, _ = _as_rows(x)
    value = _gauge_of_rows(rows, eps1, eps_inf)
    return value[0] if single else value


def _gauge_of_rows(rows: Any, eps1: float, eps_inf: float) -> Any:
    """:func:`hull_gauge` of float64 rows (n, d) -> (n,)."""
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
    return value


def in_hull(x: ArrayLike, eps1: float, eps_inf: float, tol: float | None = None) -> ArrayLike:
    """Whether each row of ``x`` lies in the convex hull of :math:`B_1(\\epsilon_1) \\cup B_\\infty(\\epsilon_\\infty)`.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape (n, d) or (d,)
    eps1, eps_inf : float
    tol : float, optional
        Inside means ``hull_gauge(x) <= 1 + tol``; finite and >= 0 (default by the input's
        dtype: 1e-9 for float64 and integers, 1e-5 for float32, 2e-3 for float16).

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()

    Raises
    ------
    TypeError
        Complex or non-numeric ``x``, or a non-numeric ``tol``.
    ValueError
        Wrong shape, NaN or infinite entries, ``tol`` negative or not finite, or degenerate radii.
    """
    rows, single, default = _as_rows(x)
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
        Relative tolerance on each norm; finite and >= 0 (default by the input's dtype, as
        for :func:`in_hull`).

    Returns
    -------
    numpy.ndarray or torch.Tensor of bool, shape (n,) or ()

    Raises
    ------
    TypeError
        Complex or non-numeric ``x``, or a non-numeric ``tol``.
    ValueError
        Wrong shape, NaN or infinite entries, ``tol`` negative or not finite, or degenerate radii.
    """
    rows, single, default = _as_rows(x)
    eps1, eps_inf, _ = check_radii(eps1, eps_inf, rows.shape[-1])
    _check_finite(rows)
    tol = _check_tol(tol, default)
    mags = rows.abs() if _is_torch(rows) else np.abs(rows)
    l1 = mags.sum(-1)
    linf = mags.amax(-1) if _is_torch(rows) else mags.max(-1)
    inside = (l1 <= eps1 * (1 + tol)) | (linf <= eps_inf * (1 + tol))
    return inside[0] if single else inside
