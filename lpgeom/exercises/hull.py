"""Checkers for the chapters on the union and the hull (2D picture, Theorem 3.1 in high dimension).

Each returns a :class:`~lpgeom.exercises.geometry.CheckResult` that says what is wrong
(which setting, too large or too small, which part of the answer) without printing the
expected value.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..geometry import hull_radius, union_radius
from ._answers import AnswerError, as_function, as_number, tolerance
from .geometry import CheckResult, checked_tolerance

__all__ = ["check_hull_vertices_2d", "check_worst_case_margin", "check_theorem_3_1", "check_best_p_for_gain", "best_p_for_gain"]


def _call(answer: Callable, *args) -> tuple[object, str | None]:
    try:
        as_function(answer)
    except AnswerError as err:
        return None, str(err)
    try:
        return answer(*args), None
    except Exception as err:  # a student's function may fail in any way: report it
        return None, f"your function raised {type(err).__name__}: {err}"


def _number(result: object) -> tuple[float, float, str | None]:
    """(value, relative tolerance of its dtype, verdict): the verdict is set for a result that is not one number."""
    try:
        got, precision = as_number(result, "your function's result")
    except AnswerError as err:
        return math.nan, 0.0, str(err)
    return got, tolerance(1e-9, precision), None


def check_hull_vertices_2d(answer: Callable[[float, float], np.ndarray]) -> CheckResult:
    """Check ``answer(eps1, eps_inf)``: the vertices of the hull of B_1 ∪ B_inf in the plane, shape (k, 2), any order."""
    for eps1, eps_inf in ((1.5, 1.0), (1.9, 1.2), (1.1, 1.0)):
        got, error = _call(answer, eps1, eps_inf)
        if error:
            return CheckResult(False, error)
        if got is None or isinstance(got, (str, bytes)):
            return CheckResult(False, f"your function returned {got!r}: return an array of shape (k, 2)")
        try:
            got = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError) as err:
            return CheckResult(False, f"return an array of shape (k, 2) of numbers ({err})")
        if got.ndim != 2 or got.shape[1] != 2:
            return CheckResult(False, f"return an array of shape (k, 2) (one vertex per row), got shape {got.shape}")
        tips = {(eps1, 0.0), (-eps1, 0.0), (0.0, eps1), (0.0, -eps1)}
        corners = {(sx * eps_inf, sy * eps_inf) for sx in (-1, 1) for sy in (-1, 1)}
        # matched within float32's precision: a float32 array of the right vertices is right
        given = [next((c for c in tips | corners if np.allclose(v, c, rtol=1e-6, atol=1e-9)), None) for v in got]
        missing_tips = len(tips - set(given))
        missing_corners = len(corners - set(given))
        extra = sum(1 for g in given if g is None)
        if extra:
            return CheckResult(False, f"for eps1={eps1:g}, eps_inf={eps_inf:g}: {extra} of your points are not "
                                      "vertices of either ball, so they cannot be vertices of the hull")
        if missing_tips or missing_corners:
            return CheckResult(False, f"for eps1={eps1:g}, eps_inf={eps_inf:g} you miss {missing_tips} tip(s) of the "
                                      f"l_1 ball and {missing_corners} corner(s) of the l_inf ball; with "
                                      "eps_inf < eps1 < 2 eps_inf none of them lies inside the other ball")
    return CheckResult(True, "the 8 vertices are right in 3 settings")


def check_worst_case_margin(answer: Callable[[np.ndarray, float, float, float], float], seed: int = 0) -> CheckResult:
    """Check ``answer(w, b, eps1, eps_inf)`` = the smallest value of ``<w, z> + b`` over z in B_1 ∪ B_inf (equally, the hull)."""
    rng = np.random.default_rng(seed)
    for d, eps1, eps_inf in ((2, 1.5, 1.0), (10, 3.0, 0.5), (3072, 12.0, 8 / 255)):
        w, b = rng.standard_normal(d), float(rng.standard_normal())
        got, error = _call(answer, w.copy(), b, eps1, eps_inf)
        if error:
            return CheckResult(False, f"{error} (d={d})")
        got, rtol, error = _number(got)
        if error:
            return CheckResult(False, f"{error} (d={d})")
        l1_only = b - eps1 * np.abs(w).max()
        linf_only = b - eps_inf * np.abs(w).sum()
        want = min(l1_only, linf_only)
        if math.isclose(got, want, rel_tol=rtol, abs_tol=1e-12):
            continue
        if math.isclose(got, max(l1_only, linf_only), rel_tol=rtol):
            return CheckResult(False, f"d={d}: you give the worst case of the ball that is easier for the classifier; "
                                      "the adversary picks the worse of the two")
        if math.isclose(got, l1_only, rel_tol=rtol) or math.isclose(got, linf_only, rel_tol=rtol):
            return CheckResult(False, f"d={d}: you only look at one of the two balls")
        side = "too large (too optimistic)" if got > want else "too small (too pessimistic)"
        return CheckResult(False, f"d={d}: your margin is {side}; over B_1 a linear function is smallest at a "
                                  "vertex ±eps1 e_i, over B_inf at a corner")
    return CheckResult(True, "worst-case margins correct in d = 2, 10 and 3072")


def check_theorem_3_1(answer: Callable[[float, float, float], float]) -> CheckResult:
    """Check ``answer(eps1, eps_inf, p)`` against Theorem 3.1 (1 < p < inf)."""
    for eps1, eps_inf, p in ((12.0, 8 / 255, 2.0), (2.5, 1.0, 3.0), (255.0, 4 / 255, 1.5), (7.3, 0.4, 4.0), (3.0, 1.0, 2.0)):
        got, error = _call(answer, eps1, eps_inf, p)
        if error:
            return CheckResult(False, f"{error} (eps1={eps1:g}, eps_inf={eps_inf:.4g}, p={p:g})")
        got, rtol, error = _number(got)
        if error:
            return CheckResult(False, f"{error} (eps1={eps1:g}, eps_inf={eps_inf:.4g}, p={p:g})")
        want = hull_radius(eps1, eps_inf, p, 10**6)
        if math.isclose(got, want, rel_tol=rtol):
            continue
        ratio = eps1 / eps_inf
        k, alpha, q = math.floor(ratio), ratio - math.floor(ratio), p / (p - 1)
        if math.isclose(got, eps1 / (k + alpha**p) ** (1 / q), rel_tol=rtol) or \
                math.isclose(got, eps1 / (k + alpha**p) ** (1 / p), rel_tol=rtol):
            return CheckResult(False, f"p={p:g}: the fractional part alpha enters with the dual exponent q, not p")
        if math.isclose(got, eps1 / (k + alpha**q) ** (1 / p), rel_tol=rtol):
            return CheckResult(False, f"p={p:g}: the outer root is 1/q, the dual exponent")
        if alpha == 0:
            return CheckResult(False, f"wrong when eps1/eps_inf is an integer ({ratio:g}): then alpha = 0")
        side = "too large" if got > want else "too small"
        return CheckResult(False, f"eps1={eps1:g}, eps_inf={eps_inf:.4g}, p={p:g}: your radius is {side}; "
                                  "check k = floor(eps1/eps_inf) and alpha")
    return CheckResult(True, "Theorem 3.1 correct in 5 settings (CIFAR-10 and ImageNet included)")


def best_p_for_gain(eps1: float, eps_inf: float, d: int) -> float:
    """The p in (1, inf) maximising hull_radius / union_radius (golden-section search on log(p - 1))."""
    from scipy.optimize import minimize_scalar

    def neg_gain(t: float) -> float:
        p = 1 + math.exp(t)
        return -hull_radius(eps1, eps_inf, p, d) / union_radius(eps1, eps_inf, p, d)

    result = minimize_scalar(neg_gain, bounds=(-8.0, 6.0), method="bounded", options={"xatol": 1e-10})
    return 1 + math.exp(float(result.x))


def check_best_p_for_gain(answer: float, eps1: float = 12.0, eps_inf: float = 8 / 255, d: int = 3072,
                          rtol: float = 0.02) -> CheckResult:
    """Check that ``answer`` is (within ``rtol`` in the gain, at most 0.1) the p where the hull gains most over the union."""
    rtol = checked_tolerance("rtol", rtol, 0.1)
    try:
        p, _ = as_number(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    if not (1 < p < math.inf):
        return CheckResult(False, f"p={p:g}: at p = 1 and p = inf both radii equal the balls' own radii (gain 1)")
    best = best_p_for_gain(eps1, eps_inf, d)
    gain = hull_radius(eps1, eps_inf, p, d) / union_radius(eps1, eps_inf, p, d)
    best_gain = hull_radius(eps1, eps_inf, best, d) / union_radius(eps1, eps_inf, best, d)
    if gain < best_gain * (1 - rtol):
        direction = "larger" if best > p else "smaller"
        return CheckResult(False, f"at p={p:g} the gain is {gain:.3g}; a {direction} p gains more than {rtol:.0%} more")
    return CheckResult(True, f"p={p:g} gives a gain of {gain:.3g}, within {rtol:.0%} of the largest")
