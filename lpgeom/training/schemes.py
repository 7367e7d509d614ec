"""Training schemes as small strategy objects that share one training loop.

A scheme turns a clean batch into the loss to minimise: it attacks the model (in eval
mode, BatchNorm frozen) and evaluates the loss on the adversarial points in train mode.
It reports per-norm statistics and keeps whatever running state it needs (E-AT's robust
error counts) as tensors, saved in checkpoints.

Schemes: :class:`NaturalTraining`, :class:`SingleNormAT`, :class:`EAT` (the paper's
l_1 + l_inf training), :class:`SwitchAt` (e.g. l_2-AT, then E-AT), and the baselines
:class:`MaxAT`, :class:`AvgAT` (Tramèr & Boneh), :class:`MSDAT` (Maini et al.),
:class:`SAT` (Madaan et al.).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..attacks import APGD, MSD, PGD, SLIDE, AttackResult
from ..threats import L1Ball, LinfBall, LpBall, ThreatUnion

__all__ = ["Scheme", "StepContext", "NaturalTraining", "SingleNormAT", "EAT", "SwitchAt", "MaxAT", "AvgAT", "MSDAT",
           "SAT", "baseline_attack", "all_reduce_sum"]

Attack = Callable[[nn.Module, torch.Tensor, torch.Tensor], AttackResult]


@dataclass
class StepContext:
    """What a scheme may need to know about the current step."""

    epoch: int
    global_step: int
    generator: torch.Generator  # seeded from (run seed, global step): reproducible and resumable
    attack_model: nn.Module  # the bare model (not the DDP wrapper) for attacks


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over the ranks of the default process group (identity without one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def _ce(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.cross_entropy(model(x).float(), y, reduction=reduction)


def baseline_attack(ball: LpBall, n_iter: int = 10) -> Attack:
    """The paper's attacks for the MAX/AVG/SAT baselines: PGD (l_inf eps/4, l_2 eps/3), SLIDE for l_1."""
    return SLIDE(ball, n_iter) if isinstance(ball, L1Ball) else PGD(ball, n_iter)


class Scheme:
    """Base class: ``training_loss(model, x, y, ctx) -> (loss, stats)``."""

    name = "scheme"

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
                      ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got keys {sorted(state)}")

    def describe(self) -> dict:
        return {"scheme": self.name}


class NaturalTraining(Scheme):
    """Standard training on clean inputs."""

    name = "natural"

    def training_loss(self, model, x, y, ctx):
        return _ce(model, x, y), {}


def _robust_error(result: AttackResult) -> float:
    return float((~result.robust_all_iterates).float().mean())


class SingleNormAT(Scheme):
    """Adversarial training against one l_p ball (APGD, 10 steps, no random start by default)."""

    def __init__(self, ball: LpBall, attack: Attack | None = None, n_iter: int = 10) -> None:
        self.ball = ball
        self.attack = attack or APGD(ball, n_iter=n_iter)
        self.name = f"{ball.name}-AT"

    def training_loss(self, model, x, y, ctx):
        result = self.attack(ctx.attack_model, x, y)
        return _ce(model, result.x_adv, y), {f"rerr_{self.ball.name}": _robust_error(result)}

    def describe(self):
        return {"scheme": self.name, "eps": self.ball.eps}


class EAT(Scheme):
    """E-AT: l_1 + l_inf adversarial training at the cost of one norm (Croce & Hein 2022).

    One norm per batch, drawn with probability proportional to its running robust error
    ``rerr_j = 1 - correct_j / seen_j``, where the counts are cumulative over the whole run
    (never reset) and a point counts as correct only if it is correct at every iterate of
    the attack. Before both norms have been seen, each has probability 1/2. Only the drawn
    norm's counts are updated. Counts are summed over DDP ranks, and every rank draws the
    same norm (same seeded generator, same counts).
    """

    name = "E-AT"

    def __init__(self, l1: L1Ball, linf: LinfBall, n_iter: int | Sequence[int] = 10,
                 attacks: Sequence[Attack] | None = None) -> None:
        if not isinstance(l1, L1Ball) or not isinstance(linf, LinfBall):
            raise ValueError(f"E-AT trains on an L1Ball and a LinfBall, got {l1!r} and {linf!r}")
        steps = (n_iter, n_iter) if isinstance(n_iter, int) else tuple(n_iter)
        self.balls = (l1, linf)
        self.attacks = tuple(attacks) if attacks else (APGD(l1, n_iter=steps[0]), APGD(linf, n_iter=steps[1]))
        self.counts = torch.zeros(2, 2, dtype=torch.float64)  # rows: l1, linf; columns: robust-correct, seen

    def probabilities(self) -> torch.Tensor:
        """Sampling probabilities (l1, linf) from the current counts, shape (2,)."""
        correct, seen = self.counts[:, 0], self.counts[:, 1]
        if (seen == 0).any():
            return torch.full((2,), 0.5, dtype=torch.float64)
        rerr = 1 - correct / seen
        total = rerr.sum()
        return torch.full((2,), 0.5, dtype=torch.float64) if total <= 0 else rerr / total

    def training_loss(self, model, x, y, ctx):
        p = self.probabilities()
        j = int(torch.multinomial(p.float(), 1, generator=ctx.generator))
        result = self.attacks[j](ctx.attack_model, x, y)
        local = torch.tensor([float(result.robust_all_iterates.sum()), float(len(y))], dtype=torch.float64)
        self.counts[j] += all_reduce_sum(local.to(x.device)).cpu()
        rerr = 1 - self.counts[:, 0] / self.counts[:, 1].clamp_min(1)
        stats = {"norm": self.balls[j].name, "p_L1": float(p[0]), "p_Linf": float(p[1]),
                 "rerr_L1": float(rerr[0]), "rerr_Linf": float(rerr[1]),
                 f"batch_rerr_{self.balls[j].name}": _robust_error(result)}
        return _ce(model, result.x_adv, y), stats

    def state_dict(self):
        return {"counts": self.counts.clone()}

    def load_state_dict(self, state):
        self.counts = state["counts"].to(torch.float64).clone()

    def describe(self):
        return {"scheme": self.name, "eps_L1": self.balls[0].eps, "eps_Linf": self.balls[1].eps}


class SwitchAt(Scheme):
    """Use ``first`` before ``epoch`` and ``then`` from it on (the paper's l_2-init then E-AT)."""

    def __init__(self, first: Scheme, then: Scheme, epoch: int) -> None:
        if epoch < 0:
            raise ValueError(f"switch epoch must be >= 0, got {epoch}")
        self.first, self.then, self.epoch = first, then, int(epoch)
        self.name = f"{first.name}->{then.name}@{epoch}"

    def training_loss(self, model, x, y, ctx):
        scheme = self.first if ctx.epoch < self.epoch else self.then
        loss, stats = scheme.training_loss(model, x, y, ctx)
        return loss, {**stats, "phase": scheme.name}

    def state_dict(self):
        return {**{f"first.{k}": v for k, v in self.first.state_dict().items()},
                **{f"then.{k}": v for k, v in self.then.state_dict().items()}}

    def load_state_dict(self, state):
        self.first.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("first.")})
        self.then.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("then.")})

    def describe(self):
        return {"scheme": "switch", "first": self.first.describe(), "then": self.then.describe(), "epoch": self.epoch}


class _AllNorms(Scheme):
    def __init__(self, threats: ThreatUnion, n_iter: int = 10, attacks: Sequence[Attack] | None = None) -> None:
        if not isinstance(threats, ThreatUnion):
            raise ValueError(f"{type(self).__name__} needs a ThreatUnion, got {threats!r}")
        self.threats = threats
        self.attacks = tuple(attacks) if attacks else tuple(baseline_attack(b, n_iter) for b in threats)

    def _adversarial(self, ctx, x, y):
        return [attack(ctx.attack_model, x, y) for attack in self.attacks]

    def describe(self):
        return {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.threats}}


class MaxAT(_AllNorms):
    """MAX (Tramèr & Boneh 2019): all attacks, train on the per-example highest loss."""

    name = "MAX"

    def training_loss(self, model, x, y, ctx):
        results = self._adversarial(ctx, x, y)
        losses = torch.stack([_ce(model, r.x_adv, y, "none") for r in results])  # (n_norms, B)
        best, which = losses.max(0)
        stats = {f"rerr_{b.name}": _robust_error(r) for b, r in zip(self.threats, results)}
        stats.update({f"share_{b.name}": float((which == i).float().mean()) for i, b in enumerate(self.threats)})
        return best.mean(), stats


class AvgAT(_AllNorms):
    """AVG (Tramèr & Boneh 2019): all attacks, train on the average loss."""

    name = "AVG"

    def training_loss(self, model, x, y, ctx):
        results = self._adversarial(ctx, x, y)
        loss = torch.stack([_ce(model, r.x_adv, y) for r in results]).mean()
        return loss, {f"rerr_{b.name}": _robust_error(r) for b, r in zip(self.threats, results)}


class SAT(_AllNorms):
    """SAT (Madaan et al. 2021): one norm per batch, drawn uniformly."""

    name = "SAT"

    def training_loss(self, model, x, y, ctx):
        j = int(torch.randint(len(self.attacks), (1,), generator=ctx.generator))
        result = self.attacks[j](ctx.attack_model, x, y)
        ball = list(self.threats)[j]
        return _ce(model, result.x_adv, y), {"norm": ball.name, f"batch_rerr_{ball.name}": _robust_error(result)}


class MSDAT(Scheme):
    """MSD training (Maini et al. 2020): the per-step best of the three steepest-ascent steps."""

    name = "MSD"

    def __init__(self, threats: ThreatUnion, n_iter: int = 10) -> None:
        self.threats = threats
        self.attack = MSD(threats, n_iter=n_iter)

    def training_loss(self, model, x, y, ctx):
        result = self.attack(ctx.attack_model, x, y)
        total = max(sum(result.stats["chosen"].values()), 1)
        stats = {f"share_{k}": v / total for k, v in result.stats["chosen"].items()}
        stats["rerr_union"] = _robust_error(result)
        return _ce(model, result.x_adv, y), stats

    def describe(self):
        return {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.threats}}

