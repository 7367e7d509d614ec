"""What every attack returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["AttackResult"]


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
