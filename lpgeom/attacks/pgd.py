"""PGD (Madry et al. 2018) for any l_p ball ∩ box, with a fixed step along the steepest-ascent direction.

Distances: ``LinfBall`` (sign step), ``L2Ball`` (normalised gradient), ``L1Ball`` (top-k
sparse step). The paper's baselines (MAX, AVG, MSD, SAT) use PGD with step eps/4 for l_inf
and eps/3 for l_2, and SLIDE for l_1 (:class:`~lpgeom.attacks.SLIDE`).

Example
-------
>>> result = PGD(LpBall("inf", 8/255), n_iter=10)(model, x, y)   # doctest: +SKIP
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..threats import L1Ball, LpBall
from ._model_mode import eval_mode, loss_and_grad, validate_inputs
from .losses import LOSSES
from .result import AttackResult, BestTracker

__all__ = ["PGD", "default_step_size", "run_fixed_step_attack"]


def default_step_size(threat: LpBall, n_iter: int) -> float:
    """eps/4 (l_inf), eps/3 (l_2) as in the paper's baselines; 2.5 eps / n_iter otherwise."""
    if math.isinf(threat.p):
        return threat.eps / 4
    if threat.p == 2:
        return threat.eps / 3
    return 2.5 * threat.eps / n_iter


def run_fixed_step_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, threat: LpBall, n_iter: int,
                          step_size: float, direction_fn, loss: str = "ce", start: torch.Tensor | None = None
                          ) -> AttackResult:
    """Shared loop of PGD-like attacks: ``x <- P(x + step * direction_fn(grad, x_cur))``, keeping the best point."""
    validate_inputs(x, y)
    loss_fn, targeted = LOSSES[loss]
    if targeted:
        raise ValueError("fixed-step attacks take untargeted losses ('ce' or 'dlr')")
    with eval_mode(model):
        x_cur = (x if start is None else start).detach()
        cur_loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, None)
        best = BestTracker(x_cur, cur_loss, logits, y)
        for _ in range(n_iter):
            with torch.no_grad():
                x_cur = threat.project(x_cur + step_size * direction_fn(grad, x_cur).to(x_cur.dtype), x)
            cur_loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, None)
            best.update(x_cur, cur_loss, logits, y)
    return best.result()


class PGD:
    """Projected gradient ascent with a fixed step.

    Parameters
    ----------
    threat : LpBall
        p in {1, 2, inf}.
    n_iter : int
    step_size : float, optional
        Default :func:`default_step_size`.
    random_start : bool
    loss : {"ce", "dlr"}
    sparsity : float
        l_1 only: fraction of coordinates in a step.
    seed : int, optional

    Shapes
    ------
    x: (B, C, H, W) in [0, 1], y: (B,) -> :class:`AttackResult`
    """

    def __init__(self, threat: LpBall, n_iter: int = 10, step_size: float | None = None, random_start: bool = False,
                 loss: str = "ce", sparsity: float = 0.05, seed: int | None = None) -> None:
        if not isinstance(threat, LpBall) or threat.p not in (1.0, 2.0, math.inf):
            raise ValueError(f"PGD needs an LpBall with p in {{1, 2, inf}}, got {threat!r}")
        if int(n_iter) < 1:
            raise ValueError(f"n_iter must be >= 1, got {n_iter}")
        self.threat, self.n_iter, self.loss, self.sparsity = threat, int(n_iter), loss, sparsity
        self.step_size = float(step_size) if step_size is not None else default_step_size(threat, self.n_iter)
        self.random_start, self.seed = random_start, seed

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> AttackResult:
        start = None
        if self.random_start:
            gen = torch.Generator(device=x.device)
            gen.manual_seed(self.seed or 0)
            start = self.threat.random_start(x, gen)
        kwargs = {"sparsity": self.sparsity} if isinstance(self.threat, L1Ball) else {}
        return run_fixed_step_attack(model, x, y, self.threat, self.n_iter, self.step_size,
                                     lambda g, _: self.threat.steepest_ascent(g, **kwargs), self.loss, start)
