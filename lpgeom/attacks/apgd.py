"""APGD: Auto-PGD (Croce & Hein, ICML 2020) for l_inf and l_2, and APGD-l_1 (Croce & Hein, ICML 2021).

Every rule follows AutoAttack's reference (``pyautoattack.autopgd_base.APGDAttack``) and,
without a random start, the authors' training APGD (``autopgd_train.py`` of
fra31/robust-finetuning); the per-norm settings are read from the ball (``ball.apgd``,
:class:`~lpgeom.threats.APGDRule`), so APGD never asks which norm it attacks:

- start: ``x``, or ``ball.random_start(x)`` (AutoAttack's rule per norm);
- step: ``step_factor * eps`` at first (2 eps for l_inf / l_2, eps for l_1) along
  ``ball.steepest_ascent(grad, sparsity=...)``, then the projection onto ball ∩ box, then
  (momentum rules) ``P(x + a (z - x) + (1 - a) (x - x_prev))`` with a = 0.75 from the
  second step on;
- checkpoints: the first after ``max(int(first_check * n), 1)`` iterations (0.22 n for
  l_inf / l_2, 0.04 n for l_1), later intervals shrinking by ``max(int(0.03 n), 1)`` to
  ``max(int(0.06 n), 1)`` (l_inf / l_2) or fixed (l_1);
- at a checkpoint, smooth rule: halve the step and restart from the best point where the
  loss increased in at most 75 % of the steps since the last checkpoint (the first step is
  compared with 0, as the reference does), or where the step was not halved last time and
  the best loss did not improve; the momentum term keeps the pre-step point of the last
  iteration;
- at a checkpoint, sparse rule (l_1): sparsity = ``||x_best - x||_0 / d / 1.5``; where
  that support shrank by more than 5 % the step resets to ``step_factor * eps`` and the
  attack restarts from the best point, elsewhere the step is divided by 1.5, kept in
  ``[eps/10, eps] * step_factor``; initial sparsity 0.2 with a random start (AutoAttack),
  0.05 without (the authors' training code);
- best point: the iterate of highest loss (strictly higher replaces); fooled: misclassified
  at the clean point, at the start or at any iterate; ``stats["x_fooling"]`` is the last
  misclassified iterate; targets: the 2nd, 3rd, ... most likely classes at the clean point;
  per example the best of all runs (a fooling run first, then the higher loss).

Deliberate differences from the reference:

- the radius is rounded down to the batch's dtype where rounding to nearest would enlarge
  it (float32(3/255) lies above 3/255): l_inf iterates can differ from AutoAttack's by one
  float32 ulp, with the same losses and verdicts (tests/attacks/test_apgd_equivalence.py);
- the l_2 step is projected EXACTLY onto ball ∩ box (AutoAttack rescales onto the ball
  and then clips, a feasible point that is not the closest one);
- restarts and target classes run on the whole batch (AutoAttack runs them only on the
  points not yet fooled): the same robust accuracy without host synchronisation, and the
  random draws of later restarts differ;
- a point misclassified at the clean input is counted as fooled but still attacked
  (AutoAttack skips it); a model with non-finite logits is refused with ``ValueError``;
- the l_1 support ``||x_best - x||_0`` is the true support. AutoAttack composes its l_1
  iterates (and its random start) as ``(x + delta_u) + delta_p``; where its projection
  returns a coordinate to ``x`` this leaves a float rounding residue of about 1e-8, so its
  count includes about half of the coordinates ever moved (about half the image after the
  Gaussian start) and its next sparsity is larger. Reproducing that composition made
  lpgeom's trajectories AutoAttack's, but its points then left the ball by the residues
  (l_1 norm 1.5000253 for eps = 1.5); measured on the l_inf-AT Fashion-MNIST model of
  ``benchmarks/bench_apgd_equivalence.py`` (l_1 radius 12, 100 iterations, seeds 0 and 1)
  the robust accuracy is the same with and without it (13.1 / 12.5 % both).
  ``tests/attacks/test_apgd_equivalence.py`` compares with AutoAttack's support counted
  above 1e-6, and then the trajectories agree;
- the last iterate's gradient is not computed (as in the authors' training code);
- the random start draws from a ``torch.Generator`` on ``x``'s device (the passed one or
  one seeded from ``seed``), not from the global generator; AutoAttack's l_1 schedule of
  growing radii (``use_largereps``) is not implemented here.

Example
-------
>>> attack = APGD(LpBall("inf", 8/255), n_iter=10)          # training preset
>>> result = attack(model, x, y)                             # doctest: +SKIP
>>> result.x_adv.shape == x.shape                            # doctest: +SKIP
"""
from __future__ import annotations

import torch
from torch import nn

from ..threats import APGDRule, LpBall
from .base import require_projection
from .losses import LOSSES
from .model_mode import (check_logits, check_model_input, eval_mode, loss_and_grad, raise_if_nonfinite,
                         resolve_generator, validate_attack_inputs)
from .precision import random_start_in, round_toward, working_dtype
from .result import AttackResult, classified_correctly
from .settings import check_count, check_flag, check_fraction, check_generator, check_seed, target_count

__all__ = ["APGD", "checkpoint_schedule"]

_OSCILLATION = 0.75  # rho: the step halves where the loss increased in at most this fraction of the steps
_SUPPORT_DROP = 0.95  # sparse rule: a support ratio below this resets the step
_SPARSITY_SLACK = 1.5  # sparse rule: new sparsity = support / d / 1.5; and the step divisor
_MIN_STEP_FRACTION = 10.0  # sparse rule: the step stays >= initial step / 10


def checkpoint_schedule(n_iter: int, first_check: float = 0.22, shrinking: bool = True) -> list[int]:
    """Iterations after which APGD may change its step (``n_iter`` in [1, 1e9], ``first_check`` in (0, 1]).

    The first after ``max(int(first_check * n), 1)`` steps; with ``shrinking`` each later
    interval is ``max(int(0.03 n), 1)`` shorter, down to ``max(int(0.06 n), 1)``; without,
    they all have the first length.

    Examples
    --------
    >>> checkpoint_schedule(100)
    [22, 41, 57, 70, 80, 87, 93, 99]
    >>> checkpoint_schedule(100, first_check=0.04, shrinking=False)[:3]
    [4, 8, 12]
    """
    n_iter = check_count(n_iter, "checkpoint_schedule n_iter")
    first_check = check_fraction(first_check, "checkpoint_schedule first_check")
    length = max(int(first_check * n_iter), 1)
    decrease = max(int(0.03 * n_iter), 1) if shrinking else 0
    minimum = max(int(0.06 * n_iter), 1) if shrinking else length
    points, k = [], 0
    while k + length <= n_iter:
        k += length
        points.append(k)
        length = max(length - decrease, minimum)
    return points


def _checked_rule(threat: LpBall) -> APGDRule:
    """The ball's APGD rule; an :class:`~lpgeom.threats.APGDRule` checks its own settings when built."""
    rule = threat.apgd
    if not isinstance(rule, APGDRule):
        raise TypeError(f"the {threat.name} ball's apgd must be an APGDRule (lpgeom.threats), got "
                        f"{type(rule).__name__}")
    return rule


def _view(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


class APGD:
    """Auto-PGD for one l_p ball intersected with the box.

    Parameters
    ----------
    threat : LpBall
        A ball with a projection; its ``apgd`` rule sets steps, momentum and checkpoints.
    n_iter : int
        Iterations per run (10 for training, 100 for evaluation in the paper).
    loss : {"ce", "dlr", "ce-targeted", "dlr-targeted"}
    n_restarts : int
        Independent runs (random starts if ``random_start``); per example the best is kept.
    random_start : bool
        Start from ``threat.random_start(x)`` (evaluation) or at x (training).
    n_target_classes : int, optional
        Targeted losses: attack the top ``n_target_classes`` other classes in turn (default
        ``threat.autoattack_target_classes``: 9, or 5 for l_1).
    sparsity : float, optional
        Sparse rules only: initial fraction of coordinates in a step (default
        ``threat.apgd.sparsity_eval`` = 0.2 with a random start, else ``sparsity_train`` = 0.05).
    seed : int, optional
        Seeds the random starts when no generator is passed.

    Shapes
    ------
    ``attack(model, x, y, *, generator=None)``: model(x): (B, C, H, W) -> (B, K); y: (B,)
    integer labels. Returns an :class:`AttackResult`.
    """

    def __init__(self, threat: LpBall, n_iter: int = 10, loss: str = "ce", n_restarts: int = 1,
                 random_start: bool = False, n_target_classes: int | None = None, sparsity: float | None = None,
                 seed: int | None = None) -> None:
        self.threat = require_projection(threat, "APGD")
        if not isinstance(loss, str) or loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        self.n_iter, self.n_restarts = check_count(n_iter, "n_iter"), check_count(n_restarts, "n_restarts")
        self.targets_given = n_target_classes is not None
        self.n_target_classes = check_count(
            threat.autoattack_target_classes if n_target_classes is None else n_target_classes, "n_target_classes")
        rule = _checked_rule(threat)
        self.loss, self.random_start, self.seed = loss, check_flag(random_start, "random_start"), check_seed(seed)
        default = rule.sparsity_eval if self.random_start else rule.sparsity_train
        self.sparsity = check_fraction(default if sparsity is None else sparsity, "sparsity")
        self.checkpoints = checkpoint_schedule(self.n_iter, rule.first_check, rule.shrinking_checks)

    def __repr__(self) -> str:
        return f"APGD({self.threat!r}, n_iter={self.n_iter}, loss={self.loss!r}, n_restarts={self.n_restarts})"

    # ------------------------------------------------------------------------------------
    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> AttackResult:
        y = validate_attack_inputs(x, y)
        check_model_input(model, x, same_device=True)
        check_generator(generator, x.device)
        x = x.detach()
        loss_fn, targeted = LOSSES[self.loss]
        gen = resolve_generator(generator, self.seed, x.device) if self.random_start else None
        with eval_mode(model):
            clean_wrong, targets = None, [None]
            if self.random_start or targeted:
                with torch.no_grad():
                    clean_logits = model(x)
                check_logits(clean_logits, y)
                clean_wrong = clean_logits.argmax(1) != y
                if targeted:
                    order = clean_logits.float().sort(dim=1).indices
                    k = target_count(self.n_target_classes if self.targets_given else None,
                                     self.threat.autoattack_target_classes, order.shape[1])
                    targets = [order[:, -(j + 2)] for j in range(k)]  # 2nd, 3rd, ... most likely classes
            best: AttackResult | None = None
            for target in targets:
                for _ in range(self.n_restarts):
                    start = random_start_in(self.threat, x, gen) if self.random_start else x
                    run = self._run(model, x, y, start, loss_fn, target)
                    best = run if best is None else _better(best, run)
        raise_if_nonfinite(best.stats.pop("nonfinite"))
        if clean_wrong is not None:  # misclassified at x: fooled, x itself a fooling point unless one was found
            fool_point = torch.where(_view(clean_wrong & ~best.fooled, x), x, best.stats["x_fooling"])
            best = AttackResult(x_adv=best.x_adv, loss=best.loss, fooled=best.fooled | clean_wrong,
                                robust_all_iterates=best.robust_all_iterates & ~clean_wrong,
                                stats={"x_fooling": fool_point})
        return best

    def _run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_start: torch.Tensor, loss_fn,
             target: torch.Tensor | None) -> AttackResult:
        ball, n = self.threat, self.n_iter
        rule = ball.apgd
        batch, d, work = x.shape[0], x[0].numel(), working_dtype(x)
        x_work = x.to(work)  # x itself for float32/float64 batches
        full_step = rule.step_factor * ball.eps
        step = torch.full((batch,), full_step, device=x.device, dtype=torch.float32)
        a = rule.new_step_weight
        sparsity = torch.full((batch,), float(self.sparsity), device=x.device, dtype=torch.float32)
        support_old = torch.full((batch,), float(d), device=x.device)

        x_cur = x_start.detach()
        loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, target, check=True)
        correct, finite = classified_correctly(logits, y)
        nonfinite, robust_all, fooled = ~finite, correct.clone(), ~correct
        x_fool = x_cur.clone()
        x_best, loss_best, grad_best = x_cur.clone(), loss.clone(), grad.clone()
        x_prev = x_cur.clone()
        increases = torch.zeros(batch, device=x.device)
        loss_prev = torch.zeros_like(loss)  # the reference compares the first step's loss with 0
        loss_best_at_check = loss_best.clone()
        reduced_at_check = torch.ones(batch, dtype=torch.bool, device=x.device)
        last_check = 0
        checkpoints = set(self.checkpoints)

        for k in range(n):
            with torch.no_grad():
                direction = ball.steepest_ascent(grad, sparsity=sparsity)  # APGD-l_1's step ignores the box
                xc = x_cur.to(work)
                z = ball.project(xc + (_view(step, x_cur) * direction).to(work), x_work)
                if a < 1 and k > 0:
                    z = ball.project(xc + a * (z - xc) + (1 - a) * (xc - x_prev.to(work)), x_work)
                x_next = round_toward(z, x)
            x_prev, x_cur = x_cur, x_next
            last = k == n - 1
            loss, new_grad, logits = loss_and_grad(model, x_cur, y, loss_fn, target, need_grad=not last)
            with torch.no_grad():
                grad = grad if last else new_grad
                correct, finite = classified_correctly(logits, y)
                nonfinite |= ~finite
                robust_all &= correct
                x_fool = torch.where(_view(~correct, x_cur), x_cur, x_fool)
                fooled |= ~correct
                increases += (loss > loss_prev).float()
                loss_prev = loss
                improved = loss > loss_best
                x_best = torch.where(_view(improved, x_cur), x_cur, x_best)
                grad_best = torch.where(_view(improved, grad), grad, grad_best)
                loss_best = torch.where(improved, loss, loss_best)
                if k + 1 in checkpoints and not last:
                    if rule.adaptive_sparsity:
                        support = (x_best - x).flatten(1).ne(0).sum(1).float()
                        restart = support / support_old < _SUPPORT_DROP
                        sparsity = support / d / _SPARSITY_SLACK
                        step = torch.where(restart, torch.full_like(step, full_step), step / _SPARSITY_SLACK)
                        step = step.clamp(full_step / _MIN_STEP_FRACTION, full_step)
                        support_old = support
                    else:
                        oscillating = increases <= _OSCILLATION * (k + 1 - last_check)
                        stalled = ~reduced_at_check & (loss_best_at_check >= loss_best)
                        restart = oscillating | stalled
                        reduced_at_check = restart
                        loss_best_at_check = loss_best.clone()
                        step = torch.where(restart, step / 2, step)
                    increases.zero_()
                    last_check = k + 1
                    x_cur = torch.where(_view(restart, x_cur), x_best, x_cur)
                    grad = torch.where(_view(restart, grad), grad_best, grad)
        x_fool = torch.where(_view(fooled, x_best), x_fool, x_best)
        return AttackResult(x_adv=x_best, loss=loss_best, fooled=fooled, robust_all_iterates=robust_all,
                            stats={"x_fooling": x_fool, "nonfinite": nonfinite})


def _better(a: AttackResult, b: AttackResult) -> AttackResult:
    """Per example: prefer a fooling run, then the higher loss (its best point and its fooling point, which is
    its best point where it did not fool)."""
    take_b = (b.fooled & ~a.fooled) | ((b.fooled == a.fooled) & (b.loss > a.loss))
    v = _view(take_b, a.x_adv)
    return AttackResult(
        x_adv=torch.where(v, b.x_adv, a.x_adv), loss=torch.where(take_b, b.loss, a.loss),
        fooled=a.fooled | b.fooled, robust_all_iterates=a.robust_all_iterates & b.robust_all_iterates,
        stats={"x_fooling": torch.where(v, b.stats["x_fooling"], a.stats["x_fooling"]),
               "nonfinite": a.stats["nonfinite"] | b.stats["nonfinite"]},
    )
