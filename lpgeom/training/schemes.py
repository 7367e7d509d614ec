"""Training schemes as small strategy objects that share one training loop: the base and the simple ones.

A scheme turns a clean batch into the loss to minimise: it attacks the model (in eval
mode, BatchNorm frozen) and evaluates the loss on the adversarial points in train mode.
It reports its statistics as a :class:`~lpgeom.training.stats.StepStats` (0-dim tensors
on the device, per-norm entries keyed by ``ball.name``) and keeps whatever running state
it needs as tensors, saved in checkpoints.

This module: the :class:`Scheme` base, :class:`StepContext`, :class:`NaturalTraining`,
:class:`SingleNormAT` and :class:`SwitchAt` (e.g. l_2-AT, then E-AT). E-AT and SAT are in
:mod:`lpgeom.training.eat`, MAX, AVG and MSD in :mod:`lpgeom.training.baselines`; every
scheme is registered by name in :mod:`lpgeom.training.registry`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..attacks import APGD, AttackResult
from ..geometry import check_integer
from ..threats import MAX_ITERATIONS, LpBall, ThreatUnion
from .registry import is_ball_name, register_scheme
from .stats import StepStats

if TYPE_CHECKING:
    from ..attacks import Attack

__all__ = ["Scheme", "StepContext", "NaturalTraining", "SingleNormAT", "SwitchAt", "all_reduce_sum", "cross_entropy",
           "robust_error", "AttackSteps", "run_attack", "check_attack"]

_L1_NAME = LpBall(1, 1.0).name  # the key of l1_steps in AttackSteps.per_norm


def _check_steps(steps: object, name: str) -> int:
    return check_integer(steps, name, 1, MAX_ITERATIONS)


def check_attack(attack: object, name: str = "attack") -> object:
    """``attack`` if it is callable as an attack (``attack(model, x, y, generator=...)``), else one clear TypeError."""
    if not callable(attack):
        raise TypeError(f"{name} must be an attack (a callable attack(model, x, y, generator=...)), got "
                        f"{attack!r} ({type(attack).__name__})")
    return attack



@dataclass
class StepContext:
    """What a scheme may need to know about the current step.

    Attributes
    ----------
    epoch, global_step : int
    generator : torch.Generator
        CPU generator seeded from (run seed, global step): the scheme's own draws (which norm).
    attack_model : nn.Module
        The bare model (not the DDP wrapper) for attacks.
    """

    epoch: int
    global_step: int
    generator: torch.Generator
    attack_model: nn.Module

    def attack_generator(self, device: torch.device | str) -> torch.Generator:
        """Generator for the attacks' random choices on ``device``, seeded from the step.

        On the CPU it is :attr:`generator` itself (draws continue its stream); on another
        device a generator there, seeded with ``generator``'s seed.
        """
        device = torch.device(device)
        if device.type == "cpu":
            return self.generator
        return torch.Generator(device=device).manual_seed(self.generator.initial_seed())


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over the ranks of the default process group (identity without one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of ``model`` at ``x`` (B, ...) for labels ``y`` (B,), computed in float32."""
    return F.cross_entropy(model(x).float(), y, reduction=reduction)


def robust_error(result: AttackResult) -> torch.Tensor:
    """Fraction of the batch wrong at some iterate of the attack, a 0-dim tensor (no synchronisation)."""
    return (~result.robust_all_iterates).float().mean()


@dataclass(frozen=True)
class AttackSteps:
    """Attack steps per norm: ``default`` for every ball, ``per_norm`` overrides by ball name.

    Examples
    --------
    >>> from lpgeom.threats import imagenet_threats
    >>> steps = AttackSteps(5, {"L1": 15})  # the paper's ImageNet setting
    >>> [steps.for_ball(b) for b in imagenet_threats()]
    [5, 5, 15]
    """

    default: int = 10
    per_norm: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "default", _check_steps(self.default, "n_iter"))
        if not isinstance(self.per_norm, Mapping):
            raise TypeError(f"per_norm must map ball names to attack steps, got {type(self.per_norm).__name__}")
        per_norm = {}
        for name, steps in self.per_norm.items():
            if not is_ball_name(name):
                raise ValueError(f"per_norm keys must be ball names as ball.name spells them ('L1', 'L2', 'Linf', "
                                 f"...), got {name!r}")
            per_norm[name] = _check_steps(steps, "l1_steps" if name == _L1_NAME else f"attack steps for {name}")
        object.__setattr__(self, "per_norm", per_norm)

    @classmethod
    def of(cls, n_iter: int | AttackSteps, l1_steps: int | None = None) -> AttackSteps:
        """From the CLI's and recipes' form: ``n_iter`` steps, ``l1_steps`` for the l_1 ball if given."""
        if isinstance(n_iter, AttackSteps):
            return n_iter if l1_steps is None else cls(n_iter.default, {**n_iter.per_norm, _L1_NAME: l1_steps})
        return cls(n_iter, {} if l1_steps is None else {_L1_NAME: l1_steps})

    def for_ball(self, ball: LpBall) -> int:
        """Steps for ``ball``."""
        return self.per_norm.get(ball.name, self.default)

    def describe(self) -> int | dict[str, int]:
        """JSON form: the number alone when no norm differs."""
        return self.default if not self.per_norm else {"default": self.default, **self.per_norm}


def run_attack(attack: Attack, ctx: StepContext, x: torch.Tensor, y: torch.Tensor) -> AttackResult:
    """Run ``attack`` on the step's bare model with the step's generator (reproducible and resumable)."""
    return attack(ctx.attack_model, x, y, generator=ctx.attack_generator(x.device))


class Scheme:
    """Base class: ``training_loss(model, x, y, ctx) -> (loss, stats)``.

    Subclasses set ``name`` (shown in logs and ``config.json``) and override
    :meth:`training_loss`; stateful ones override :meth:`state_dict` and
    :meth:`load_state_dict`; :meth:`describe` lists every setting that defines the run
    (it enters the resume fingerprint).
    """

    name = "scheme"

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
                      ) -> tuple[torch.Tensor, StepStats]:
        """The loss to minimise on the batch ``x`` (B, C, H, W), ``y`` (B,), and the step's statistics."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Running state as tensors (saved in checkpoints)."""
        return {}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore :meth:`state_dict`'s output."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got keys {sorted(state)}")

    def describe(self) -> dict:
        """The scheme and its settings, JSON-serialisable."""
        return {"scheme": self.name}


class NaturalTraining(Scheme):
    """Standard training on clean inputs."""

    name = "natural"

    def training_loss(self, model, x, y, ctx):
        return cross_entropy(model, x, y), StepStats()


class SingleNormAT(Scheme):
    """Adversarial training against one l_p ball (APGD, 10 steps, no random start by default).

    Parameters
    ----------
    ball : LpBall
    attack : Attack, optional
        Replaces the default ``APGD(ball, n_iter=n_iter)``.
    n_iter : int
    """

    def __init__(self, ball: LpBall, attack: Attack | None = None, n_iter: int = 10) -> None:
        if not isinstance(ball, LpBall):
            raise TypeError(f"SingleNormAT trains against an LpBall, got {ball!r}")
        self.ball, self.n_iter = ball, n_iter if attack is None else None  # None: attack given by the caller
        self.attack = APGD(ball, n_iter=n_iter) if attack is None else check_attack(attack)
        self.name = f"{ball.name}-AT"

    def training_loss(self, model, x, y, ctx):
        result = run_attack(self.attack, ctx, x, y)
        return cross_entropy(model, result.x_adv, y), StepStats(rerr={self.ball.name: robust_error(result)})

    def describe(self):
        return {"scheme": self.name, "eps": self.ball.eps,
                "n_iter": self.n_iter if self.n_iter is not None else "attack given"}


class SwitchAt(Scheme):
    """Use ``first`` before ``epoch`` and ``then`` from it on (the paper's l_2-init then E-AT)."""

    def __init__(self, first: Scheme, then: Scheme, epoch: int) -> None:
        for name, scheme in (("first", first), ("then", then)):
            if not isinstance(scheme, Scheme):
                raise TypeError(f"SwitchAt's {name} must be a Scheme, got {scheme!r} ({type(scheme).__name__})")
        epoch = check_integer(epoch, "switch_epoch", 0)
        self.first, self.then, self.epoch = first, then, epoch
        self.name = f"{first.name}->{then.name}@{epoch}"

    def training_loss(self, model, x, y, ctx):
        scheme = self.first if ctx.epoch < self.epoch else self.then
        loss, stats = scheme.training_loss(model, x, y, ctx)
        return loss, stats.replace(phase=scheme.name)

    def state_dict(self):
        return {**{f"first.{k}": v for k, v in self.first.state_dict().items()},
                **{f"then.{k}": v for k, v in self.then.state_dict().items()}}

    def load_state_dict(self, state):
        self.first.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("first.")})
        self.then.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("then.")})

    def describe(self):
        return {"scheme": "switch", "first": self.first.describe(), "then": self.then.describe(), "epoch": self.epoch}


@register_scheme("natural", label="natural", cost="none")
def _natural(threats: ThreatUnion) -> Scheme:
    return NaturalTraining()


def _single(ball_name: str):
    """The builder of single-norm AT against ``ball_name`` (its one setting: the attack steps)."""
    def build(threats: ThreatUnion, n_iter: int = 10) -> Scheme:
        ball = threats[ball_name]
        return SingleNormAT(ball, n_iter=AttackSteps.of(n_iter).for_ball(ball))

    return build


def _single_l1(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None) -> Scheme:
    """l_1-AT: its attack may take its own number of steps (``l1_steps``, the recipes' l_1 setting)."""
    ball = threats["L1"]
    return SingleNormAT(ball, n_iter=AttackSteps.of(n_iter, l1_steps).for_ball(ball))


register_scheme("linf", label="l_inf-AT", cost="single", norms=("Linf",))(_single("Linf"))
register_scheme("l2", label="l_2-AT", cost="single", norms=("L2",))(_single("L2"))
register_scheme("l1", label="l_1-AT", cost="single", norms=("L1",))(_single_l1)
