"""Input validation and sanity checks against gradient masking (in the spirit of AutoAttack's checks)."""
from __future__ import annotations

import torch
from torch import nn

from ..threats import LpBall
from ..threats.validation import check_radii_fit

__all__ = ["validate_evaluation_inputs", "gradient_masking_warnings"]


def validate_evaluation_inputs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, balls: list[LpBall]) -> int:
    """Clear ``ValueError`` for inputs that cannot be evaluated; returns the number of classes.

    Checks: tensors of matching batch size, no NaN / inf, images in [0, 1], integer labels
    within the model's classes, radii on the [0, 1] scale (e.g. eps_inf = 8 instead of 8/255).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a tensor of images (N, C, H, W), got {getattr(x, 'shape', type(x))}")
    if x.shape[0] == 0:
        raise ValueError("x is empty: nothing to evaluate")
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {tuple(getattr(y, 'shape', ()))}")
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        hint = " (it looks like 0-255 pixels: divide by 255)" if hi > 1.5 else ""
        raise ValueError(f"images must lie in [0, 1] (normalisation belongs inside the model), got range [{lo:.3g}, {hi:.3g}]{hint}")
    check_radii_fit(balls, x[0].numel())
    with torch.no_grad():
        n_classes = model(x[:1]).shape[-1]
    if int(y.min()) < 0 or int(y.max()) >= n_classes:
        raise ValueError(f"labels must be in [0, {n_classes - 1}] for a model with {n_classes} outputs, "
                         f"got range [{int(y.min())}, {int(y.max())}]")
    return n_classes


def gradient_masking_warnings(model: nn.Module, x: torch.Tensor, n_iter: int, n_restarts: int) -> list[str]:
    """Warnings that the evaluation may overestimate robustness.

    - the model is random (two forward passes differ): use EOT, results are not deterministic;
    - the outputs look like probabilities (softmax as last layer): gradients of the losses saturate;
    - too few iterations for an evaluation.
    """
    out = []
    with torch.no_grad():
        a, b = model(x[:8]), model(x[:8])
    if not torch.allclose(a, b, atol=1e-6):
        out.append("the model is randomised (two forward passes differ): attacks need EOT; robust accuracy is unreliable")
    if (a >= 0).all() and torch.allclose(a.sum(-1), torch.ones(a.shape[0], device=a.device), atol=1e-4):
        out.append("the model outputs probabilities (rows sum to 1): return logits, softmax masks the gradients")
    if n_iter < 50:
        out.append(f"only {n_iter} attack iterations: fine for monitoring, too few for a reported evaluation (use >= 100)")
    return out
