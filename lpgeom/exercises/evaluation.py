"""Checkers for the evaluation chapter (Part II): union accuracy from per-point flags; reading a curve."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from .geometry import CheckResult

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
    for k, n in enumerate((50, 200, 1000)):
        flags = _flags(seed + k, n)
        try:
            got = float(union_fn({name: f.clone() for name, f in flags.items()}))
        except Exception as err:  # a student's function may fail in any way: report it
            return CheckResult(False, f"your function raised {type(err).__name__}: {err}")
        norms = [f for name, f in flags.items() if name != "clean"]
        want = float(torch.stack(norms).all(0).float().mean())
        per_norm = [float(f.float().mean()) for f in norms]
        if abs(got - want) < 1e-9:
            continue
        if got > 1:
            return CheckResult(False, f"you return {got:g}: give a fraction in [0, 1], not a percentage")
        if abs(got - min(per_norm)) < 1e-9:
            return CheckResult(False, "that is the smallest per-norm accuracy, only an upper bound: a point counts in the "
                                      "union only if it survives every norm's attack (combine the flags per point)")
        if abs(got - sum(per_norm) / len(per_norm)) < 1e-9:
            return CheckResult(False, "that is the average of the per-norm accuracies: the union asks, per point, for "
                                      "robustness under every norm")
        if abs(got - float(torch.stack(norms).any(0).float().mean())) < 1e-9:
            return CheckResult(False, "you count a point robust if it survives *some* norm: the attacker picks the norm, "
                                      "so it must survive all of them")
        if abs(got - float(flags["clean"].float().mean())) < 1e-9:
            return CheckResult(False, "that is the clean accuracy: the norms' flags are missing")
        return CheckResult(False, f"wrong on {n} points: your value {got:.4f} is not the fraction of points robust under every norm")
    return CheckResult(True, "union accuracy correct on 3 sets of per-point flags")


def check_curve_reading(answer: float, eps: Sequence[float], accuracy: Sequence[float], level: float) -> CheckResult:
    """Check ``answer``: the smallest radius of the grid ``eps`` at which ``accuracy`` is below ``level``.

    ``accuracy`` holds fractions in [0, 1], one per radius (a robustness curve).
    """
    eps, accuracy = [float(e) for e in eps], [float(a) for a in accuracy]
    if len(eps) != len(accuracy) or not eps:
        raise ValueError(f"eps and accuracy must have the same positive length, got {len(eps)} and {len(accuracy)}")
    answer = float(answer)
    below = [e for e, a in zip(eps, accuracy) if a < level]
    if not below:
        return CheckResult(answer != answer, "the curve never falls below this level on its grid")  # nan answer passes
    match = [i for i, e in enumerate(eps) if abs(e - answer) <= 1e-9 * max(1.0, abs(e))]
    if not match:
        return CheckResult(False, f"{answer:g} is not a radius of the curve's grid ({', '.join(f'{e:g}' for e in eps)})")
    acc = accuracy[match[0]]
    if acc >= level:
        return CheckResult(False, f"at eps = {answer:g} the robust accuracy is {100 * acc:.1f}%, not below {100 * level:.0f}%: "
                                  "look at larger radii")
    if answer > min(below):
        return CheckResult(False, f"the accuracy is below {100 * level:.0f}% at eps = {answer:g}, but it already was at a "
                                  "smaller radius of the grid")
    return CheckResult(True, f"right: eps = {answer:g} is the first radius of the grid with robust accuracy below {100 * level:.0f}%")
