"""MSD: multi steepest descent (Maini et al., ICML 2020) over a union of l_1, l_2, l_inf balls.

Per iteration one gradient; three candidate steps (l_inf sign step, l_2 normalised step,
l_1 top-k step with k drawn in [5, 20] and box-aware), each projected onto its own ball ∩
box; per example the candidate with the highest loss is kept (three extra forward passes).
The result counts which norm each step chose (the paper's Figure 3, right).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..threats import L1Ball, ThreatUnion
from ._model_mode import eval_mode, loss_and_grad, validate_inputs
from .losses import cross_entropy
from .pgd import default_step_size
from .result import AttackResult, BestTracker
from .slide import slide_direction

__all__ = ["MSD"]


def _topk_box_aware(grad: torch.Tensor, x_cur: torch.Tensor, k: int) -> torch.Tensor:
    g = grad.clone()
    g[((g > 0) & (x_cur >= 1)) | ((g < 0) & (x_cur <= 0))] = 0
    flat = g.flatten(1)
    idx = flat.abs().topk(k, dim=1).indices
    direction = torch.zeros_like(flat).scatter(1, idx, flat.gather(1, idx).sign())
    return (direction / direction.abs().sum(1, keepdim=True).clamp_min(1)).reshape(grad.shape)


class MSD:
    """Multi steepest descent over a ThreatUnion of l_inf, l_2 and l_1 balls.

    Parameters
    ----------
    threats : ThreatUnion
        Must contain an l_inf, an l_2 and an l_1 ball.
    n_iter : int
    step_sizes : dict, optional
        ``{"Linf": ..., "L2": ..., "L1": ...}``; defaults eps/4, eps/3 and eps/n_iter * 2.5.
    k_range : tuple of int
        l_1 step: number of coordinates drawn uniformly in this range.
    seed : int, optional

    Shapes
    ------
    x: (B, C, H, W) in [0, 1], y: (B,) -> :class:`AttackResult` with ``stats["chosen"]``:
    counts of steps per norm name.
    """

    def __init__(self, threats: ThreatUnion, n_iter: int = 10, step_sizes: dict[str, float] | None = None,
                 k_range: tuple[int, int] = (5, 20), seed: int | None = 0) -> None:
        if not isinstance(threats, ThreatUnion) or not all(n in threats for n in ("Linf", "L2", "L1")):
            raise ValueError("MSD needs a ThreatUnion with Linf, L2 and L1 balls")
        self.threats, self.n_iter, self.k_range, self.seed = threats, int(n_iter), k_range, seed
        self.step_sizes = {b.name: default_step_size(b, self.n_iter) for b in threats}
        self.step_sizes.update(step_sizes or {})

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> AttackResult:
        validate_inputs(x, y)
        gen = torch.Generator().manual_seed(self.seed or 0)
        balls = [self.threats["Linf"], self.threats["L2"], self.threats["L1"]]
        chosen = torch.zeros(3, dtype=torch.long, device=x.device)
        view = (-1, *[1] * (x.ndim - 1))
        with eval_mode(model):
            x_cur = x.detach()
            loss, grad, logits = loss_and_grad(model, x_cur, y, cross_entropy, None)
            best = BestTracker(x_cur, loss, logits, y)
            for _ in range(self.n_iter):
                k = int(torch.randint(self.k_range[0], self.k_range[1] + 1, (1,), generator=gen))
                with torch.no_grad():
                    candidates = []
                    for ball in balls:
                        if isinstance(ball, L1Ball):
                            d = _topk_box_aware(grad, x_cur, min(k, x[0].numel()))
                        elif math.isinf(ball.p):
                            d = grad.sign()
                        else:
                            d = ball.steepest_ascent(grad)
                        candidates.append(ball.project(x_cur + self.step_sizes[ball.name] * d.to(x.dtype), x))
                    stacked = torch.stack(candidates)  # (3, B, ...)
                    losses = torch.stack([cross_entropy(model(c), y) for c in candidates])  # (3, B)
                    pick = losses.argmax(0)
                    chosen += torch.bincount(pick, minlength=3)
                    x_cur = stacked.gather(0, pick.reshape(1, *view).expand(1, *x.shape))[0]
                loss, grad, logits = loss_and_grad(model, x_cur, y, cross_entropy, None)
                best.update(x_cur, loss, logits, y)
        return best.result(chosen={b.name: int(c) for b, c in zip(balls, chosen.tolist())})
