"""Robustness curves: robust accuracy as a function of eps for one norm (the paper's Figure 1)."""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ..attacks import APGD
from ..attacks.model_mode import eval_mode
from ..threats import LpBall
from .checks import validate_evaluation_inputs, validate_evaluation_options
from .report import FLAG
from .robustness import MIN_CLASSES, cross_check_points
from .sanity import SanityVerdict, masking_checks

__all__ = ["RobustnessCurve", "robustness_curve"]


@dataclass
class RobustnessCurve:
    """Robust accuracy at each radius (non-increasing by construction), each the exact count of robust points / N."""

    norm: str
    eps: list[float]
    accuracy: list[float]
    #: the gradient-masking sanity checks (:class:`~lpgeom.evaluation.SanityVerdict` as a dict), as for a report
    sanity: dict = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether a sanity check flagged possible gradient masking (the accuracies may be far too high)."""
        return bool(self.sanity.get("flagged"))

    def to_frame(self):
        import pandas as pd

        frame = pd.DataFrame({"eps": self.eps, "robust_accuracy": self.accuracy, "norm": self.norm})
        frame.attrs["sanity"] = SanityVerdict.from_dict(self.sanity).summary() if self.sanity else "not run"
        return frame

    def plot(self, ax=None, label: str | None = None):
        """Draw on a matplotlib axes (created if None); returns the axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.5))[1]
        if self.flagged:  # never a flagged curve without its flag
            label = f"{label or self.norm} {FLAG}"
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
    The sanity checks of :func:`evaluate_robustness` run too (zero gradients, randomness,
    probabilities once; the Square cross-check at every radius, its adversarial points
    counting); their verdict is the curve's ``sanity``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps images in [0, 1] (N, C, H, W) to logits (N, K), K >= 3 (APGD-DLR's loss).
    x : torch.Tensor, shape (N, C, H, W)
        Images in [0, 1] (float dtype, finite, N >= 1).
    y : torch.Tensor, shape (N,)
        Integer labels.
    ball : LpBall
        The norm (its radius is replaced by each of ``eps_grid``).
    eps_grid : sequence of float
        Finite positive radii, each below the radius at which the ball covers the box
        (``ball.max_radius(d)``: a radius on the 0-255 scale is refused).
    n_iter : int
    seed : int

    Returns
    -------
    RobustnessCurve

    Raises
    ------
    ValueError, TypeError
        For inputs that cannot be evaluated (one sentence naming the argument).
    """
    if not isinstance(ball, LpBall):
        raise TypeError(f"ball must be an LpBall, got {type(ball).__name__}")
    try:
        grid = sorted(float(e) for e in eps_grid)
    except (TypeError, ValueError):
        raise TypeError(f"eps_grid must be a sequence of numbers, got {eps_grid!r}") from None
    if not grid or not all(math.isfinite(e) and e > 0 for e in grid):
        raise ValueError(f"eps_grid must hold finite positive radii, got {list(eps_grid)}")
    validate_evaluation_options("apgd", ("apgd",), n_iter, {"apgd": n_iter}, 1, seed, None)
    n_classes = validate_evaluation_inputs(model, x, y, [ball.with_eps(grid[-1])])  # the largest radius: if it fits, all do
    if n_classes < MIN_CLASSES["apgd"]:
        raise ValueError(f"robustness_curve attacks with APGD-CE and APGD-DLR, which needs a model with at least "
                         f"{MIN_CLASSES['apgd']} classes; this one has {n_classes}")
    parameter = next(model.parameters(), None)
    if parameter is not None:  # the model's device, as evaluate_robustness does
        x, y = x.to(parameter.device), y.to(parameter.device)
    y = y.long()
    accuracy = []
    verdict = SanityVerdict()
    with eval_mode(model):
        with torch.no_grad():
            robust = model(x).argmax(1) == y
        masking_checks(model, x[robust], y[robust], verdict)
        for eps in grid:
            idx = robust.nonzero().squeeze(1)
            for loss in ("ce", "dlr"):
                if len(idx) == 0:
                    break
                result = APGD(ball.with_eps(eps), n_iter=n_iter, loss=loss, seed=seed)(model, x[idx], y[idx])
                robust[idx[result.fooled]] = False
                idx = robust.nonzero().squeeze(1)
            radius = ball.with_eps(eps)
            cross_check_points(model, x, y, radius, robust, seed, len(x), x.device, verdict)
            accuracy.append(int(robust.sum()) / len(robust))  # the exact count / N: a float32 mean stores 650/1000 below 0.65
    if verdict.flagged:
        warnings.warn(verdict.summary(), stacklevel=2)
    return RobustnessCurve(ball.name, grid, accuracy, sanity=verdict.to_dict())
