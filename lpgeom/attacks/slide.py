"""SLIDE: the l_1 PGD of Tramèr & Boneh (NeurIPS 2019), the l_1 attack of the paper's MAX/AVG/MSD/SAT baselines.

Per step: zero the gradient coordinates that would push out of the [0, 1] box, keep the
coordinates whose |g| is above the ``percentile``-th percentile, step along their signs
(normalised to unit l_1 norm), then project exactly onto ball ∩ box.
"""
from __future__ import annotations

import torch
from torch import nn

from ..threats import L1Ball
from .pgd import run_fixed_step_attack
from .result import AttackResult

__all__ = ["SLIDE", "slide_direction"]


def slide_direction(grad: torch.Tensor, x_cur: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """Sparse, box-aware l_1 ascent direction with unit l_1 norm: (B, ...) -> (B, ...)."""
    g = grad.clone()
    g[((g > 0) & (x_cur >= 1)) | ((g < 0) & (x_cur <= 0))] = 0  # moves the box forbids
    flat = g.flatten(1)
    thresh = torch.quantile(flat.abs().float(), percentile / 100.0, dim=1, keepdim=True)
    keep = (flat.abs() >= thresh) & (flat != 0)
    direction = flat.sign() * keep
    return (direction / keep.sum(1, keepdim=True).clamp_min(1)).reshape(grad.shape)


class SLIDE:
    """Sparse l_1 descent (Tramèr & Boneh 2019).

    Parameters
    ----------
    threat : L1Ball
    n_iter : int
    step_size : float, optional
        Default ``2.5 * eps / n_iter``.
    percentile : float
        Keep coordinates with ``|g|`` at or above this percentile (99).

    Shapes
    ------
    x: (B, C, H, W) in [0, 1], y: (B,) -> :class:`AttackResult`
    """

    def __init__(self, threat: L1Ball, n_iter: int = 10, step_size: float | None = None, percentile: float = 99.0) -> None:
        if not isinstance(threat, L1Ball):
            raise ValueError(f"SLIDE attacks an L1Ball, got {threat!r}")
        if not 0 < percentile < 100:
            raise ValueError(f"percentile must be in (0, 100), got {percentile}")
        self.threat, self.n_iter, self.percentile = threat, int(n_iter), float(percentile)
        self.step_size = float(step_size) if step_size is not None else 2.5 * threat.eps / self.n_iter

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> AttackResult:
        return run_fixed_step_attack(model, x, y, self.threat, self.n_iter, self.step_size,
                                     lambda g, xc: slide_direction(g, xc, self.percentile))
