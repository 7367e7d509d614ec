"""Checkers for the evaluation chapter (Part II): union accuracy from per-point flags; reading a curve."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import torch

from ._answers import AnswerError, as_function, as_number
from .geometry import CheckResult

#: a recorded accuracy within this of the level counts as at the level: an exact count stored as float32
#: (650/1000 as 0.6499999761) is off by at most 3e-8, a fraction of N <= 10**6 points moves in steps of 1e-6
STORAGE_TOLERANCE = 1e-7

__all__ = ["check_union_accuracy", "check_curve_reading"]


def _flags(seed: int, n: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(n, generator=g) < 0.8
    # each norm breaks a different random subset, so the union is below every per-norm accuracy
    return {"clean": clean, **{name: clean & (torch.rand(n, generator=g) < q) for name, q in
                               (("Linf", 0.6), ("L2", 0.7), ("L1", 0.5))}}


def check_union_accuracy(union_fn: Callable[[Mapping[str, torch.Tensor]], float], seed: int = 0) -> CheckResult:
    """Check ``union_fn(per_point)``: the union robust accuracy, a fraction in [0, 1].

    ``per_point`` maps ``"clean"`` and each norm name to an (N,) bool tensor, as
    :attr:`lpgeom.evaluation.RobustnessReport.per_point` (without its ``"union"`` entry).
    """
    try:
        as_function(union_fn)
    except AnswerError as err:
        return CheckResult(False, str(err))
    for k, n in enumerate((50, 200, 1000)):
        flags = _flags(seed + k, n)
        try:
            result = union_fn({name: f.clone() for name, f in flags.items()})
        except Exception as err:  # a student's function may fail in any way: report it
            return CheckResult(False, f"your function raised {type(err).__name__}: {err}")
        try:
            got, _ = as_number(result, "your function's result")
        except AnswerError as err:
            return CheckResult(False, str(err))
        norms = [f for name, f in flags.items() if name != "clean"]

        def fraction(f: torch.Tensor) -> float:  # exact count / n: float32 means are off by up to 3e-8
            return int(f.sum()) / n

        want = fraction(torch.stack(norms).all(0))
        per_norm = [fraction(f) for f in norms]

        def same(a: float, b: float) -> bool:  # counts differ by 1/n >= 1e-3; a float32 mean by <= 3e-8
            return abs(a - b) <= STORAGE_TOLERANCE

        if same(got, want):
            continue
        if got > 1:
            return CheckResult(False, f"you return {got:g}: give a fraction in [0, 1], not a percentage")
        if same(got, min(per_norm)):
            return CheckResult(False, "that is the smallest per-norm accuracy, only an upper bound: a point counts in the "
                                      "union only if it survives every norm's attack (combine the flags per point)")
        if same(got, sum(per_norm) / len(per_norm)):
            return CheckResult(False, "that is the average of the per-norm accuracies: the union asks, per point, for "
                                      "robustness under every norm")
        if same(got, fraction(torch.stack(norms).any(0))):
            return CheckResult(False, "you count a point robust if it survives *some* norm: the attacker picks the norm, "
                                      "so it must survive all of them")
        if same(got, fraction(flags["clean"])):
            return CheckResult(False, "that is the clean accuracy: the norms' flags are missing")
        return CheckResult(False, f"wrong on {n} points: your value {got:.4f} is not the fraction of points robust under every norm")
    return CheckResult(True, "union accuracy correct on 3 sets of per-point flags")


def check_curve_reading(answer: float, eps: Sequence[float], accuracy: Sequence[float], level: float,
                        n_points: int | None = None) -> CheckResult:
    """Check ``answer``: the smallest radius of the grid ``eps`` at which ``accuracy`` is below ``level``.

    ``accuracy`` holds fractions in [0, 1], one per radius (a robustness curve). They are counts
    of robust points over ``n_points``: with ``n_points`` each is compared as a count (the
    nearest multiple of 1/n); without, an accuracy within :data:`STORAGE_TOLERANCE` (1e-7) of
    ``level`` counts as equal to it. So 650/1000 recorded as float32 (0.6499999761) is 65%,
    not below 65%, either way.

    Raises
    ------
    ValueError
        ``eps`` and ``accuracy`` of different or zero length, ``n_points`` not a positive
        integer, or an accuracy that is not a multiple of 1/``n_points``.
    """
    eps, accuracy = [float(e) for e in eps], [float(a) for a in accuracy]
    if len(eps) != len(accuracy) or not eps:
        raise ValueError(f"eps and accuracy must have the same positive length, got {len(eps)} and {len(accuracy)}")
    level = float(level)
    if n_points is not None:
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 1:
            raise ValueError(f"n_points must be a positive int (the points each accuracy counts), got {n_points!r}")
        counts = [round(a * n_points) for a in accuracy]
        if any(abs(a * n_points - c) > 1e-3 for a, c in zip(accuracy, counts)):
            raise ValueError(f"accuracy {accuracy} is not a list of counts over n_points={n_points}")
        goal = Fraction(level).limit_denominator(10**6)  # 0.65 as 13/20, not the double nearest to it
        is_below = [Fraction(c, n_points) < goal for c in counts]
    else:
        is_below = [a < level - STORAGE_TOLERANCE for a in accuracy]
    try:
        answer, _ = as_number(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    below = [e for e, b in zip(eps, is_below) if b]
    if not below:
        return CheckResult(math.isnan(answer), "the curve never falls below this level on its grid")  # nan answer passes
    match = [i for i, e in enumerate(eps) if abs(e - answer) <= 1e-6 * max(1.0, abs(e))]
    if not match:
        return CheckResult(False, f"{answer:g} is not a radius of the curve's grid ({', '.join(f'{e:g}' for e in eps)})")
    acc = accuracy[match[0]]
    if not is_below[match[0]]:
        tie = " (exactly the level is not below it)" if abs(acc - level) <= max(STORAGE_TOLERANCE, 0.5 / (n_points or 10**7)) \
            else ""
        return CheckResult(False, f"at eps = {answer:g} the robust accuracy is {100 * acc:.1f}%, not below "
                                  f"{100 * level:.0f}%{tie}: look at larger radii")
    if answer > min(below):
        return CheckResult(False, f"the accuracy is below {100 * level:.0f}% at eps = {answer:g}, but it already was at a "
                                  "smaller radius of the grid")
    return CheckResult(True, f"right: eps = {answer:g} is the first radius of the grid with robust accuracy below {100 * level:.0f}%")
