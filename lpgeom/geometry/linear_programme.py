"""The gauge of the hull as a linear programme, and a search for its worst direction.

An independent route to Theorem 3.1 that uses neither the closed form nor the knapsack
formula of :func:`~lpgeom.geometry.hull_gauge`. By definition of the convex hull of two
balls centred at 0, a point is in :math:`t\\,C` iff it splits as :math:`x = a + b` with
:math:`\\|a\\|_1 \\le s\\,\\epsilon_1`, :math:`\\|b\\|_\\infty \\le (t - s)\\,\\epsilon_\\infty`, so

.. math:: \\gamma_C(x) = \\min_{a + b = x} \\|a\\|_1/\\epsilon_1 + \\|b\\|_\\infty/\\epsilon_\\infty ,

a linear programme in :math:`a = a^+ - a^-` and :math:`t \\ge |x_i - a_i|` (``3d + 1``
variables, ``2d`` sparse rows), solved by HiGHS through :func:`scipy.optimize.linprog`.
Its dual variables are a subgradient :math:`u` of the gauge at ``x``.

The largest l_p ball inside C has radius :math:`\\min_{x \\ne 0} \\|x\\|_p / \\gamma_C(x)`.
:func:`search_hull_radius` estimates it from random points and from the ascent
:math:`x \\leftarrow \\arg\\max_{\\|y\\|_p = 1} \\langle u, y\\rangle` (the gauge is convex, so each step
raises it). A search gives an upper bound on the radius (every point it finds lies on the
boundary), not a proof: that is the theorem's job; the search can only disagree with it.

Measured on 2 shared CPU cores: one LP takes about 0.03 s at d = 3072 and about 3 s at
d = 150528 (ImageNet).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import linprog

from ._validation import check_radii
from .arrays import as_rows, check_finite, is_torch

__all__ = ["GaugeLP", "hull_gauge_lp", "HullSearch", "search_hull_radius", "lp_norm", "norming_point"]


@dataclass(frozen=True)
class GaugeLP:
    """Solution of the gauge LP at one point.

    Attributes
    ----------
    value : float
        :math:`\\gamma_C(x)`.
    subgradient : numpy.ndarray, shape (d,)
        A subgradient of the gauge at ``x`` (the LP's dual variables); it lies in the polar
        :math:`C^\\circ` and :math:`\\langle u, x\\rangle = \\gamma_C(x)`.
    """

    value: float
    subgradient: np.ndarray


def lp_norm(x: np.ndarray, p: float) -> float:
    """:math:`\\|x\\|_p` of a vector, scaled by its largest entry (no overflow or underflow)."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    m = float(a.max()) if a.size else 0.0
    if math.isinf(p) or m == 0.0:
        return m
    return float(m * np.sum((a / m) ** p) ** (1 / p))


def norming_point(u: np.ndarray, p: float) -> np.ndarray:
    """A point ``y`` with :math:`\\|y\\|_p = 1` maximising :math:`\\langle u, y\\rangle` (Hölder's equality case)."""
    u = np.asarray(u, dtype=np.float64)
    mags = np.abs(u)
    if p == 1:
        y = np.zeros_like(u)
        j = int(np.argmax(mags))
        y[j] = np.sign(u[j]) or 1.0
        return y
    if math.isinf(p):
        return np.sign(u)
    q = p / (p - 1)
    scaled = mags / mags.max()
    y = np.sign(u) * np.exp((q - 1) * np.log(np.where(scaled > 0, scaled, 1.0))) * (scaled > 0)
    return y / lp_norm(y, p)


def hull_gauge_lp(x: np.ndarray, eps1: float, eps_inf: float) -> GaugeLP:
    """:math:`\\gamma_C(x)` for one point by the linear programme above (HiGHS, sparse rows).

    The programme is solved for :math:`z = x / s` with :math:`s` the power of two at or just
    below :math:`\\max_i |x_i|` and the radii :math:`(\\epsilon_1/\\epsilon_\\infty, 1)`, then
    scaled back (the gauge is positively homogeneous in ``x`` and in the radii): HiGHS sees
    numbers of order one whatever the scale of ``x`` and of the radii.

    Parameters
    ----------
    x : numpy.ndarray, torch.Tensor or list, shape (d,)
        The point; any real dtype, computed in float64 (as :func:`~lpgeom.geometry.hull_gauge`).
    eps1, eps_inf : float
        Radii of the l_1 and l_inf balls.

    Returns
    -------
    GaugeLP

    Raises
    ------
    TypeError
        Complex, non-numeric, masked or sparse ``x``.
    ValueError
        ``x`` not a finite vector, a meta tensor, or bad radii.
    RuntimeError
        If HiGHS does not report an optimal solution (the message gives its status).
    """
    rows, single, _ = as_rows(x)
    if not single:
        raise ValueError(f"x must be one point of shape (d,), got shape {tuple(rows.shape)}")
    check_finite(rows)
    vector = rows[0].cpu().numpy() if is_torch(rows) else rows[0]
    eps1, eps_inf, d = check_radii(eps1, eps_inf, vector.size)
    _, exponent = np.frexp(np.abs(vector).max())
    scale = math.ldexp(1.0, int(exponent) - 1)  # entries of x / scale in (-2, 2); 2**1023 is a float
    value, subgradient = _gauge_lp_normalised(vector / scale, eps1 / eps_inf)
    return GaugeLP(value=value * scale / eps_inf, subgradient=subgradient / eps_inf)


def _gauge_lp_normalised(z: np.ndarray, ratio: float) -> tuple[float, np.ndarray]:
    """The gauge LP at ``z`` (entries in (-2, 2)) for the radii ``(ratio, 1)``: value and subgradient."""
    d = z.size
    # variables: a+ (d), a- (d), t; rows:  a+ - a- - t <= z  and  -a+ + a- - t <= -z
    cost = np.concatenate([np.full(2 * d, 1.0 / ratio), [1.0]])
    eye = sparse.identity(d, format="csr")
    minus_t = sparse.csr_matrix(-np.ones((d, 1)))
    rows = sparse.vstack([sparse.hstack([eye, -eye, minus_t]), sparse.hstack([-eye, eye, minus_t])], format="csr")
    result = linprog(cost, A_ub=rows, b_ub=np.concatenate([z, -z]), bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"HiGHS did not solve the gauge LP (d={d}): {result.message}")
    marginals = result.ineqlin.marginals  # d(objective)/d(right-hand side), <= 0
    return float(result.fun), marginals[:d] - marginals[d:]


@dataclass(frozen=True)
class HullSearch:
    """Result of :func:`search_hull_radius`.

    Attributes
    ----------
    radius : float
        :math:`\\min \\|x\\|_p / \\gamma_C(x)` over every point evaluated.
    boundary_point : numpy.ndarray, shape (d,)
        The point attaining it, scaled onto the boundary of C (gauge 1).
    random_radius : float
        The same minimum over the random starting points only.
    n_lp : int
        Number of linear programmes solved.
    """

    radius: float
    boundary_point: np.ndarray
    random_radius: float
    n_lp: int


def search_hull_radius(
    eps1: float, eps_inf: float, p: float, d: int, *, n_starts: int = 2, max_steps: int = 4, seed: int = 0
) -> HullSearch:
    """Estimate the inscribed l_p radius of the hull by random points and gauge ascent (LPs only).

    Parameters
    ----------
    eps1, eps_inf : float
        Radii (already validated, non-degenerate).
    p : float
        The norm, ``1 <= p <= inf``.
    d : int
        Dimension.
    n_starts : int
        Random starting points (standard Gaussian directions).
    max_steps : int
        Ascent steps per start at most; a start stops when its gauge no longer rises.
    seed : int
        Seed of the starting points.

    Returns
    -------
    HullSearch
    """
    rng = np.random.default_rng(seed)
    best_ratio, best_point, random_ratio, n_lp = math.inf, None, math.inf, 0
    for _ in range(n_starts):
        y = rng.standard_normal(d)
        y /= lp_norm(y, p)
        previous = -math.inf
        for step in range(max_steps + 1):
            solved = hull_gauge_lp(y, eps1, eps_inf)
            n_lp += 1
            ratio = 1.0 / solved.value  # ||y||_p = 1
            if step == 0:
                random_ratio = min(random_ratio, ratio)
            if ratio < best_ratio:
                best_ratio, best_point = ratio, y / solved.value
            if solved.value <= previous * (1 + 1e-12):
                break
            previous = solved.value
            y = norming_point(solved.subgradient, p)
    return HullSearch(radius=best_ratio, boundary_point=best_point, random_radius=random_ratio, n_lp=n_lp)
