"""Checkers for the geometry exercises of the book (Part I).

Each checker takes the student's answer, compares it with lpgeom on several settings and
returns a :class:`CheckResult` whose representation is a short verdict saying what is
wrong (which setting, too large or too small, a hint) without printing the expected value
(a wrong answer never raises).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..geometry import hull_gauge, hull_radius, union_radius
from ._answers import AnswerError, as_function, as_number, tolerance

__all__ = ["CheckResult", "check_union_radius", "check_hull_gauge", "check_eps1_for_l2_cover", "minimal_eps1_for_l2_cover"]

SETTINGS = [(12.0, 8 / 255, 2.0, 3072), (1.5, 1.0, 2.0, 2), (2.5, 1.0, 3.0, 3), (255.0, 4 / 255, 1.5, 150528),
            (7.3, 0.4, 4.0, 50)]


@dataclass
class CheckResult:
    """Outcome of a check: ``passed`` and a human-readable ``message``."""

    passed: bool
    message: str

    def __repr__(self) -> str:
        return ("✅ " if self.passed else "❌ ") + self.message

    def __bool__(self) -> bool:
        return self.passed


def checked_tolerance(name: str, value: float, largest: float) -> float:
    """``value`` if it is a real number in (0, largest], else ``ValueError``: a checker with a loose
    tolerance would certify wrong answers (rtol = 1 passes almost anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= largest:
        raise ValueError(f"{name} must be a number in (0, {largest:g}] (a looser tolerance would pass wrong answers), "
                         f"got {value!r}")
    return float(value)


def _report(result: CheckResult) -> CheckResult:
    return result  # shown by the notebook as the cell's result (its repr is the verdict)


def check_union_radius(answer: Callable[[float, float, float, int], float], rtol: float = 1e-6) -> CheckResult:
    """Check a function ``answer(eps1, eps_inf, p, d)`` against Proposition 3.1 (``rtol`` at most 1e-3)."""
    rtol = checked_tolerance("rtol", rtol, 1e-3)
    try:
        as_function(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    for eps1, eps_inf, p, d in SETTINGS:
        setting = f"for eps1={eps1:g}, eps_inf={eps_inf:.4g}, p={p:g}, d={d}"
        try:
            result = answer(eps1, eps_inf, p, d)
        except Exception as err:  # a student's function may fail in any way: report it
            return _report(CheckResult(False, f"your function raised {type(err).__name__}: {err} {setting}"))
        try:
            got, precision = as_number(result, "your function's result")
        except AnswerError as err:
            return CheckResult(False, f"{err} ({setting})")
        want = union_radius(eps1, eps_inf, p, d)
        if not math.isclose(got, want, rel_tol=tolerance(rtol, precision)):
            where = f"for eps1={eps1:g}, eps_inf={eps_inf:.4g}, p={p:g}, d={d} you give {got:.6g}"
            budget_error = (eps_inf**p + eps1**p / (d - 1) ** (p - 1)) ** (1 / p)
            if math.isclose(got, budget_error, rel_tol=rtol):
                hint = "the coordinate at eps_inf already spends part of the l_1 budget"
            elif got > want:
                hint = "too large: a point of smaller l_p norm is already outside both balls"
            else:
                hint = "too small: every point of that norm is still inside one of the balls"
            return _report(CheckResult(False, f"{where}: {hint}"))
    return _report(CheckResult(True, f"union radius correct on {len(SETTINGS)} settings"))


def check_hull_gauge(answer: Callable[[np.ndarray, float, float], float], seed: int = 0, rtol: float = 1e-6) -> CheckResult:
    """Check a function ``answer(x, eps1, eps_inf)`` returning the hull gauge of one point ``x`` (shape (d,)).

    The answer gets a copy of ``x`` (an answer that changes its argument in place is judged on the
    point it was given); ``rtol`` at most 1e-3.
    """
    rtol = checked_tolerance("rtol", rtol, 1e-3)
    try:
        as_function(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    rng = np.random.default_rng(seed)
    for eps1, eps_inf, _, d in SETTINGS[:3] + SETTINGS[4:]:
        x = rng.standard_normal(d) * eps_inf
        try:
            result = answer(x.copy(), eps1, eps_inf)
        except Exception as err:
            return _report(CheckResult(False, f"your function raised {type(err).__name__}: {err} (d={d})"))
        try:
            got, precision = as_number(result, "your function's result")
        except AnswerError as err:
            return CheckResult(False, f"{err} (d={d})")
        rtol_here = tolerance(rtol, precision)
        want = float(hull_gauge(x, eps1, eps_inf))
        if not math.isclose(got, want, rel_tol=rtol_here):
            where = f"for eps1={eps1:g}, eps_inf={eps_inf:.4g}, d={d} and a random x you give {got:.6g}"
            if math.isclose(got, np.abs(x).sum() / eps1, rel_tol=rtol_here) or \
                    math.isclose(got, np.abs(x).max() / eps_inf, rel_tol=rtol_here):
                hint = "that is the gauge of one ball alone; the hull's gauge is smaller than both"
            elif got > want:
                hint = "too large: x can be split as a + b more cheaply"
            else:
                hint = "too small: your u is probably outside the polar set (check both of its constraints)"
            return _report(CheckResult(False, f"{where}: {hint}"))
    return _report(CheckResult(True, "hull gauge correct on random points in 4 settings"))


def minimal_eps1_for_l2_cover(eps_inf: float, eps2: float, d: int) -> float:
    """Smallest eps1 with hull_radius(eps1, eps_inf, 2, d) >= eps2 (bisection; the radius grows with eps1)."""
    lo, hi = eps_inf * (1 + 1e-9), d * eps_inf * (1 - 1e-9)
    if hull_radius(hi, eps_inf, 2, d) < eps2:
        raise ValueError(f"no eps1 < d*eps_inf makes the hull cover an l_2 ball of radius {eps2:g}")
    if hull_radius(lo, eps_inf, 2, d) >= eps2:
        return lo
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if hull_radius(mid, eps_inf, 2, d) < eps2 else (lo, mid)
    return hi


def check_eps1_for_l2_cover(answer: float, eps_inf: float, eps2: float, d: int, slack: float = 0.01) -> CheckResult:
    """Check that ``answer`` is (within ``slack``, relative, at most 0.5) the smallest eps1 whose hull covers B_2(eps2)."""
    slack = checked_tolerance("slack", slack, 0.5)
    best = minimal_eps1_for_l2_cover(eps_inf, eps2, d)
    try:
        answer, precision = as_number(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    if not (eps_inf < answer < d * eps_inf):
        return _report(CheckResult(False, f"eps1={answer:g} is outside (eps_inf, d*eps_inf): one ball contains the other"))
    r = hull_radius(answer, eps_inf, 2, d)
    if r < eps2 * (1 - max(1e-12, 64 * precision)):
        return _report(CheckResult(False, f"with eps1={answer:g} the hull only covers an l_2 ball of radius {r:.4g} < {eps2:g}"))
    if answer > best * (1 + slack):
        return _report(CheckResult(False, f"eps1={answer:g} works but is not the smallest: more than {slack:.0%} "
                                          "smaller still covers the ball"))
    return _report(CheckResult(True, f"eps1={answer:g} is the smallest l_1 radius (to {slack:.0%}) that covers B_2({eps2:g})"))
