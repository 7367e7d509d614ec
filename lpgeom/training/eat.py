"""E-AT (Croce & Hein 2022) over any union of l_p balls, SAT as its uniform case, and calibrated sampling.

E-AT attacks each batch with one norm, drawn with probability proportional to that norm's
running robust error, so training costs one attack per batch whatever the number of
norms. The paper trains on l_1 + l_inf (registered as ``"eat"``); :class:`EAT` takes any
:class:`~lpgeom.threats.ThreatUnion`. SAT (Madaan et al. 2021) draws the norm uniformly and
uses the paper's baseline attacks: ``SAT(threats)`` is ``EAT`` with ``sampling="uniform"``.

Beyond the paper (``"eat-calibrated"``): the running robust errors come from the weak
training attack (APGD, 10 steps) and can misjudge a norm, e.g. when fine-tuning an
l_inf-robust model, whose l_1 error a stronger attack finds much higher. With an
:class:`EATCalibration`, every ``every`` steps a stronger attack per norm measures the
robust errors on the first ``n_points`` examples of the batch, and the norm is drawn from
those; ``p_floor`` keeps each norm's probability at or above a floor.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch

from ..attacks import APGD
from ..utils import check_bool, check_integer, check_real
from ..threats import MAX_ITERATIONS, LpBall, ThreatUnion
from .baselines import baseline_attack
from .registry import register_scheme
from .schemes import (AttackSteps, Scheme, SingleNormAT, StepContext, SwitchAt, all_reduce_sum, check_attack,
                      cross_entropy, robust_error, run_attack)
from .stats import StepStats

if TYPE_CHECKING:
    from ..attacks import Attack

__all__ = ["EAT", "SAT", "EATCalibration", "Sampling"]

Sampling = Literal["adaptive", "uniform"]


@dataclass(frozen=True)
class EATCalibration:
    """E-AT's sampling from robust errors measured by a stronger attack (beyond the paper).

    Attributes
    ----------
    every : int
        Measure at every step whose global step is a multiple of this (step 0 included), >= 1.
    n_points : int
        Examples measured: the first ``n_points`` of that step's batch (fewer if the batch is smaller), >= 1.
    n_iter : int
        Steps of the measuring attack, ``APGD(ball, n_iter, random_start=random_start)`` per norm, in [1, 1e9].
    random_start : bool
    attacks : mapping of ball name to Attack, optional
        Measuring attacks replacing the default APGD for the balls they name (names checked
        against the union by :class:`EAT`).

    Raises
    ------
    TypeError
        A count that is not an integer, ``random_start`` not a bool, ``attacks`` not a
        mapping of ball names to callables.
    ValueError
        A count out of range.
    """

    every: int = 200
    n_points: int = 128
    n_iter: int = 100
    random_start: bool = True
    attacks: Mapping[str, Attack] | None = None

    def __post_init__(self):
        for name in ("every", "n_points", "n_iter"):
            high = MAX_ITERATIONS if name == "n_iter" else None
            object.__setattr__(self, name, check_integer(getattr(self, name), f"EATCalibration {name}", 1, high))
        object.__setattr__(self, "random_start", check_bool(self.random_start, "EATCalibration random_start"))
        if self.attacks is not None:
            if not isinstance(self.attacks, Mapping):
                raise TypeError(f"EATCalibration attacks must map ball names to attacks, got "
                                f"{type(self.attacks).__name__}")
            for name, attack in self.attacks.items():
                check_attack(attack, f"EATCalibration attacks[{name!r}]")

    def attack(self, ball: LpBall) -> Attack:
        """The measuring attack for ``ball``."""
        if self.attacks and ball.name in self.attacks:
            return self.attacks[ball.name]
        return APGD(ball, n_iter=self.n_iter, random_start=self.random_start)

    def describe(self) -> dict:
        out = {"every": self.every, "n_points": self.n_points, "n_iter": self.n_iter, "random_start": self.random_start}
        if self.attacks:
            out["attacks given for"] = sorted(self.attacks)
        return out


class EAT(Scheme):
    """E-AT: multiple-norm adversarial training at the cost of one norm (Croce & Hein 2022).

    One norm per batch, drawn with probability proportional to its running robust error
    ``rerr_j = 1 - correct_j / seen_j``, where the counts are cumulative over the whole run
    (never reset) and a point counts as correct only if it is correct at every iterate of
    the attack. Before every norm has been seen, the draw is uniform. Only the drawn norm's
    counts are updated. Counts are summed over DDP ranks, and every rank draws the same norm
    (same seeded generator, same counts).

    Parameters
    ----------
    threats : ThreatUnion
        The norms to train against (the paper: l_1 and l_inf, in that order).
    n_iter : int or AttackSteps
        Steps of the default attacks, ``APGD(ball, n_iter)`` per ball.
    attacks : sequence of Attack, optional
        One per ball, in the union's order; replaces the default attacks.
    sampling : {"adaptive", "uniform"}
        ``"uniform"``: every norm with the same probability (SAT).
    calibration : EATCalibration, optional
        Draw from robust errors measured by a stronger attack instead of the running counts.
    p_floor : float or mapping of ball name to float
        Lower bound of each norm's probability (one number: the same for every norm):
        ``p = floor + (1 - sum(floor)) * p_errors``.

    Raises
    ------
    TypeError
        A threats argument that is not a ThreatUnion, attacks that are not callable, a
        ``p_floor`` that is not a number or a mapping of numbers, a ``calibration`` that is
        not an EATCalibration.
    ValueError
        A wrong number of attacks, an unknown sampling, floors outside [0, 1] or summing above 1 (one number: at most
        1/n for n norms), calibration attacks or floors named for balls not in the union.
    """

    name = "E-AT"

    def __init__(self, threats: ThreatUnion, n_iter: int | AttackSteps = 10, attacks: Sequence[Attack] | None = None,
                 sampling: Sampling = "adaptive", calibration: EATCalibration | None = None,
                 p_floor: float | Mapping[str, float] = 0.0) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"{type(self).__name__} trains on a ThreatUnion, got {threats!r}")
        if sampling not in ("adaptive", "uniform"):
            raise ValueError(f"sampling must be 'adaptive' or 'uniform', got {sampling!r}")
        if calibration is not None and sampling != "adaptive":
            raise ValueError("calibration sets the probabilities of adaptive sampling; sampling='uniform' takes none")
        if calibration is not None and not isinstance(calibration, EATCalibration):
            raise TypeError(f"calibration must be an EATCalibration, got {calibration!r}")
        if calibration is not None and calibration.attacks:
            unknown = sorted(set(calibration.attacks) - set(threats.names))
            if unknown:
                raise ValueError(f"calibration attacks name {unknown}, not balls of this union "
                                 f"({', '.join(threats.names)})")
        self.threats, self.balls, self.sampling, self.calibration = threats, tuple(threats), sampling, calibration
        self.steps = AttackSteps.of(n_iter) if attacks is None else None  # None: attacks given by the caller
        if attacks is None:
            attacks = [APGD(ball, n_iter=self.steps.for_ball(ball)) for ball in self.balls]
        self.attacks = tuple(check_attack(a, f"attacks[{i}]") for i, a in enumerate(attacks))
        if len(self.attacks) != len(self.balls):
            raise ValueError(f"{len(self.attacks)} attacks given for {len(self.balls)} balls ({', '.join(threats.names)})")
        self.floor = self._floors(p_floor)
        n = len(self.balls)
        self.counts = torch.zeros(n, 2, dtype=torch.float64)  # per ball: robust-correct, seen
        self.calibrated = torch.full((n,), math.nan, dtype=torch.float64)  # measured robust errors (nan: not yet)
        self._calibration_attacks = tuple(calibration.attack(b) for b in self.balls) if calibration else ()

    def _floors(self, p_floor: float | Mapping[str, float]) -> torch.Tensor:
        n = len(self.balls)
        if isinstance(p_floor, Mapping):
            unknown = sorted(set(p_floor) - set(self.threats.names), key=str)
            if unknown:
                raise ValueError(f"p_floor names {unknown}, not balls of this union ({', '.join(self.threats.names)})")
            floor = [check_real(p_floor.get(b.name, 0.0), f"p_floor[{b.name!r}]", 0.0, 1.0) for b in self.balls]
            if sum(floor) > 1.0 + 1e-12:
                raise ValueError(f"the floors of p_floor must sum to at most 1, got {p_floor!r} (sum {sum(floor):g})")
        else:
            floor = [check_real(p_floor, "p_floor", 0.0, 1.0 / n + 1e-12)] * n
            floor = [min(f, 1.0 / n) for f in floor]
        return torch.tensor(floor, dtype=torch.float64)

    def _error_probabilities(self) -> torch.Tensor:
        """Probabilities proportional to the robust errors (calibrated ones if measured), float64 (n,) on the CPU."""
        n = len(self.balls)
        uniform = torch.full((n,), 1 / n, dtype=torch.float64)
        if self.calibration is not None and not torch.isnan(self.calibrated).any():
            rerr = self.calibrated
        else:
            counts = self.counts.cpu()
            correct, seen = counts[:, 0], counts[:, 1]
            if (seen == 0).any():
                return uniform
            rerr = 1 - correct / seen
        total = rerr.sum()
        return uniform if total <= 0 else rerr / total

    def probabilities(self) -> torch.Tensor:
        """Sampling probabilities of the balls, in the union's order: float64 tensor (n,) on the CPU."""
        n = len(self.balls)
        if self.sampling == "uniform":
            return torch.full((n,), 1 / n, dtype=torch.float64)
        p = self._error_probabilities()
        if self.floor.any():
            p = self.floor + (1 - self.floor.sum()) * p
        return p

    def _draw(self, p: torch.Tensor, generator: torch.Generator) -> int:
        if self.sampling == "uniform":
            return int(torch.randint(len(self.balls), (1,), generator=generator))
        return int(torch.multinomial(p.float(), 1, generator=generator))

    def _calibrate(self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext) -> None:
        """Measure every ball's robust error with the calibration attacks on the first points of the batch."""
        k = min(self.calibration.n_points, len(y))
        xs, ys = x[:k], y[:k]
        wrong = torch.stack([(~run_attack(attack, ctx, xs, ys).robust_all_iterates).sum().to(torch.float64)
                             for attack in self._calibration_attacks])
        seen = torch.tensor(float(k), dtype=torch.float64, device=wrong.device)
        totals = all_reduce_sum(torch.cat([wrong, seen.reshape(1)]))
        self.calibrated = (totals[:-1] / totals[-1]).cpu()

    def training_loss(self, model, x, y, ctx):
        if self.calibration is not None and ctx.global_step % self.calibration.every == 0:
            self._calibrate(x, y, ctx)
        p = self.probabilities()
        j = self._draw(p, ctx.generator)
        ball = self.balls[j]
        result = run_attack(self.attacks[j], ctx, x, y)
        robust = result.robust_all_iterates
        local = torch.stack([robust.sum().to(torch.float64), torch.tensor(float(len(y)), dtype=torch.float64,
                                                                           device=robust.device)])
        self.counts = self.counts.to(robust.device)
        self.counts[j] += all_reduce_sum(local)
        rerr = 1 - self.counts[:, 0] / self.counts[:, 1].clamp_min(1)
        names = self.threats.names
        stats = StepStats(norm=ball.name, p={name: p[i] for i, name in enumerate(names)},
                          rerr={name: rerr[i] for i, name in enumerate(names)},
                          batch_rerr={ball.name: robust_error(result)})
        if self.calibration is not None:
            stats.extra.update({f"calibrated_rerr_{name}": self.calibrated[i] for i, name in enumerate(names)})
        return cross_entropy(model, result.x_adv, y), stats

    def state_dict(self):
        state = {"counts": self.counts.detach().cpu().clone()}
        if self.calibration is not None:
            state["calibrated"] = self.calibrated.clone()
        return state

    def load_state_dict(self, state):
        """Restore the counts (and calibrated errors); a state that cannot come from a run is refused.

        Raises
        ------
        TypeError
            Entries that are not tensors.
        ValueError
            Other keys, shapes that do not fit the union, counts that are negative, not finite
            or with more robust points than seen, calibrated errors outside [0, 1] (NaN: not
            measured yet).
        """
        name = type(self).__name__
        expected = {"counts", "calibrated"} if self.calibration is not None else {"counts"}
        if set(state) != expected:
            raise ValueError(f"{name} state needs keys {sorted(expected)}, got {sorted(state)}")
        for key in expected:
            if not isinstance(state[key], torch.Tensor):
                raise TypeError(f"{name} state[{key!r}] must be a tensor, got {type(state[key]).__name__}")
        counts = state["counts"].detach().to("cpu", torch.float64)
        if counts.shape != self.counts.shape:
            raise ValueError(f"{name} counts of shape {tuple(counts.shape)} do not fit "
                             f"{len(self.balls)} balls (expected {tuple(self.counts.shape)})")
        if not (torch.isfinite(counts).all() and (counts >= 0).all() and (counts[:, 0] <= counts[:, 1]).all()):
            raise ValueError(f"{name} counts must be finite, >= 0, with robust <= seen per ball, got {counts.tolist()}")
        calibrated = None
        if self.calibration is not None:
            calibrated = state["calibrated"].detach().to("cpu", torch.float64)
            measured = calibrated[~torch.isnan(calibrated)]
            if calibrated.shape != self.calibrated.shape or not ((measured >= 0) & (measured <= 1)).all():
                raise ValueError(f"{name} calibrated errors must be {len(self.balls)} values in [0, 1] (NaN: not "
                                 f"measured yet), got {calibrated.tolist()}")
        self.counts = counts.clone()
        if calibrated is not None:
            self.calibrated = calibrated.clone()

    def describe(self):
        out = {"scheme": self.name, **{f"eps_{b.name}": b.eps for b in self.balls}}
        out["n_iter"] = self.steps.describe() if self.steps is not None else "attacks given"
        if self.sampling != "adaptive":
            out["sampling"] = self.sampling
        if self.calibration is not None:
            out["calibration"] = self.calibration.describe()
        if self.floor.any():
            out["p_floor"] = {b.name: float(f) for b, f in zip(self.balls, self.floor)}
        return out


class SAT(EAT):
    """SAT (Madaan et al. 2021): one norm per batch, drawn uniformly; the paper's baseline attacks.

    E-AT with ``sampling="uniform"``; the default attacks are
    :func:`~lpgeom.training.baselines.baseline_attack` (PGD, SLIDE for l_1).
    """

    name = "SAT"

    def __init__(self, threats: ThreatUnion, n_iter: int | AttackSteps = 10, attacks: Sequence[Attack] | None = None
                 ) -> None:
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"SAT needs a ThreatUnion, got {threats!r}")
        steps = AttackSteps.of(n_iter)
        super().__init__(threats, sampling="uniform",
                         attacks=attacks or [baseline_attack(ball, steps.for_ball(ball)) for ball in threats])
        self.steps = steps if attacks is None else None


def _paper_pair(threats: ThreatUnion) -> ThreatUnion:
    """The paper's E-AT norms, l_1 then l_inf (the order of recorded runs' draws and counts)."""
    return ThreatUnion([threats["L1"], threats["Linf"]])


@register_scheme("eat", label="E-AT (l_1 + l_inf)", cost="single", norms=("L1", "Linf"))
def _eat(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None,
         p_floor: float | Mapping[str, float] = 0.0) -> Scheme:
    return EAT(_paper_pair(threats), n_iter=AttackSteps.of(n_iter, l1_steps), p_floor=p_floor)


@register_scheme("eat-calibrated", label="E-AT, calibrated sampling", cost="single", norms=("L1", "Linf"))
def _eat_calibrated(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None,
                    p_floor: float | Mapping[str, float] = 0.0,
                    calibration: EATCalibration | None = None) -> Scheme:
    return EAT(_paper_pair(threats), n_iter=AttackSteps.of(n_iter, l1_steps), p_floor=p_floor,
               calibration=calibration or EATCalibration())


@register_scheme("eat-all", label="E-AT (all norms)", cost="single")
def _eat_all(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None,
             p_floor: float | Mapping[str, float] = 0.0) -> Scheme:
    return EAT(threats, n_iter=AttackSteps.of(n_iter, l1_steps), p_floor=p_floor)


@register_scheme("sat", label="SAT", cost="single")
def _sat(threats: ThreatUnion, n_iter: int = 10) -> Scheme:
    return SAT(threats, n_iter=n_iter)


@register_scheme("l2-eat", label="l_2-init. E-AT", cost="single", norms=("L2", "L1", "Linf"))
def _l2_eat(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None,
            switch_epoch: int | None = None) -> Scheme:
    if switch_epoch is None:
        raise ValueError("the l2-eat scheme needs switch_epoch (the paper switches at epoch 45 of 80)")
    steps = AttackSteps.of(n_iter, l1_steps)
    return SwitchAt(SingleNormAT(threats["L2"], n_iter=steps.for_ball(threats["L2"])),
                    EAT(_paper_pair(threats), n_iter=steps), switch_epoch)
