"""Numerical verification of Proposition 3.1 and Theorem 3.1 without their closed forms.

Hull (Theorem 3.1). The gauge of the hull is evaluated as a linear programme (HiGHS, see
:mod:`lpgeom.geometry.linear_programme`): at the closed form's worst point (its gauge must be
1: the radius is at most the closed form) and at random and adversarially searched points
(random Gaussian starts, then gauge ascent: none may have a larger gauge, so the radius is
at least what the search finds). Neither the closed form nor the knapsack formula of
:func:`~lpgeom.geometry.hull_gauge` enters the LP. For ``d <= 8`` a third value builds the
hull with qhull and measures the l_p distance to every facet.

Union (Proposition 3.1). Outside the union (closure) means :math:`\\|x\\|_\\infty \\ge \\epsilon_\\infty`
and :math:`\\|x\\|_1 \\ge \\epsilon_1`. All three norms ignore signs and the order of coordinates,
so the smallest l_p norm there is that of the convex programme
:math:`\\min \\|x\\|_p` subject to :math:`x \\ge 0,\\ x_1 \\ge \\epsilon_\\infty,\\ \\sum_i x_i \\ge \\epsilon_1`.
For p = 1 and p = inf it is a linear programme whose certificates are explicit (a lower
bound from the constraints, a feasible point attaining it); otherwise its Lagrangian
relaxation is solved coordinate by coordinate over the full d-vector, with the multiplier
found by bisection: weak duality gives a lower bound, the primal point an upper bound, and
the report keeps both (a certified bracket).

Witnesses: for each set, a point on its boundary at the numerical radius and the same
point scaled by ``1 + delta`` (outside), both checked with the exact membership tests.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ._validation import check_integer, check_radii, check_real, parse_p
from .linear_programme import hull_gauge_lp, lp_norm, norming_point, search_hull_radius
from .membership import hull_gauge, in_hull, in_union
from .radii import _split_ratio, hull_radius, union_radius

__all__ = [
    "RadiusReport", "verify_radius", "hull_radius_numeric", "union_radius_numeric", "union_radius_bracket",
    "hull_radius_qhull", "hull_worst_point", "MAX_VERIFY_DIMENSION",
]

QHULL_MAX_DIMENSION = 8
MAX_VERIFY_DIMENSION = 2_000_000
"""Largest d :func:`verify_radius` accepts: its LPs have 3d + 1 variables (about 3 s at
d = 150528 here; memory and time grow linearly)."""
MAX_POINT_DIMENSION = 2**28
"""Largest d :func:`hull_worst_point` accepts: the point takes 8 d bytes (2 GiB at 2**28)."""


def _check_verify_dimension(d: int) -> None:
    if d > MAX_VERIFY_DIMENSION:
        raise ValueError(
            f"d={d} is too large for the numerical check: it solves linear programmes with 3d + 1 variables "
            f"(about {d * 3 * 8 * 12 / 2**30:.3g} GiB of sparse rows and hours of solver time); use "
            f"d <= {MAX_VERIFY_DIMENSION:,} (hull_radius and union_radius themselves work at any d)"
        )


def _check_search(n_starts: object, seed: object) -> tuple[int, int]:
    """The LP search's settings: ``n_starts`` an integer >= 1, ``seed`` an integer >= 0 (numpy's seeds)."""
    return check_integer(n_starts, "n_starts", 1), check_integer(seed, "seed", 0)


def hull_radius_numeric(
    eps1: float, eps_inf: float, p: float | str, d: int, *, n_starts: int = 2, seed: int = 0
) -> tuple[float, np.ndarray]:
    """Inscribed l_p radius of the hull by LP gauges at random and searched points (no closed form used).

    Returns
    -------
    radius : float
        :math:`\\min \\|x\\|_p / \\gamma_C(x)` over the points evaluated: an upper bound on the
        true radius that the search drives down to it.
    x : numpy.ndarray, shape (d,)
        The point attaining it, on the boundary of the hull.

    Raises
    ------
    ValueError
        Bad radii, ``p`` or ``d`` (also ``d`` above :data:`MAX_VERIFY_DIMENSION`).
    TypeError
        ``n_starts`` or ``seed`` not an integer (they must be >= 1 and >= 0).
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    n_starts, seed = _check_search(n_starts, seed)
    _check_verify_dimension(d)
    found = search_hull_radius(eps1, eps_inf, p, d, n_starts=n_starts, seed=seed)
    return found.radius, found.boundary_point


def hull_worst_point(eps1: float, eps_inf: float, p: float | str, d: int) -> np.ndarray:
    """The point of the hull's boundary nearest to 0 in l_p, as the proof of Theorem 3.1 builds it.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``r`` times the unit l_p vector norming :math:`u = (1, \\dots, 1, \\alpha, 0, \\dots)`
        (``k`` ones), with ``r`` = :func:`hull_radius`.

    Raises
    ------
    ValueError
        Bad radii, ``p`` or ``d``; ``d`` above :data:`MAX_POINT_DIMENSION` (2**28, 2 GiB:
        refused before allocating).
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    if d > MAX_POINT_DIMENSION:
        raise ValueError(f"d={d} is too large for an explicit point ({d * 8 / 2**30:.3g} GiB of float64); use "
                         f"d <= 2**28 (hull_radius gives the radius at any d)")
    k, alpha = _split_ratio(eps1, eps_inf)
    u = np.zeros(d)
    u[:k] = 1.0
    if k < d:
        u[k] = alpha
    return hull_radius(eps1, eps_inf, p, d) * norming_point(u, p)


def hull_radius_qhull(eps1: float, eps_inf: float, p: float | str, d: int) -> float:
    """Inscribed l_p radius of the hull built explicitly with qhull (small ``d`` only).

    The l_p distance from the origin to the facet ``{x : n.x = b}`` is ``b / ||n||_q``.

    Raises
    ------
    ValueError
        ``d > 8`` (2^d vertices), or radii so close to degenerate that qhull cannot build the
        hull even with exact-merge options (the message says so).
    """
    from scipy.spatial import ConvexHull, QhullError

    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    if d > QHULL_MAX_DIMENSION:
        raise ValueError(f"the qhull check builds 2^d vertices; use d <= {QHULL_MAX_DIMENSION}, got d={d}")
    p = parse_p(p)
    q = math.inf if p == 1 else (1.0 if math.isinf(p) else p / (p - 1))
    cube = eps_inf * np.array(np.meshgrid(*[[-1.0, 1.0]] * d)).reshape(d, -1).T
    cross = eps1 * np.vstack([np.eye(d), -np.eye(d)])
    points = np.vstack([cube, cross])
    for options in (None, "C-0", "C-0 Qx"):  # default, then merge coplanar facets exactly
        try:
            hull = ConvexHull(points, qhull_options=options)
            break
        except QhullError:
            continue
    else:
        raise ValueError(
            f"qhull cannot build the hull for eps1={eps1!r}, eps_inf={eps_inf!r}, d={d}: the radii are within "
            f"rounding of the degenerate case (eps1/eps_inf={eps1 / eps_inf!r}); the LP check does not need qhull"
        )
    normals, offsets = hull.equations[:, :-1], -hull.equations[:, -1]  # n.x <= b inside
    qnorms = np.array([lp_norm(n, q) for n in normals])  # scaled by the largest entry: q ~ 1e15 (p -> 1) must not underflow
    return float(np.min(offsets / qnorms))


def union_radius_bracket(eps1: float, eps_inf: float, p: float | str, d: int) -> tuple[float, float, np.ndarray]:
    """Lower and upper bounds on the union's inscribed l_p radius from the convex programme (no closed form).

    Returns
    -------
    lower : float
        Weak-duality lower bound (for p = 1 and p = inf: the bound the constraints give).
    upper : float
        l_p norm of the primal point below.
    x : numpy.ndarray, shape (d,)
        A feasible point of the programme: on the boundary of the union.
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    _check_verify_dimension(d)
    p = parse_p(p)
    lower_bounds = np.zeros(d)
    lower_bounds[0] = eps_inf
    if p == 1 or math.isinf(p):
        return _union_linear(eps1, lower_bounds, p)
    # scale so that eps1 = 1 (the programme is homogeneous), then bisect on the multiplier's
    # level c = (lambda / p)^(1/(p-1)) in log space: x_i(c) = max(l_i, c) minimises the Lagrangian
    low = lower_bounds / eps1
    lo, hi = -800.0, 0.0  # log c: the total sum(max(l_i, c)) is 1 somewhere in [e^-800, 1]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(low, math.exp(mid)).sum() >= 1.0:
            hi = mid
        else:
            lo = mid
    x = np.maximum(low, math.exp(hi))  # feasible: sum >= 1
    lam = p * math.exp((p - 1) * hi)
    dual = float(np.sum(x**p) - lam * (x.sum() - 1.0))  # the Lagrangian at its minimiser x(lambda)
    upper = lp_norm(x, p)
    lower = max(dual, 0.0) ** (1 / p)
    return eps1 * min(lower, upper), eps1 * upper, eps1 * x


def _union_linear(eps1: float, lower_bounds: np.ndarray, p: float) -> tuple[float, float, np.ndarray]:
    """p = 1 or inf: the programme is linear and both certificates are explicit.

    Lower bounds from the constraints alone: :math:`\\|x\\|_1 \\ge \\max(\\epsilon_1, \\sum_i l_i)` and
    :math:`\\|x\\|_\\infty \\ge \\max(\\max_i l_i, \\epsilon_1/d)` (the largest entry is at least the mean).
    Upper bounds: feasible points that attain them.
    """
    d = lower_bounds.size
    if p == 1:
        lower = max(eps1, float(lower_bounds.sum()))
        x = lower_bounds.copy()
        x[int(np.argmax(lower_bounds))] += max(eps1 - float(lower_bounds.sum()), 0.0)
    else:
        lower = max(float(lower_bounds.max()), eps1 / d)
        x = np.full(d, lower)  # every entry at the bound: sum d * lower >= eps1
    return lower, lp_norm(x, p), x


def union_radius_numeric(eps1: float, eps_inf: float, p: float | str, d: int) -> tuple[float, np.ndarray]:
    """Inscribed l_p radius of the union from the convex programme (no closed form used).

    Returns
    -------
    radius : float
        The upper end of :func:`union_radius_bracket` (the two ends agree to about 1e-12).
    x : numpy.ndarray, shape (d,)
        The minimiser, on the boundary of the union.
    """
    _, upper, x = union_radius_bracket(eps1, eps_inf, p, d)
    return upper, x


@dataclass
class RadiusReport:
    """Closed forms of Proposition 3.1 / Theorem 3.1 next to independent numerical checks.

    Attributes
    ----------
    eps1, eps_inf, p, d :
        The setting.
    union_closed, hull_closed : float
        The closed forms (:func:`union_radius`, :func:`hull_radius`).
    union_numeric, union_lower : float
        The union's radius from the convex programme: a feasible point's norm and the
        weak-duality lower bound (a certified bracket).
    hull_numeric : float
        Smallest :math:`\\|x\\|_p / \\gamma_C(x)` found with LP gauges (random starts + ascent).
    hull_random : float
        The same over the random starting points only (before any ascent).
    hull_worst_gauge : float
        LP gauge of the closed form's worst point (:func:`hull_worst_point`); 1 if it is on
        the boundary.
    hull_qhull : float or None
        Third value from the facets of the hull built with qhull (``d <= 8`` only; None
        above, or when qhull cannot build a nearly degenerate hull).
    n_lp : int
        Linear programmes solved.
    seconds : float
        Wall time of the check.
    delta : float
        The "beyond" witnesses are the boundary ones scaled by ``1 + delta``.
    union_boundary, union_beyond, hull_boundary, hull_beyond : numpy.ndarray, shape (d,)
        Witnesses: a point on the boundary of each set at its numerical radius, and the
        same point scaled by ``1 + delta`` (outside the set).
    checks : dict[str, bool]
        What was verified with the exact membership tests.
    """

    eps1: float
    eps_inf: float
    p: float
    d: int
    union_closed: float
    union_numeric: float
    union_lower: float
    hull_closed: float
    hull_numeric: float
    hull_random: float
    hull_worst_gauge: float
    hull_qhull: float | None
    n_lp: int
    seconds: float
    delta: float
    union_boundary: np.ndarray = field(repr=False)
    union_beyond: np.ndarray = field(repr=False)
    hull_boundary: np.ndarray = field(repr=False)
    hull_beyond: np.ndarray = field(repr=False)
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def union_gap(self) -> float:
        """Relative gap ``abs(closed - numeric) / closed`` for the union radius."""
        return abs(self.union_closed - self.union_numeric) / self.union_closed

    @property
    def hull_gap(self) -> float:
        """Relative gap ``abs(closed - numeric) / closed`` for the hull radius (LP search)."""
        return abs(self.hull_closed - self.hull_numeric) / self.hull_closed

    @property
    def passed(self) -> bool:
        """True when both gaps and the worst point's gauge error are below 1e-6 and every check holds."""
        return (
            self.union_gap < 1e-6 and self.hull_gap < 1e-6 and abs(self.hull_worst_gauge - 1) < 1e-6
            and all(self.checks.values())
        )

    def to_dict(self, witnesses: bool = False) -> dict:
        """Plain-Python summary (witness arrays only if asked)."""
        out = {k: v for k, v in asdict(self).items() if not isinstance(v, np.ndarray)}
        out.update(union_gap=self.union_gap, hull_gap=self.hull_gap, passed=self.passed)
        if witnesses:
            for name in ("union_boundary", "union_beyond", "hull_boundary", "hull_beyond"):
                out[name] = getattr(self, name).tolist()
        return out

    def __str__(self) -> str:
        p = "inf" if math.isinf(self.p) else f"{self.p:g}"
        lines = [
            f"l_{p} radii for eps1={self.eps1:g}, eps_inf={self.eps_inf:.6g}, d={self.d}",
            f"  union (Prop. 3.1): closed form {self.union_closed:.6f}  convex programme {self.union_numeric:.6f}"
            f" (dual bound {self.union_lower:.6f})  gap {self.union_gap:.1e}",
            f"  hull  (Thm. 3.1):  closed form {self.hull_closed:.6f}  LP search {self.hull_numeric:.6f}"
            f"  gap {self.hull_gap:.1e}",
            f"    LP gauge of the closed form's worst point {self.hull_worst_gauge:.9f} (1 = on the boundary);"
            f" random points alone: radius <= {self.hull_random:.6f}",
        ]
        if self.hull_qhull is not None:
            lines.append(f"    hull via qhull facets: {self.hull_qhull:.6f}")
        lines.append(f"  {self.n_lp} linear programmes (HiGHS)")
        lines.append("  witnesses: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in self.checks.items()))
        lines.append(f"  verdict: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        p = "∞" if math.isinf(self.p) else f"{self.p:g}"
        rows = "".join(
            f"<tr><td>{name}</td><td>{c:.6f}</td><td>{method}</td><td>{n:.6f}</td><td>{g:.1e}</td></tr>"
            for name, c, method, n, g in (
                ("union (Prop. 3.1)", self.union_closed, "convex programme", self.union_numeric, self.union_gap),
                ("hull (Thm. 3.1)", self.hull_closed, f"LP search ({self.n_lp} LPs)", self.hull_numeric, self.hull_gap),
            )
        )
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"<div><b>l<sub>{p}</sub> radii</b>, ε<sub>1</sub>={self.eps1:g}, ε<sub>∞</sub>={self.eps_inf:.6g}, d={self.d}"
            f"<table><tr><th>set</th><th>closed form</th><th>independent method</th><th>value</th><th>rel. gap</th></tr>"
            f"{rows}</table>LP gauge of the worst point: {self.hull_worst_gauge:.9f}; "
            f"witnesses: {', '.join(f'{k}: {v}' for k, v in self.checks.items())} — <b>{verdict}</b></div>"
        )


def verify_radius(
    eps1: float, eps_inf: float, p: float | str, d: int, delta: float = 1e-4, *, n_starts: int = 2, seed: int = 0
) -> RadiusReport:
    """Check the closed-form union and hull radii against independent numerics.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < d * eps_inf``.
    p : float or str
        The norm, ``1 <= p <= inf``.
    d : int
        Dimension, at most :data:`MAX_VERIFY_DIMENSION`. The time is that of the LPs: under
        a second at CIFAR-10's d = 3072 and about 20 s at ImageNet's d = 150528 on 2 CPU
        cores (``n_starts=1`` saves about a third).
    delta : float
        The "beyond" witnesses are the boundary witnesses scaled by ``1 + delta``, in (0, 1).
    n_starts : int
        Random starting points of the LP search (each followed by gauge ascent), >= 1.
    seed : int
        Seed of the starting points, >= 0 (numpy's seeds).

    Returns
    -------
    RadiusReport

    Raises
    ------
    TypeError
        ``delta``, ``n_starts`` or ``seed`` of the wrong kind (a bool, a string, a float count).
    ValueError
        Bad radii, ``p``, ``d`` (also ``d`` above :data:`MAX_VERIFY_DIMENSION`), or ``delta``,
        ``n_starts``, ``seed`` out of range.

    Examples
    --------
    >>> report = verify_radius(12, 8/255, 2, 3072)
    >>> report.passed
    True
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    delta = check_real(delta, "delta", 0.0, 1.0, low_open=True, high_open=True)
    n_starts, seed = _check_search(n_starts, seed)
    _check_verify_dimension(d)
    started = time.perf_counter()
    search = search_hull_radius(eps1, eps_inf, p, d, n_starts=n_starts, seed=seed)
    worst_gauge = hull_gauge_lp(hull_worst_point(eps1, eps_inf, p, d), eps1, eps_inf).value
    union_lower, union_num, union_boundary = union_radius_bracket(eps1, eps_inf, p, d)
    hull_boundary = search.boundary_point
    try:
        qhull = hull_radius_qhull(eps1, eps_inf, p, d) if d <= QHULL_MAX_DIMENSION else None
    except ValueError:  # radii within rounding of degenerate: qhull cannot build the hull
        qhull = None
    tol = 1e-7
    checks = {
        "hull boundary inside": bool(in_hull(hull_boundary, eps1, eps_inf, tol=tol)),
        "hull boundary on the boundary": bool(abs(float(hull_gauge(hull_boundary, eps1, eps_inf)) - 1) < 1e-6),
        "hull beyond outside": not bool(in_hull(hull_boundary * (1 + delta), eps1, eps_inf, tol=tol)),
        "union boundary inside": bool(in_union(union_boundary, eps1, eps_inf, tol=tol)),
        "union beyond outside": not bool(in_union(union_boundary * (1 + delta), eps1, eps_inf, tol=tol)),
        "witness norms match radii": bool(
            abs(lp_norm(hull_boundary, p) - search.radius) <= 1e-9 * search.radius
            and abs(lp_norm(union_boundary, p) - union_num) <= 1e-9 * union_num
        ),
    }
    return RadiusReport(
        eps1=eps1, eps_inf=eps_inf, p=p, d=d,
        union_closed=union_radius(eps1, eps_inf, p, d), union_numeric=union_num, union_lower=union_lower,
        hull_closed=hull_radius(eps1, eps_inf, p, d), hull_numeric=search.radius, hull_random=search.random_radius,
        hull_worst_gauge=worst_gauge, hull_qhull=qhull, n_lp=search.n_lp + 1,
        seconds=time.perf_counter() - started, delta=delta,
        union_boundary=union_boundary, union_beyond=union_boundary * (1 + delta),
        hull_boundary=hull_boundary, hull_beyond=hull_boundary * (1 + delta),
        checks=checks,
    )
