"""The paper's multiple-norm baselines: MAX and AVG (Tramèr & Boneh 2019), MSD (Maini et al. 2020).

MAX and AVG attack every norm on every batch (one attack per norm), with the paper's
baseline attacks (:func:`baseline_attack`: PGD, and SLIDE for l_1). MSD runs one joint
attack that tries a step of every norm at each iteration; its l_1 step is SLIDE's, as the
paper ran it (``"msd"``), or Maini et al.'s top-k step by the explicit name
``"msd-topk"``. MAX and MSD report which norm gave the highest loss (MAX) or was chosen at
each step (MSD) as ``share_<name>`` per batch: the paper's Figure 3. SAT, the uniform case
of E-AT, is in :mod:`lpgeom.training.eat`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from ..attacks import MSD, PGD, SLIDE
from ..threats import L1Ball, LpBall, ThreatUnion
from .registry import register_scheme
from .schemes import AttackSteps, Scheme, check_attack, cross_entropy, robust_error, run_attack
from .stats import StepStats

if TYPE_CHECKING:
    from ..attacks import Attack

__all__ = ["MaxAT", "AvgAT", "MSDAT", "baseline_attack", "BASELINE_ATTACKS"]

# The fixed-step attack the paper's baselines use per kind of ball (Tramèr & Boneh's SLIDE for l_1);
# a ball type not listed gets PGD with its own steepest-ascent step. A new ball may add its entry.
BASELINE_ATTACKS: dict[type[LpBall], Callable[[LpBall, int], Attack]] = {L1Ball: SLIDE}


def baseline_attack(ball: LpBall, n_iter: int = 10) -> Attack:
    """The paper's attack for the MAX/AVG/SAT baselines: PGD (l_inf eps/4, l_2 eps/3), SLIDE for l_1."""
    return BASELINE_ATTACKS.get(type(ball), PGD)(ball, n_iter)


class _AllNorms(Scheme):
    """Base of MAX and AVG: one attack per ball of the union on every batch."""

    def __init__(self, threats: ThreatUnion, n_iter: int | AttackSteps = 10, attacks: Sequence[Attack] | None = None
                 ) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"{type(self).__name__} needs a ThreatUnion, got {threats!r}")
        self.threats = threats
        self.steps = AttackSteps.of(n_iter) if attacks is None else None  # None: attacks given by the caller
        self.attacks = (tuple(check_attack(a, f"attacks[{i}]") for i, a in enumerate(attacks)) if attacks
                        else tuple(baseline_attack(b, self.steps.for_ball(b)) for b in threats))
        if len(self.attacks) != len(threats):
            raise ValueError(f"{len(self.attacks)} attacks given for {len(threats)} balls ({', '.join(threats.names)})")

    def _adversarial(self, ctx, x, y):
        return [run_attack(attack, ctx, x, y) for attack in self.attacks]

    def describe(self):
        return {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.threats},
                "n_iter": self.steps.describe() if self.steps is not None else "attacks given"}


class MaxAT(_AllNorms):
    """MAX (Tramèr & Boneh 2019): all attacks, train on the per-example highest loss.

    Statistics: ``rerr_<name>`` per ball and ``share_<name>``, the fraction of the batch
    whose highest loss came from that ball.
    """

    name = "MAX"

    def training_loss(self, model, x, y, ctx):
        results = self._adversarial(ctx, x, y)
        losses = torch.stack([cross_entropy(model, r.x_adv, y, "none") for r in results])  # (n_norms, B)
        best, which = losses.max(0)
        names = self.threats.names
        stats = StepStats(rerr={n: robust_error(r) for n, r in zip(names, results)},
                          share={n: (which == i).float().mean() for i, n in enumerate(names)})
        return best.mean(), stats


class AvgAT(_AllNorms):
    """AVG (Tramèr & Boneh 2019): all attacks, train on the average loss."""

    name = "AVG"

    def training_loss(self, model, x, y, ctx):
        results = self._adversarial(ctx, x, y)
        loss = torch.stack([cross_entropy(model, r.x_adv, y) for r in results]).mean()
        return loss, StepStats(rerr={n: robust_error(r) for n, r in zip(self.threats.names, results)})


class MSDAT(Scheme):
    """MSD training (Maini et al. 2020): per step, the best of the steepest-ascent steps of every norm.

    Statistics: ``share_<name>``, the fraction of (example, iteration) pairs where MSD kept
    that norm's step, and ``rerr_union``, the fraction of the batch wrong at some iterate.

    Parameters
    ----------
    threats : ThreatUnion
    n_iter : int
    l1_step : {"slide", "topk"}
        MSD's sparse step: SLIDE's (the paper's MSD) or Maini et al.'s top-k variant.
    attack : Attack, optional
        Replaces the default ``MSD(threats, n_iter=n_iter, l1_step=l1_step)``; it must
        report ``result.stats["chosen"]``, counts per ball name.
    """

    name = "MSD"

    def __init__(self, threats: ThreatUnion, n_iter: int = 10, l1_step: str = "slide", attack: Attack | None = None
                 ) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"MSDAT needs a ThreatUnion, got {threats!r}")
        self.threats = threats
        self.n_iter, self.l1_step = (n_iter, l1_step) if attack is None else (None, None)  # None: attack given
        self.attack = MSD(threats, n_iter=n_iter, l1_step=l1_step) if attack is None else check_attack(attack)

    def training_loss(self, model, x, y, ctx):
        result = run_attack(self.attack, ctx, x, y)
        chosen = {name: torch.as_tensor(count, dtype=torch.float64) for name, count in result.stats["chosen"].items()}
        total = torch.stack(list(chosen.values())).sum().clamp_min(1)
        stats = StepStats(share={name: count / total for name, count in chosen.items()},
                          extra={"rerr_union": robust_error(result)})
        return cross_entropy(model, result.x_adv, y), stats

    def describe(self):
        if self.n_iter is None:
            return {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.threats}, "n_iter": "attack given"}
        out = {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.threats}, "n_iter": self.n_iter}
        if self.l1_step != "slide":
            out["l1_step"] = self.l1_step
        return out


def _all_norms(cls: type[Scheme]):
    def build(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None) -> Scheme:
        return cls(threats, n_iter=AttackSteps.of(n_iter, l1_steps))

    return build


register_scheme("max", label="MAX", cost="all-norms")(_all_norms(MaxAT))
register_scheme("avg", label="AVG", cost="all-norms")(_all_norms(AvgAT))


@register_scheme("msd", label="MSD", cost="all-norms")
def _msd(threats: ThreatUnion, n_iter: int = 10) -> Scheme:
    return MSDAT(threats, n_iter=n_iter)


@register_scheme("msd-topk", label="MSD (Maini et al.'s top-k l_1 step)", cost="all-norms")
def _msd_topk(threats: ThreatUnion, n_iter: int = 10) -> Scheme:
    return MSDAT(threats, n_iter=n_iter, l1_step="topk")
