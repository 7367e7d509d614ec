"""SLIDE: the l_1 PGD of Tramèr & Boneh (NeurIPS 2019), the l_1 attack of the paper's MAX/AVG/MSD/SAT baselines.

Per step: zero the gradient coordinates that would push out of the [0, 1] box, keep the
coordinates whose ``|g|`` is at or above the ``percentile``-th percentile, step along their
signs (normalised to unit l_1 norm), then project exactly onto ball ∩ box. The step is the
l_1 ball's box-aware sparse ascent, ``ball.steepest_ascent(grad, x, sparsity=1 - percentile/100)``.
"""
from __future__ import annotations

import torch

from ..utils import check_real
from ..threats import LpBall
from .base import FixedStepAttack

__all__ = ["SLIDE", "slide_sparsity"]


def slide_sparsity(percentile: float) -> float:
    """The fraction of coordinates SLIDE keeps at ``percentile`` (99 -> 0.01); ``ValueError`` outside (0, 100),
    ``TypeError`` for a value that is not a number."""
    return 1.0 - check_real(percentile, "percentile", 0.0, 100.0, low_open=True, high_open=True) / 100.0


class SLIDE(FixedStepAttack):
    """Sparse l_1 descent (Tramèr & Boneh 2019).

    Parameters
    ----------
    threat : LpBall
        A ball with a sparse steepest-ascent rule (``threat.apgd.adaptive_sparsity``: the l_1 ball).
    n_iter : int
    step_size : float, optional
        Default ``threat.pgd_step_size(n_iter)`` (``2.5 * eps / n_iter``).
    percentile : float
        Keep coordinates with ``|g|`` at or above this percentile (99).
    loss : {"ce", "dlr"}
    random_start : bool
    seed : int, optional

    Shapes
    ------
    x: (B, C, H, W) in [0, 1], y: (B,) -> :class:`AttackResult`
    """

    def __init__(self, threat: LpBall, n_iter: int = 10, step_size: float | None = None, percentile: float = 99.0,
                 loss: str = "ce", random_start: bool = False, seed: int | None = None) -> None:
        if isinstance(threat, LpBall) and not threat.apgd.adaptive_sparsity:
            raise ValueError(f"SLIDE takes sparse steps and needs a ball with a sparse ascent rule (the L1Ball), "
                             f"got {threat!r}")
        super().__init__(threat, n_iter, step_size, loss, random_start, seed)
        self.percentile, self.sparsity = float(percentile), slide_sparsity(percentile)

    def direction(self, grad: torch.Tensor, x_cur: torch.Tensor) -> torch.Tensor:
        return self.threat.steepest_ascent(grad, x_cur, self.sparsity)
