"""Checkers for the attacks chapter (Part II): an l_inf PGD step and the l_2 steepest-ascent direction.

Each checker calls the student's function on several random batches and returns a
:class:`~lpgeom.exercises.geometry.CheckResult` saying what is wrong (never the answer).
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ._answers import AnswerError, as_float_tensor, as_function
from .geometry import CheckResult

__all__ = ["check_linf_pgd_step", "check_l2_steepest_ascent"]


def _cases(seed: int):
    g = torch.Generator().manual_seed(seed)
    for shape, eps, step in (((4, 3, 8, 8), 8 / 255, 2 / 255), ((3, 1, 6, 6), 0.1, 0.04), ((2, 3, 4, 4), 0.3, 0.2)):
        x = torch.rand(shape, generator=g)
        x[0, :, :2] = 0.0   # pixels on the box's faces: the box constraint matters there
        x[-1, :, -2:] = 1.0
        x_adv = (x + eps * (2 * torch.rand(shape, generator=g) - 1)).clamp(0, 1)
        grad = torch.randn(shape, generator=g)
        grad[0, 0, 0] = 0.0
        yield x, x_adv, grad, eps, step


def _call(fn: Callable, *args) -> tuple[torch.Tensor | None, CheckResult | None]:
    """The answer's result in float64 (any floating dtype is judged, never crashed on), or the verdict."""
    try:
        as_function(fn)
    except AnswerError as err:
        return None, CheckResult(False, str(err))
    try:
        out = fn(*args)
    except Exception as err:  # a student's function may fail in any way: report it
        return None, CheckResult(False, f"your function raised {type(err).__name__}: {err}")
    try:
        return as_float_tensor(out, tuple(args[0].shape)), None
    except AnswerError as err:
        return None, CheckResult(False, str(err))


def check_linf_pgd_step(step_fn: Callable[..., torch.Tensor], seed: int = 0) -> CheckResult:
    """Check ``step_fn(x_adv, x, grad, eps, step_size)``: one l_inf PGD ascent step onto ball ∩ box.

    All tensors have shape (B, C, H, W); the answer must have it too.
    """
    for x, x_adv, grad, eps, step in _cases(seed):
        out, failure = _call(step_fn, x_adv.clone(), x.clone(), grad.clone(), eps, step)
        if failure is not None:
            return failure
        x, x_adv, grad = x.double(), x_adv.double(), grad.double()
        want = torch.minimum(torch.maximum(x_adv + step * grad.sign(), x - eps), x + eps).clamp(0, 1)
        if (out < -1e-7).any() or (out > 1 + 1e-7).any():
            return CheckResult(False, "some pixels leave the image box [0, 1]: clip to the box as well as to the ball")
        dist = float((out - x).abs().amax())
        if dist > eps + 1e-6:
            near_adv = float((out - x_adv).abs().amax()) <= eps + 1e-6
            hint = " (you seem to project around x_adv: the ball is centred at the clean x)" if near_adv else ""
            return CheckResult(False, f"the step leaves the l_inf ball: max |x_new - x| = {dist:.4f} > eps = {eps:.4f}{hint}")
        unsigned = torch.minimum(torch.maximum(x_adv + step * grad, x - eps), x + eps).clamp(0, 1)
        if torch.allclose(out, unsigned, atol=1e-6) and not torch.allclose(out, want, atol=1e-6):
            return CheckResult(False, "you step along the gradient itself; the l_inf steepest-ascent direction is its sign")
        descent = torch.minimum(torch.maximum(x_adv - step * grad.sign(), x - eps), x + eps).clamp(0, 1)
        if torch.allclose(out, descent, atol=1e-6):
            return CheckResult(False, "your step decreases the loss: an attack ascends (add the step)")
        wrong = (out - want).abs() > 1e-6
        if wrong.any():
            return CheckResult(False, f"{int(wrong.sum())} of {wrong.numel()} pixels differ from a projected sign step "
                                      f"(eps = {eps:.4f}, step = {step:.4f}); largest difference {float((out - want).abs().max()):.4f}")
    return CheckResult(True, "your l_inf PGD step matches the projected sign step on 3 batches (box faces included)")


def check_l2_steepest_ascent(direction_fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> CheckResult:
    """Check ``direction_fn(grad)``: per example, the unit-l_2 direction maximising <grad, v>; shape (B, C, H, W)."""
    from ..threats import LpBall

    for _, _, grad, _, _ in _cases(seed):
        grad = grad * torch.logspace(-2, 2, grad.shape[0]).view(-1, 1, 1, 1)  # examples of very different scale
        out, failure = _call(direction_fn, grad.clone())
        if failure is not None:
            return failure
        norms = out.flatten(1).norm(dim=1)
        if abs(float(out.norm()) - 1) < 1e-5 and len(grad) > 1:
            return CheckResult(False, "the whole batch has l_2 norm 1: normalise each example separately (norm over dims 1..)")
        if not torch.allclose(norms, torch.ones_like(norms), atol=1e-5):
            return CheckResult(False, f"your directions have l_2 norms between {float(norms.min()):.4g} and {float(norms.max()):.4g}; "
                                      "a direction of the unit ball has norm 1")
        cos = torch.nn.functional.cosine_similarity(out.flatten(1), grad.double().flatten(1), dim=1)
        if (cos < 0).any():
            return CheckResult(False, "your direction points against the gradient: steepest *ascent*")
        if (cos < 1 - 1e-5).any():
            return CheckResult(False, f"your direction is not parallel to the gradient (cosine {float(cos.min()):.4f}); "
                                      "for l_2, no other unit vector has a larger inner product")
        if not torch.allclose(out, LpBall(2, 1.0).steepest_ascent(grad).double(), atol=1e-5):
            return CheckResult(False, "your direction differs from lpgeom's l_2 steepest ascent")
    return CheckResult(True, "your l_2 steepest-ascent direction matches lpgeom's on 3 batches")
