"""Checkers for the training chapter (Part II): E-AT's running robust errors and its sampler.

The sampler is compared with lpgeom's own E-AT scheme (``build_scheme("eat", ...)``): its
``probabilities()`` after loading the same counts.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ._answers import AnswerError, as_function, as_number
from .geometry import CheckResult

#: how close a pair must be: a float32 computation of these fractions is off by about 1e-7
TOLERANCE = 1e-6

__all__ = ["check_running_robust_error", "check_eat_sampler", "lpgeom_eat_probabilities"]

# (norm index 0 = l_1 / 1 = l_inf, robust-correct points of the batch, batch size)
HISTORIES: tuple[tuple[tuple[int, int, int], ...], ...] = (
    ((0, 30, 128), (1, 60, 128), (0, 50, 128), (1, 70, 128)),
    ((1, 10, 128), (1, 100, 128), (0, 64, 128), (0, 2, 16), (1, 0, 32)),
    ((0, 120, 128), (1, 5, 64), (1, 40, 64), (0, 100, 128), (0, 90, 128), (1, 1, 8)),
)


def lpgeom_eat_probabilities(correct: Sequence[float], seen: Sequence[float]) -> tuple[float, float]:
    """(p_l1, p_linf) that lpgeom's E-AT draws with, given cumulative counts per norm (l_1, l_inf)."""
    from ..threats import cifar10_threats
    from ..training import build_scheme

    scheme = build_scheme("eat", cifar10_threats())
    scheme.load_state_dict({"counts": torch.tensor([[float(correct[0]), float(seen[0])],
                                                    [float(correct[1]), float(seen[1])]], dtype=torch.float64)})
    p = scheme.probabilities()
    return float(p[0]), float(p[1])


def _pair(fn: Callable, *args) -> tuple[tuple[float, float] | None, CheckResult | None]:
    """Two numbers (l_1, l_inf) from the reader's function: a tuple, list, or 1-d array/tensor of 2; or the verdict."""
    try:
        as_function(fn)
        result = fn(*args)
    except AnswerError as err:
        return None, CheckResult(False, str(err))
    except Exception as err:  # a student's function may fail in any way: report it
        return None, CheckResult(False, f"your function raised {type(err).__name__}: {err}")
    if result is None or isinstance(result, (str, bytes)) or not hasattr(result, "__len__") or \
            getattr(result, "ndim", 1) != 1:
        return None, CheckResult(False, f"your function returned {result!r}: return two numbers (l_1, l_inf)")
    if len(result) != 2:
        return None, CheckResult(False, f"return two numbers (l_1, l_inf), got {len(result)}")
    try:
        out = [as_number(v, "each of the two values")[0] for v in result]
    except AnswerError as err:
        return None, CheckResult(False, str(err))
    return (out[0], out[1]), None


def check_running_robust_error(rerr_fn: Callable[[list[tuple[int, int, int]]], Sequence[float]]) -> CheckResult:
    """Check ``rerr_fn(history)``: E-AT's running robust error (l_1, l_inf) after a history of batches.

    ``history`` is a list of ``(norm, robust_correct, batch_size)`` with norm 0 for l_1 and 1 for
    l_inf; every history has at least one batch of each norm.
    """
    for history in HISTORIES:
        got, failure = _pair(rerr_fn, [tuple(h) for h in history])
        if failure is not None:
            return failure
        correct, seen = [0, 0], [0, 0]
        for j, c, n in history:
            correct[j] += c
            seen[j] += n
        want = [1 - correct[j] / seen[j] for j in (0, 1)]
        if all(abs(g - w) < TOLERANCE for g, w in zip(got, want)):
            continue
        batch_mean = [sum(1 - c / n for j, c, n in history if j == k) / sum(1 for j, _, _ in history if j == k) for k in (0, 1)]
        last = [next(1 - c / n for j, c, n in reversed(history) if j == k) for k in (0, 1)]
        accuracy = [1 - w for w in want]
        if all(abs(g - a) < TOLERANCE for g, a in zip(got, accuracy)):
            return CheckResult(False, "you return robust accuracies: E-AT's statistic is the robust *error*")
        if all(abs(g - b) < TOLERANCE for g, b in zip(got, batch_mean)):
            return CheckResult(False, "you average the batches' error rates, so a batch of 8 weighs as much as one of 128: "
                                      "count points, not batches")
        if all(abs(g - b) < TOLERANCE for g, b in zip(got, last)):
            return CheckResult(False, "you keep only the latest batch of each norm: the statistic is cumulative over the run")
        return CheckResult(False, f"wrong after a history of {len(history)} batches: you give "
                                  f"({got[0]:.4f}, {got[1]:.4f})")
    return CheckResult(True, f"running robust errors correct on {len(HISTORIES)} histories")


def check_eat_sampler(prob_fn: Callable[[Sequence[float], Sequence[float]], Sequence[float]]) -> CheckResult:
    """Check ``prob_fn(correct, seen)`` -> (p_l1, p_linf) against lpgeom's E-AT on several count states.

    ``correct`` and ``seen`` are cumulative counts per norm (l_1, l_inf).
    """
    states = [((30, 60), (128, 128)), ((0, 0), (0, 0)), ((50, 0), (128, 0)), ((128, 64), (128, 64)),
              ((200, 900), (1000, 1000)), ((10, 700), (40, 1000))]
    for correct, seen in states:
        got, failure = _pair(prob_fn, list(correct), list(seen))
        if failure is not None:
            return failure
        want = lpgeom_eat_probabilities(correct, seen)
        if all(abs(g - w) < TOLERANCE for g, w in zip(got, want)):
            continue
        state = f"correct = {correct}, seen = {seen}"
        if any(g != g for g in got):
            return CheckResult(False, f"you return NaN for {state}: a norm not yet seen (or no error at all) needs a rule")
        if abs(sum(got) - 1) > TOLERANCE:
            return CheckResult(False, f"for {state} your probabilities sum to {sum(got):.4f}: normalise them")
        if 0 in seen:
            return CheckResult(False, f"for {state}: until both norms have been seen, E-AT has no error to compare")
        if all(c == s for c, s in zip(correct, seen)):
            return CheckResult(False, f"for {state} both robust errors are 0: there is nothing to prefer")
        if (got[0] - got[1]) * (want[0] - want[1]) < 0:
            return CheckResult(False, f"for {state} you favour the norm the model is *better* at; E-AT trains the weaker one more")
        return CheckResult(False, f"for {state} your probabilities ({got[0]:.4f}, {got[1]:.4f}) differ from E-AT's")
    return CheckResult(True, f"your sampler matches lpgeom's E-AT probabilities on {len(states)} count states")
