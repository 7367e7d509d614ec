"""Checkers for the threat-model chapter: l_p norms and the projection onto an l_inf ball inside the box.

Each checker runs the student's function on several inputs, compares it with lpgeom and
returns a :class:`~lpgeom.exercises.geometry.CheckResult` that says what is wrong (which
input, which property fails) without printing the expected value.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..threats import LpBall
from ._answers import AnswerError, as_float_tensor, as_function, as_number, tolerance
from .geometry import CheckResult

__all__ = ["check_lp_norm", "check_linf_box_projection"]


def _call(answer: Callable, *args) -> tuple[object, str | None]:
    try:
        as_function(answer)
    except AnswerError as err:
        return None, str(err)
    try:
        return answer(*args), None
    except Exception as err:  # a student's function may fail in any way: report it
        return None, f"your function raised {type(err).__name__}: {err}"


def check_lp_norm(answer: Callable[[np.ndarray, float], float], seed: int = 0) -> CheckResult:
    """Check ``answer(v, p)`` = :math:`\\|v\\|_p` for vectors ``v`` of shape (d,) and ``p`` in [1, inf].

    Parameters
    ----------
    answer : callable
        ``answer(v, p) -> float``; ``p`` may be ``float("inf")``.
    seed : int
        Seed of the test vectors.

    Returns
    -------
    CheckResult
    """
    rng = np.random.default_rng(seed)
    for p in (1.0, 2.0, 3.0, 1.5, math.inf):
        for v in (rng.standard_normal(7), -np.abs(rng.standard_normal(50)), np.zeros(3)):
            got, error = _call(answer, v.copy(), p)
            if error:
                return CheckResult(False, f"{error} (p={p:g}, d={v.size})")
            want = float(np.linalg.norm(v, ord=p))
            try:
                got, precision = as_number(got, "your function's result")
            except AnswerError as err:
                return CheckResult(False, f"{err} (p={p:g}, d={v.size})")
            rtol = tolerance(1e-9, precision)
            if math.isclose(got, want, rel_tol=rtol, abs_tol=1e-12):
                continue
            if (v < 0).any():
                on_magnitudes, _ = _call(answer, np.abs(v), p)
                try:
                    on_magnitudes = as_number(on_magnitudes)[0]
                except AnswerError:
                    on_magnitudes = math.nan
                if math.isclose(on_magnitudes, want, rel_tol=rtol):
                    return CheckResult(False, f"wrong for p={p:g} on a vector with negative entries: use |v_i|")
            if math.isinf(p):
                return CheckResult(False, "wrong for p=inf: the l_inf norm is the limit of the l_p norms as p grows")
            if math.isclose(float(got), float(np.sum(np.abs(v) ** p)), rel_tol=rtol):
                return CheckResult(False, f"for p={p:g} you return the sum of |v_i|^p: the norm is its p-th root")
            return CheckResult(False, f"wrong for p={p:g} on a vector of dimension {v.size} (you give {float(got):.6g})")
    return CheckResult(True, "l_p norms correct for p = 1, 1.5, 2, 3 and inf")


def check_linf_box_projection(answer: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], seed: int = 0) -> CheckResult:
    """Check ``answer(z, x, eps)``: the nearest point to ``z`` in :math:`\\{x' : \\|x'-x\\|_\\infty \\le \\epsilon\\} \\cap [0,1]^d`.

    Parameters
    ----------
    answer : callable
        ``answer(z, x, eps) -> Tensor`` for tensors ``z, x`` of shape (B, C, H, W) with ``x``
        in [0, 1].
    seed : int
        Seed of the test tensors.

    Returns
    -------
    CheckResult
        Says which property fails: shape, the box, the ball, or nearness.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 3, 8, 8, generator=gen)
    z = x + 0.3 * torch.randn(4, 3, 8, 8, generator=gen)
    eps = 8 / 255
    got, error = _call(answer, z.clone(), x.clone(), eps)
    if error:
        return CheckResult(False, error)
    try:  # compared in float64: an answer computed in float64 (or float16) is judged, not crashed on
        got = as_float_tensor(got, tuple(z.shape))
    except AnswerError as err:
        return CheckResult(False, f"{err} (the shape of z)")
    if got.min() < -1e-7 or got.max() > 1 + 1e-7:
        return CheckResult(False, "some values leave the box [0, 1]: valid images stay in it")
    if ((got - x.double()).abs() > eps + 1e-7).any():
        return CheckResult(False, f"some pixels move more than eps={eps:.4g} from x: the point leaves the l_inf ball")
    want = LpBall(math.inf, eps).project(z, x).double()
    if not torch.allclose(got, want, atol=1e-6):
        return CheckResult(False, "the point is in ball ∩ box but not the nearest one to z: "
                                  "each coordinate can be treated on its own")
    return CheckResult(True, "projection onto the l_inf ball ∩ [0, 1]^d is correct")
