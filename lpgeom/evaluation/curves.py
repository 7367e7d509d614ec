"""Robustness curves: robust accuracy as a function of eps for one norm (the paper's Figure 1)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..attacks import APGD
from ..attacks._model_mode import eval_mode
from ..threats import LpBall

__all__ = ["RobustnessCurve", "robustness_curve"]


@dataclass
class RobustnessCurve:
    """Robust accuracy at each radius (non-increasing by construction)."""

    norm: str
    eps: list[float]
    accuracy: list[float]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"eps": self.eps, "robust_accuracy": self.accuracy, "norm": self.norm})

    def plot(self, ax=None, label: str | None = None):
        """Draw on a matplotlib axes (created if None); returns the axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.5))[1]
        ax.plot(self.eps, [100 * a for a in self.accuracy], marker="o", label=label)
        ax.set_xlabel(f"eps ({self.norm})")
        ax.set_ylabel("robust accuracy (%)")
        ax.grid(alpha=0.3)
        return ax


def robustness_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, eps_grid: Sequence[float],
                     n_iter: int = 50, seed: int = 0) -> RobustnessCurve:
    """Robust accuracy of ``model`` for ``ball``'s norm at every radius of ``eps_grid``.

    Radii are attacked in increasing order, only on points still robust at the previous
    radius (a point broken at eps stays broken at larger eps), with APGD-CE then APGD-DLR.

    Returns
    -------
    RobustnessCurve
    """
    grid = sorted(float(e) for e in eps_grid)
    if not grid or grid[0] <= 0:
        raise ValueError(f"eps_grid must hold positive radii, got {list(eps_grid)}")
    accuracy = []
    with eval_mode(model):
        with torch.no_grad():
            robust = model(x).argmax(1) == y
        for eps in grid:
            idx = robust.nonzero().squeeze(1)
            for loss in ("ce", "dlr"):
                if len(idx) == 0:
                    break
                result = APGD(ball.with_eps(eps), n_iter=n_iter, loss=loss, seed=seed)(model, x[idx], y[idx])
                robust[idx[result.fooled]] = False
                idx = robust.nonzero().squeeze(1)
            accuracy.append(float(robust.float().mean()))
    return RobustnessCurve(ball.name, grid, accuracy)
