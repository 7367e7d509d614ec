"""MSD: multi steepest descent (Maini et al., ICML 2020) over a union of l_p balls, as Croce & Hein ran it.

Per iteration one gradient and one candidate step per ball: ``ball.steepest_ascent(grad,
x, sparsity)`` of size ``ball.pgd_step_size(n_iter)``, projected onto that ball ∩ box; per
example the candidate with the highest loss is kept (one extra forward pass of all
candidates). With the paper's union (l_inf, l_2, l_1) the candidates are the l_inf sign
step (eps/4), the l_2 normalised step (eps/3) and, for l_1, SLIDE's step (box-aware,
coordinates at or above the 99th percentile of ``|g|``, 2.5 eps / n): Croce & Hein write
that Maini et al.'s own l_1 step "resulted in significantly worse results" and used SLIDE's.

Variant ``l1_step="topk"``: Maini et al.'s l_1 step, the box-aware signs of the ``k``
largest ``|g|`` with ``k`` drawn uniformly in ``k_range`` (5 to 20) at every step from the
attack's generator (sparse balls only; the others ignore it).

Each step's point lies in the ball whose candidate was chosen, so the result lies in the
UNION of the balls, not in each of them: an l_1 step may move one pixel by up to 1, i.e.
1/(8/255) = 32 times the l_inf radius. ``stats["ball"]`` says per example which ball holds
``x_adv`` (-1: the clean start, in every ball); ``stats["chosen"]`` counts the steps taken per
ball name (0-dim tensors on the device: the paper's Figure 3, right).
"""
from __future__ import annotations

import torch
from torch import nn

from ..threats import ThreatUnion
from .base import require_projection
from .losses import cross_entropy
from .model_mode import check_model_input, eval_mode, loss_and_grad, resolve_generator, validate_attack_inputs
from .precision import project_to, working_dtype
from .result import AttackResult, BestTracker
from .settings import check_count, check_generator, check_positive, check_seed
from .slide import slide_sparsity

__all__ = ["MSD", "L1_STEPS"]

L1_STEPS = ("slide", "topk")


class MSD:
    """Multi steepest descent over a :class:`~lpgeom.threats.ThreatUnion`.

    Parameters
    ----------
    threats : ThreatUnion
        Balls with projections (the paper: l_inf, l_2, l_1).
    n_iter : int
    step_sizes : dict, optional
        ``{ball name: step}`` overriding ``ball.pgd_step_size(n_iter)`` (eps/4, eps/3, 2.5 eps / n).
    l1_step : {"slide", "topk"}
        The sparse step: SLIDE's (the paper's MSD) or Maini et al.'s top-k variant.
    percentile : float
        ``"slide"``: keep coordinates at or above this percentile of ``|g|`` (99).
    k_range : tuple of int
        ``"topk"``: number of coordinates drawn uniformly in this closed range per step.
    seed : int, optional
        Seeds the ``"topk"`` draws when no generator is passed.

    Shapes
    ------
    ``attack(model, x, y, *, generator=None)``: x (B, C, H, W) in [0, 1], y (B,) ->
    :class:`AttackResult` with ``stats["chosen"]`` ({name: 0-dim long tensor}) and
    ``stats["ball"]`` ((B,) long, index into ``threats``; -1 for the clean point).
    """

    def __init__(self, threats: ThreatUnion, n_iter: int = 10, step_sizes: dict[str, float] | None = None,
                 l1_step: str = "slide", percentile: float = 99.0, k_range: tuple[int, int] = (5, 20),
                 seed: int | None = 0) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"MSD needs a ThreatUnion of balls, got {threats!r} ({type(threats).__name__})")
        for ball in threats:
            require_projection(ball, "MSD")
        if l1_step not in L1_STEPS:
            raise ValueError(f"l1_step must be one of {', '.join(L1_STEPS)}, got {l1_step!r}")
        if not (isinstance(k_range, (tuple, list)) and len(k_range) == 2
                and all(isinstance(k, int) and not isinstance(k, bool) for k in k_range) and 1 <= k_range[0] <= k_range[1]):
            raise ValueError(f"k_range must be two integers 1 <= low <= high, got {k_range!r}")
        if step_sizes is not None and not isinstance(step_sizes, dict):
            raise TypeError(f"step_sizes must be a dict {{ball name: step}} or None, got {type(step_sizes).__name__}")
        unknown = set(step_sizes or {}) - set(threats.names)
        if unknown:
            raise ValueError(f"step_sizes names balls not in the union: {sorted(unknown)}; it has {', '.join(threats.names)}")
        self.threats, self.n_iter, self.seed = threats, check_count(n_iter, "n_iter"), check_seed(seed)
        self.l1_step, self.k_range = l1_step, (int(k_range[0]), int(k_range[1]))
        self.percentile, self.slide_sparsity = float(percentile), slide_sparsity(percentile)
        self.step_sizes = {b.name: check_positive(b.pgd_step_size(self.n_iter), f"{b.name}.pgd_step_size")
                           for b in threats}
        self.step_sizes.update({name: check_positive(v, f"step_sizes[{name!r}]") for name, v in (step_sizes or {}).items()})

    def __repr__(self) -> str:
        return f"MSD({self.threats!r}, n_iter={self.n_iter}, l1_step={self.l1_step!r})"

    def _sparsity(self, d: int, generator: torch.Generator, device: torch.device) -> float | torch.Tensor:
        if self.l1_step == "slide":
            return self.slide_sparsity
        k = torch.randint(self.k_range[0], self.k_range[1] + 1, (), generator=generator, device=device)
        return (k.float() - 0.5) / d  # int((1 - s) d) = d - k: exactly the k largest (ties kept)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> AttackResult:
        y = validate_attack_inputs(x, y)
        check_model_input(model, x, same_device=True)
        check_generator(generator, x.device)
        x = x.detach()
        if self.l1_step == "topk" and self.k_range[1] > x[0].numel():
            raise ValueError(f"k_range={self.k_range} asks for up to {self.k_range[1]} coordinates per step but an "
                             f"example has {x[0].numel()}")
        gen = resolve_generator(generator, self.seed, x.device)
        balls = list(self.threats)
        steps = [self.step_sizes[b.name] for b in balls]
        ids = torch.arange(len(balls), device=x.device)
        chosen = torch.zeros(len(balls), dtype=torch.long, device=x.device)
        ball_of_best = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
        view = (-1, *[1] * (x.ndim - 1))
        d, work = x[0].numel(), working_dtype(x)
        channels_last = x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        layout = torch.channels_last if channels_last else torch.contiguous_format
        with eval_mode(model):
            x_cur = x
            loss, grad, logits = loss_and_grad(model, x_cur, y, cross_entropy, None, check=True)
            best = BestTracker(x_cur, loss, logits, y)
            for k in range(self.n_iter):
                with torch.no_grad():
                    sparsity = self._sparsity(d, gen, x.device)
                    candidates = torch.stack([
                        project_to(ball, x_cur.to(work) + step * ball.steepest_ascent(grad, x_cur, sparsity).to(work), x)
                        for ball, step in zip(balls, steps)])  # (m, B, ...)
                    cand_loss = cross_entropy(model(candidates.flatten(0, 1)), y.repeat(len(balls)))
                    pick = cand_loss.reshape(len(balls), -1).argmax(0)  # (B,)
                    chosen += (pick[None, :] == ids[:, None]).sum(1)
                    x_cur = candidates.gather(0, pick.reshape(1, *view).expand(1, *x.shape))[0].contiguous(
                        memory_format=layout)  # the stack and gather lose a channels_last layout
                loss, grad, logits = loss_and_grad(model, x_cur, y, cross_entropy, None, need_grad=k < self.n_iter - 1)
                better = best.update(x_cur, loss, logits, y)
                ball_of_best = torch.where(better, pick, ball_of_best)
        return best.result(chosen={b.name: c for b, c in zip(balls, chosen.unbind())}, ball=ball_of_best)
