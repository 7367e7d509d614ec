"""What every attack returns, and the per-example bookkeeping the fixed-step attacks share."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .model_mode import raise_if_nonfinite

__all__ = ["AttackResult", "BestTracker", "classified_correctly"]


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
        Misclassified at the clean point or at some iterate (then ``stats["x_fooling"]`` is a
        misclassified point of the threat model).
    robust_all_iterates : torch.Tensor of bool, shape (B,)
        Correctly classified at every iterate, the start included (E-AT's statistic).
    stats : dict
        ``"x_fooling"``: (B, C, H, W) a misclassified point where ``fooled``, else ``x_adv``;
        and per-attack statistics (e.g. MSD's choice of norm per step, as tensors).
    """

    x_adv: torch.Tensor
    loss: torch.Tensor
    fooled: torch.Tensor
    robust_all_iterates: torch.Tensor
    stats: dict = field(default_factory=dict)

    @property
    def robust_accuracy(self) -> float:
        """Fraction of examples the attack did not fool (reads the device: use outside loops)."""
        return float((~self.fooled).float().mean())


def classified_correctly(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(correct, finite)``, both (B,) bool; a row with non-finite logits counts as correct, never as fooled."""
    finite = torch.isfinite(logits).all(1)
    return (logits.argmax(1) == y) | ~finite, finite


class BestTracker:
    """Per-example bookkeeping of the fixed-step attacks, without host synchronisation.

    Keeps the best (highest-loss) point, the last misclassified iterate, whether any iterate
    fooled the model, whether every iterate was correct, and whether any logits were not finite.

    Parameters
    ----------
    x : torch.Tensor, shape (B, ...)
        The starting points.
    loss, logits, y : torch.Tensor
        Loss (B,), logits (B, K) and labels (B,) at the start.
    clean_wrong : torch.Tensor of bool, shape (B,), optional
        Misclassified at the clean point (when the start is a random point): counted as fooled.
    x_clean : torch.Tensor, shape (B, ...), optional
        The clean points (the fooling point of ``clean_wrong`` examples).
    """

    def __init__(self, x: torch.Tensor, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor,
                 clean_wrong: torch.Tensor | None = None, x_clean: torch.Tensor | None = None) -> None:
        self._view = (-1, *[1] * (x.ndim - 1))
        correct, finite = classified_correctly(logits, y)
        self.nonfinite = ~finite
        self.robust_all, self.fooled = correct.clone(), ~correct
        self.x_best, self.loss_best = x.clone(), loss.clone()
        self.x_fool = x.clone()
        if clean_wrong is not None:
            self.x_fool = torch.where((clean_wrong & correct).reshape(self._view), x_clean, self.x_fool)
            self.fooled |= clean_wrong
            self.robust_all &= ~clean_wrong

    @torch.no_grad()
    def update(self, x: torch.Tensor, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Record one iterate; returns the (B,) bool mask of examples whose best point it became."""
        correct, finite = classified_correctly(logits, y)
        self.nonfinite |= ~finite
        self.robust_all &= correct
        self.x_fool = torch.where((~correct).reshape(self._view), x, self.x_fool)
        self.fooled |= ~correct
        better = loss > self.loss_best
        self.x_best = torch.where(better.reshape(self._view), x, self.x_best)
        self.loss_best = torch.where(better, loss, self.loss_best)
        return better

    def result(self, **stats) -> AttackResult:
        """The :class:`AttackResult`; raises ``ValueError`` if the model returned non-finite logits."""
        raise_if_nonfinite(self.nonfinite)
        x_fooling = torch.where(self.fooled.reshape(self._view), self.x_fool, self.x_best)
        return AttackResult(x_adv=self.x_best, loss=self.loss_best, fooled=self.fooled,
                            robust_all_iterates=self.robust_all, stats={"x_fooling": x_fooling, **stats})
