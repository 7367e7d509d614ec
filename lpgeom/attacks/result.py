"""What every attack returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["AttackResult", "BestTracker"]


@dataclass
class AttackResult:
    """Best point found per example.

    Attributes
    ----------
    x_adv : torch.Tensor, shape (B, C, H, W)
        Highest-loss point found (inside ball and box).
    loss : torch.Tensor, shape (B,)
        Its loss (the attack's loss).
    fooled : torch.Tensor of bool, shape (B,)
        Misclassified at some iterate (then ``x_adv`` is a misclassified point).
    robust_all_iterates : torch.Tensor of bool, shape (B,)
        Correctly classified at every iterate, the start included (E-AT's statistic).
    stats : dict
        Optional per-attack statistics (e.g. MSD's choice of norm per step).
    """

    x_adv: torch.Tensor
    loss: torch.Tensor
    fooled: torch.Tensor
    robust_all_iterates: torch.Tensor
    stats: dict = field(default_factory=dict)

    @property
    def robust_accuracy(self) -> float:
        """Fraction of examples the attack did not fool."""
        return float((~self.fooled).float().mean())


class BestTracker:
    """Per-example bookkeeping shared by the fixed-step attacks: best (highest-loss) point,
    whether any iterate fooled the model, and whether every iterate was correct.

    Parameters
    ----------
    x : torch.Tensor, shape (B, ...)
        The starting points.
    loss, logits, y : torch.Tensor
        Loss (B,), logits (B, K) and labels (B,) at the start.
    """

    def __init__(self, x: torch.Tensor, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        correct = logits.argmax(1) == y
        self.robust_all, self.fooled = correct.clone(), ~correct
        self.x_best, self.loss_best = x.clone(), loss.clone()
        self._view = (-1, *[1] * (x.ndim - 1))

    @torch.no_grad()
    def update(self, x: torch.Tensor, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        correct = logits.argmax(1) == y
        self.robust_all &= correct
        self.fooled |= ~correct
        better = loss > self.loss_best
        self.x_best = torch.where(better.reshape(self._view), x, self.x_best)
        self.loss_best = torch.where(better, loss, self.loss_best)

    def result(self, **stats) -> AttackResult:
        return AttackResult(x_adv=self.x_best, loss=self.loss_best, fooled=self.fooled,
                            robust_all_iterates=self.robust_all, stats=dict(stats))
