"""APGD: Auto-PGD (Croce & Hein, ICML 2020) for l_inf and l_2, and APGD-l1 (Croce & Hein, ICML 2021).

Distances: any :class:`~lpgeom.threats.LpBall` with p in {1, 2, inf}, always intersected
with the [0, 1] box. Step size adapts at checkpoints of the iteration budget; l_inf / l_2
use momentum 0.75 and start at step 2*eps; l_1 takes sparse (top-k) steepest-ascent
steps of size eps, adapts its sparsity, and projects exactly onto ball ∩ box.

Example
-------
>>> attack = APGD(LpBall("inf", 8/255), n_iter=10)          # training preset
>>> result = attack(model, x, y)                             # doctest: +SKIP
>>> result.x_adv.shape == x.shape                            # doctest: +SKIP
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..threats import L1Ball, LpBall
from ._model_mode import eval_mode, loss_and_grad, validate_inputs
from .losses import LOSSES
from .result import AttackResult

__all__ = ["APGD", "checkpoint_schedule"]


def checkpoint_schedule(n_iter: int, shrinking: bool = True) -> list[int]:
    """Iterations after which APGD may change its step: first after max(floor(0.22 n), 1)
    steps, then (l_inf, l_2) intervals shrinking by max(floor(0.03 n), 1) down to
    max(floor(0.06 n), 1); for l_1 (``shrinking=False``) the interval stays fixed."""
    length, decrease, minimum = max(int(0.22 * n_iter), 1), max(int(0.03 * n_iter), 1), max(int(0.06 * n_iter), 1)
    if not shrinking:
        decrease = 0
    points, k = [], 0
    while k + length <= n_iter:
        k += length
        points.append(k)
        length = max(length - decrease, minimum)
    return points


def _view(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


class APGD:
    """Auto-PGD for one l_p ball intersected with the box.

    Parameters
    ----------
    threat : LpBall
        ``LinfBall``, ``L2Ball`` or ``L1Ball``.
    n_iter : int
        Iterations per run (10 for training, 100 for evaluation in the paper).
    loss : {"ce", "dlr", "ce-targeted", "dlr-targeted"}
    n_restarts : int
        Independent runs (random starts if ``random_start``); per example the best is kept.
    random_start : bool
        Start from a random point of ball ∩ box (evaluation) or at x (training).
    n_target_classes : int
        Targeted losses: attack the top ``n_target_classes`` other classes in turn.
    sparsity : float, optional
        l_1 only: initial fraction of coordinates in a step (0.05 training, 0.2 evaluation;
        default 0.05 without random start, else 0.2).
    momentum : float
        Weight of the new step in the momentum update (0.75).
    seed : int, optional
        Seed of the random starts.

    Shapes
    ------
    model(x): (B, C, H, W) -> (B, K); y: (B,) int64. Returns an :class:`AttackResult`.
    """

    def __init__(self, threat: LpBall, n_iter: int = 10, loss: str = "ce", n_restarts: int = 1,
                 random_start: bool = False, n_target_classes: int = 9, sparsity: float | None = None,
                 momentum: float = 0.75, seed: int | None = None) -> None:
        if not isinstance(threat, LpBall):
            raise ValueError(f"threat must be an LpBall, got {threat!r}")
        if threat.p not in (1.0, 2.0, math.inf):
            raise ValueError(f"APGD supports the l_1, l_2 and l_inf balls, got {threat.name}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if int(n_iter) < 1 or int(n_restarts) < 1:
            raise ValueError(f"n_iter and n_restarts must be >= 1, got {n_iter} and {n_restarts}")
        self.threat, self.n_iter, self.loss = threat, int(n_iter), loss
        self.n_restarts, self.random_start = int(n_restarts), bool(random_start)
        self.n_target_classes, self.momentum, self.seed = int(n_target_classes), float(momentum), seed
        self.sparsity = sparsity if sparsity is not None else (0.2 if random_start else 0.05)
        self.checkpoints = checkpoint_schedule(self.n_iter, shrinking=not isinstance(threat, L1Ball))

    def __repr__(self) -> str:
        return f"APGD({self.threat!r}, n_iter={self.n_iter}, loss={self.loss!r}, n_restarts={self.n_restarts})"

    # ------------------------------------------------------------------------------------
    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> AttackResult:
        validate_inputs(x, y)
        loss_fn, targeted = LOSSES[self.loss]
        generator = None
        if self.random_start:
            generator = torch.Generator(device=x.device)
            generator.manual_seed(self.seed if self.seed is not None else 0)
        with eval_mode(model):
            targets: list[torch.Tensor | None] = [None]
            if targeted:
                with torch.no_grad():
                    order = model(x).float().sort(dim=1).indices
                k = min(self.n_target_classes, order.shape[1] - 1)
                targets = [order[:, -(j + 2)] for j in range(k)]  # 2nd, 3rd, ... most likely classes
            best: AttackResult | None = None
            for target in targets:
                for _ in range(self.n_restarts):
                    start = self.threat.random_start(x, generator) if self.random_start else x
                    run = self._run(model, x, y, start, loss_fn, target)
                    best = run if best is None else _better(best, run)
        return best

    def _run(self, model, x, y, x_start, loss_fn, target) -> AttackResult:
        ball, n = self.threat, self.n_iter
        is_l1 = isinstance(ball, L1Ball)
        batch = x.shape[0]
        eps = torch.full((batch,), ball.eps, device=x.device, dtype=torch.float32)
        step = eps.clone() if is_l1 else 2 * eps
        d = x[0].numel()
        sparsity = torch.full((batch,), float(self.sparsity), device=x.device, dtype=torch.float32)
        support_old = torch.full((batch,), float(d), device=x.device)  # l_1: ||x_best - x||_0 at the last checkpoint

        x_cur = x_start.detach()
        loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, target)
        correct = logits.argmax(1) == y
        robust_all = correct.clone()
        fooled = ~correct
        x_fool = x_cur.clone()
        x_best, loss_best, grad_best = x_cur.clone(), loss.clone(), grad.clone()
        x_prev = x_cur.clone()
        # bookkeeping for the step-size rule
        increases = torch.zeros(batch, device=x.device)
        loss_prev = loss.clone()
        loss_best_at_check = loss_best.clone()
        reduced_at_check = torch.ones(batch, dtype=torch.bool, device=x.device)
        last_check = 0
        checkpoints = set(self.checkpoints)

        for k in range(n):
            with torch.no_grad():
                direction = ball.steepest_ascent(grad, sparsity=sparsity) if is_l1 else ball.steepest_ascent(grad)
                z = ball.project(x_cur + _view(step, x_cur).to(x_cur.dtype) * direction.to(x_cur.dtype), x)
                if is_l1 or k == 0:
                    x_next = z
                else:
                    a = self.momentum
                    x_next = ball.project(x_cur + a * (z - x_cur) + (1 - a) * (x_cur - x_prev), x)
            x_prev, x_cur = x_cur, x_next
            loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, target)
            with torch.no_grad():
                correct = logits.argmax(1) == y
                robust_all &= correct
                newly = ~correct & ~fooled
                x_fool = torch.where(_view(newly, x_cur), x_cur, x_fool)
                fooled |= ~correct
                increases += (loss > loss_prev).float()
                loss_prev = loss
                improved = loss > loss_best
                x_best = torch.where(_view(improved, x_cur), x_cur, x_best)
                grad_best = torch.where(_view(improved, grad), grad, grad_best)
                loss_best = torch.where(improved, loss, loss_best)
                if k + 1 in checkpoints:
                    span = k + 1 - last_check
                    oscillating = increases <= 0.75 * span
                    stalled = ~reduced_at_check & (loss_best_at_check >= loss_best)
                    reduce = oscillating | stalled
                    reduced_at_check = reduce
                    loss_best_at_check = loss_best.clone()
                    increases.zero_()
                    last_check = k + 1
                    if is_l1:
                        # adapt the sparsity to the support of the best point; if the support
                        # shrank by more than 5%, reset the step and restart from the best point
                        support = (x_best - x).flatten(1).ne(0).sum(1).float()
                        reduce = support / support_old < 0.95
                        sparsity = (support / d / 1.5).clamp(1.0 / d, 1.0)
                        step = torch.where(reduce, eps, step / 1.5)
                        step = torch.minimum(torch.maximum(step, eps / 10), eps)
                        support_old = support
                    else:
                        step = torch.where(reduce, step / 2, step)
                    restart = _view(reduce, x_cur)
                    x_cur = torch.where(restart, x_best, x_cur)
                    x_prev = torch.where(restart, x_best, x_prev)
                    grad = torch.where(_view(reduce, grad), grad_best, grad)
        x_fool = torch.where(_view(fooled, x_best), x_fool, x_best)
        return AttackResult(x_adv=x_best, loss=loss_best, fooled=fooled, robust_all_iterates=robust_all,
                            stats={"x_fooling": x_fool})


def _better(a: AttackResult, b: AttackResult) -> AttackResult:
    """Per example: prefer a fooling run, then the higher loss."""
    take_b = (b.fooled & ~a.fooled) | ((b.fooled == a.fooled) & (b.loss > a.loss))
    v = _view(take_b, a.x_adv)
    fool_a, fool_b = a.stats.get("x_fooling", a.x_adv), b.stats.get("x_fooling", b.x_adv)
    return AttackResult(
        x_adv=torch.where(v, b.x_adv, a.x_adv), loss=torch.where(take_b, b.loss, a.loss),
        fooled=a.fooled | b.fooled, robust_all_iterates=a.robust_all_iterates & b.robust_all_iterates,
        stats={"x_fooling": torch.where(_view(b.fooled & ~a.fooled, fool_a), fool_b, fool_a)},
    )
