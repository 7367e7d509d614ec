"""Numerical verification of Proposition 3.1 and Theorem 3.1 without their closed forms.

Hull (Theorem 3.1). The largest l_p ball inside a convex body C has radius
:math:`\\min_{u \\ne 0} h_C(u) / \\|u\\|_q` with the support function
:math:`h_C(u) = \\max(\\epsilon_1 \\|u\\|_\\infty, \\epsilon_\\infty \\|u\\|_1)`. Fix
:math:`\\|u\\|_\\infty = 1` and :math:`s = \\|u\\|_1 \\in [1, d]`: the numerator is then fixed and
the largest :math:`\\|u\\|_q` over that polytope sits at a vertex (``floor(s)`` ones and one
entry ``s - floor(s)``). What is left is a one-dimensional problem in ``s``, solved
numerically (a dense grid over ``[1, d]`` refined by bounded Brent steps); for small ``d``
an independent second check builds C with qhull and measures the l_p distance to
every facet.

Union (Proposition 3.1). Outside the union means :math:`\\|x\\|_\\infty > \\epsilon_\\infty` and
:math:`\\|x\\|_1 > \\epsilon_1`. With :math:`t = \\|x\\|_\\infty` the cheapest way to reach the l_1
budget spreads :math:`\\epsilon_1 - t` evenly over the other ``d - 1`` coordinates; the
remaining minimisation over :math:`t \\in [\\epsilon_\\infty, \\epsilon_1]` is done numerically.

Witnesses: for each set, a point on its boundary at the numerical radius and the same
point scaled by ``1 + delta`` (outside), both checked with the exact membership tests.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from ._validation import check_radii, parse_p
from .membership import hull_gauge, in_hull, in_union
from .radii import conjugate_exponent, hull_radius, union_radius

__all__ = ["RadiusReport", "verify_radius", "hull_radius_numeric", "union_radius_numeric", "hull_radius_qhull"]

QHULL_MAX_DIMENSION = 8


def _lp_norm(x: np.ndarray, p: float) -> float:
    a = np.abs(x)
    if math.isinf(p):
        return float(a.max())
    m = a.max()
    return float(m * np.sum((a / m) ** p) ** (1 / p)) if m > 0 else 0.0


def _q_norm_of_vertex(s: np.ndarray, q: float) -> np.ndarray:
    """||u||_q for u = (1,...,1 [floor(s) times], frac(s), 0, ...), vectorised over s."""
    n = np.floor(s)
    f = s - n
    if math.isinf(q):
        return np.ones_like(s)
    return np.exp(np.log(n + f**q) / q)


def _hull_objective(s: np.ndarray, eps1: float, eps_inf: float, q: float) -> np.ndarray:
    return np.maximum(eps1, eps_inf * s) / _q_norm_of_vertex(s, q)


def hull_radius_numeric(eps1: float, eps_inf: float, p: float | str, d: int, grid: int = 16) -> tuple[float, np.ndarray]:
    """Minimise the support-function ratio numerically (no closed form used).

    Returns
    -------
    radius : float
        The numerical minimum of :math:`h_C(u)/\\|u\\|_q`.
    u : numpy.ndarray, shape (d,)
        The minimising direction (sorted, non-negative).
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    q = conjugate_exponent(p)
    # dense grid over [1, d]: every integer interval sampled at `grid` points
    s = (np.arange(1, d, dtype=np.float64)[:, None] + np.linspace(0, 1, grid, endpoint=False)[None, :]).ravel()
    s = np.append(s, float(d))
    values = _hull_objective(s, eps1, eps_inf, q)
    # refine around the best grid points with bounded Brent steps
    candidates = [(float(values.min()), float(s[values.argmin()]))]
    for idx in np.argsort(values)[:3]:
        lo, hi = max(1.0, s[idx] - 1.0 / grid), min(float(d), s[idx] + 1.0 / grid)
        res = minimize_scalar(
            lambda t: float(_hull_objective(np.array([t]), eps1, eps_inf, q)[0]),
            bounds=(lo, hi), method="bounded", options={"xatol": 1e-12},
        )
        candidates.append((float(res.fun), float(res.x)))
    best_value, best_s = min(candidates)
    n = int(math.floor(best_s))
    u = np.zeros(d)
    u[:n] = 1.0
    if n < d:
        u[n] = best_s - n
    return best_value, u


def hull_radius_qhull(eps1: float, eps_inf: float, p: float | str, d: int) -> float:
    """Inscribed l_p radius of the hull built explicitly with qhull (small ``d`` only).

    The l_p distance from the origin to the facet ``{x : n.x = b}`` is ``b / ||n||_q``.
    """
    from scipy.spatial import ConvexHull

    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    if d > QHULL_MAX_DIMENSION:
        raise ValueError(f"the qhull check builds 2^d vertices; use d <= {QHULL_MAX_DIMENSION}, got d={d}")
    q = conjugate_exponent(parse_p(p))
    cube = eps_inf * np.array(np.meshgrid(*[[-1.0, 1.0]] * d)).reshape(d, -1).T
    cross = eps1 * np.vstack([np.eye(d), -np.eye(d)])
    hull = ConvexHull(np.vstack([cube, cross]))
    normals, offsets = hull.equations[:, :-1], -hull.equations[:, -1]  # n.x <= b inside
    qnorms = np.array([_lp_norm(n, q) for n in normals])  # scaled by the largest entry: q ~ 1e15 (p -> 1) must not underflow
    return float(np.min(offsets / qnorms))


def union_radius_numeric(eps1: float, eps_inf: float, p: float | str, d: int) -> tuple[float, np.ndarray]:
    """Minimise the l_p norm over the closure of the complement of the union (no closed form used).

    Returns
    -------
    radius : float
    x : numpy.ndarray, shape (d,)
        The minimiser: ``(t, r, ..., r)`` with ``r = (eps1 - t) / (d - 1)``.
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)

    def point(t: float) -> np.ndarray:
        x = np.full(d, (eps1 - t) / (d - 1))
        x[0] = t
        return x

    ts = np.linspace(eps_inf, eps1, 257)
    values = np.array([_lp_norm(point(t), p) for t in ts])
    i = int(values.argmin())
    res = minimize_scalar(
        lambda t: _lp_norm(point(t), p),
        bounds=(ts[max(i - 1, 0)], ts[min(i + 1, len(ts) - 1)]), method="bounded", options={"xatol": 1e-14},
    )
    best_t, best = (float(res.x), float(res.fun)) if res.fun < values[i] else (float(ts[i]), float(values[i]))
    return best, point(best_t)


def _unit_norming_vector(u: np.ndarray, p: float) -> np.ndarray:
    """x with ||x||_p = 1 and <u, x> = ||u||_q (u >= 0)."""
    if p == 1:
        x = np.zeros_like(u)
        x[int(np.argmax(u))] = 1.0
        return x
    if math.isinf(p):
        return (u > 0).astype(float)
    q = conjugate_exponent(p)
    x = u ** (q - 1)
    return x / _lp_norm(x, p)


@dataclass
class RadiusReport:
    """Closed forms of Proposition 3.1 / Theorem 3.1 next to an independent numerical check.

    Attributes
    ----------
    eps1, eps_inf, p, d :
        The setting.
    union_closed, union_numeric, hull_closed, hull_numeric : float
        Radii of the largest l_p ball inside the union and inside the hull.
    hull_qhull : float or None
        Second, qhull-based value of the hull radius (only for small ``d``).
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
    hull_closed: float
    hull_numeric: float
    hull_qhull: float | None
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
        """Relative gap ``abs(closed - numeric) / closed`` for the hull radius."""
        return abs(self.hull_closed - self.hull_numeric) / self.hull_closed

    @property
    def passed(self) -> bool:
        """True when both gaps are below 1e-6 and every witness check holds."""
        return self.union_gap < 1e-6 and self.hull_gap < 1e-6 and all(self.checks.values())

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
            f"  union (Prop. 3.1): closed form {self.union_closed:.6f}  numerical {self.union_numeric:.6f}  gap {self.union_gap:.1e}",
            f"  hull  (Thm. 3.1):  closed form {self.hull_closed:.6f}  numerical {self.hull_numeric:.6f}  gap {self.hull_gap:.1e}",
        ]
        if self.hull_qhull is not None:
            lines.append(f"  hull via qhull facets: {self.hull_qhull:.6f}")
        lines.append("  witnesses: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in self.checks.items()))
        lines.append(f"  verdict: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        p = "∞" if math.isinf(self.p) else f"{self.p:g}"
        rows = "".join(
            f"<tr><td>{name}</td><td>{c:.6f}</td><td>{n:.6f}</td><td>{g:.1e}</td></tr>"
            for name, c, n, g in (
                ("union (Prop. 3.1)", self.union_closed, self.union_numeric, self.union_gap),
                ("hull (Thm. 3.1)", self.hull_closed, self.hull_numeric, self.hull_gap),
            )
        )
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"<div><b>l<sub>{p}</sub> radii</b>, ε<sub>1</sub>={self.eps1:g}, ε<sub>∞</sub>={self.eps_inf:.6g}, d={self.d}"
            f"<table><tr><th>set</th><th>closed form</th><th>numerical</th><th>rel. gap</th></tr>{rows}</table>"
            f"witnesses: {', '.join(f'{k}: {v}' for k, v in self.checks.items())} — <b>{verdict}</b></div>"
        )


def verify_radius(eps1: float, eps_inf: float, p: float | str, d: int, delta: float = 1e-4) -> RadiusReport:
    """Check the closed-form union and hull radii against independent numerics.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < d * eps_inf``.
    p : float or str
        The norm, ``1 <= p <= inf``.
    d : int
        Dimension (the paper's CIFAR-10 d = 3072 and ImageNet d = 150528 take about a second).
    delta : float
        The "beyond" witnesses are the boundary witnesses scaled by ``1 + delta``.

    Returns
    -------
    RadiusReport

    Examples
    --------
    >>> report = verify_radius(12, 8/255, 2, 3072)
    >>> report.passed
    True
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    if not (0 < delta < 1):
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    hull_num, u = hull_radius_numeric(eps1, eps_inf, p, d)
    union_num, union_point = union_radius_numeric(eps1, eps_inf, p, d)
    hull_boundary = hull_num * _unit_norming_vector(u, p)
    union_boundary = union_point
    tol = 1e-7
    checks = {
        "hull boundary inside": bool(in_hull(hull_boundary, eps1, eps_inf, tol=tol)),
        "hull boundary on the boundary": bool(abs(float(hull_gauge(hull_boundary, eps1, eps_inf)) - 1) < 1e-6),
        "hull beyond outside": not bool(in_hull(hull_boundary * (1 + delta), eps1, eps_inf, tol=tol)),
        "union boundary inside": bool(in_union(union_boundary, eps1, eps_inf, tol=tol)),
        "union beyond outside": not bool(in_union(union_boundary * (1 + delta), eps1, eps_inf, tol=tol)),
        "witness norms match radii": bool(
            abs(_lp_norm(hull_boundary, p) - hull_num) <= 1e-9 * hull_num
            and abs(_lp_norm(union_boundary, p) - union_num) <= 1e-9 * union_num
        ),
    }
    return RadiusReport(
        eps1=eps1, eps_inf=eps_inf, p=p, d=d,
        union_closed=union_radius(eps1, eps_inf, p, d), union_numeric=union_num,
        hull_closed=hull_radius(eps1, eps_inf, p, d), hull_numeric=hull_num,
        hull_qhull=hull_radius_qhull(eps1, eps_inf, p, d) if d <= QHULL_MAX_DIMENSION else None,
        delta=delta,
        union_boundary=union_boundary, union_beyond=union_boundary * (1 + delta),
        hull_boundary=hull_boundary, hull_beyond=hull_boundary * (1 + delta),
        checks=checks,
    )
