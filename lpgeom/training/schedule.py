"""Piecewise-constant learning-rate schedules, evaluated at every iteration (as the official code does)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PiecewiseLR"]


@dataclass(frozen=True)
class PiecewiseLR:
    """``lr * factor**j`` after the j-th milestone; milestones are fractions of training in (0, 1).

    Examples
    --------
    >>> s = PiecewiseLR(0.05, milestones=(1/3, 2/3))      # fine-tuning: lr, lr/10, lr/100 per third
    >>> [round(s(t / 9), 6) for t in range(9)]
    [0.05, 0.05, 0.05, 0.005, 0.005, 0.005, 0.0005, 0.0005, 0.0005]
    """

    lr: float
    milestones: Sequence[float] = ()
    factor: float = 0.1

    def __post_init__(self):
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if any(not 0 < m < 1 for m in self.milestones) or list(self.milestones) != sorted(self.milestones):
            raise ValueError(f"milestones must be increasing fractions in (0, 1), got {tuple(self.milestones)}")

    def __call__(self, progress: float) -> float:
        """Learning rate at ``progress`` = iteration / total iterations in [0, 1)."""
        passed = sum(progress >= m - 1e-12 for m in self.milestones)
        return self.lr * self.factor**passed
