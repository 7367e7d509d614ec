"""PGD (Madry et al. 2018) for any l_p ball ∩ box: a fixed step along the ball's steepest-ascent direction.

The direction is ``ball.steepest_ascent(grad, x, sparsity)``: l_inf sign step, l_2
normalised gradient, l_1 sparse box-aware step. The paper's baselines (MAX, AVG, MSD, SAT)
use PGD with step eps/4 for l_inf and eps/3 for l_2 (``ball.pgd_step_size``), and SLIDE
for l_1 (:class:`~lpgeom.attacks.SLIDE`).

Example
-------
>>> result = PGD(LpBall("inf", 8/255), n_iter=10)(model, x, y)   # doctest: +SKIP
"""
from __future__ import annotations

import torch

from ..threats import LpBall
from .base import FixedStepAttack
from .settings import check_fraction

__all__ = ["PGD"]


class PGD(FixedStepAttack):
    """Projected gradient ascent with a fixed step along ``threat.steepest_ascent``.

    Parameters
    ----------
    threat : LpBall
        A ball with a projection.
    n_iter : int
    step_size : float, optional
        Default ``threat.pgd_step_size(n_iter)``.
    random_start : bool
    loss : {"ce", "dlr"}
    sparsity : float, optional
        Sparse (l_1) steps only: fraction of coordinates per step (default the ball's, 0.05).
    seed : int, optional
        Seeds the random start when no generator is passed.

    Shapes
    ------
    x: (B, C, H, W) in [0, 1], y: (B,) -> :class:`AttackResult`
    """

    def __init__(self, threat: LpBall, n_iter: int = 10, step_size: float | None = None, random_start: bool = False,
                 loss: str = "ce", sparsity: float | None = None, seed: int | None = None) -> None:
        super().__init__(threat, n_iter, step_size, loss, random_start, seed)
        self.sparsity = None if sparsity is None else check_fraction(sparsity, "sparsity")

    def direction(self, grad: torch.Tensor, x_cur: torch.Tensor) -> torch.Tensor:
        return self.threat.steepest_ascent(grad, x_cur, self.sparsity)
