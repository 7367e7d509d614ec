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

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..attacks import APGD, AttackResult
from ..utils import check_integer
from ..threats import MAX_ITERATIONS, LpBall, ThreatUnion
from .registry import is_ball_name, register_scheme
from .stats import StepStats

if TYPE_CHECKING:
    from ..attacks import Attack
    from .epoch import EpochContext

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
    """What a scheme may need to know about the current step, and the loop's way to take it.

    Attributes
    ----------
    epoch, global_step : int
    generator : torch.Generator
        CPU generator seeded from (run seed, global step): the scheme's own draws (which norm).
    attack_model : nn.Module
        The bare model (not the DDP wrapper) for attacks.
    optimizer : torch.optim.Optimizer, optional
        The run's optimiser, its learning rate already set for this step (None outside the loop).
    autocast : callable
        ``autocast()`` is the context the forward passes of the loss run in: bf16 autocast on
        the run's device with ``TrainConfig(amp=True)``, else a context that changes nothing.
    """

    epoch: int
    global_step: int
    generator: torch.Generator
    attack_model: nn.Module
    optimizer: torch.optim.Optimizer | None = None
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext

    def optimize(self, loss: torch.Tensor) -> None:
        """The plain update: zero the gradients, ``loss.backward()``, one optimiser step.

        lpgeom's mixed precision is bf16, whose range is float32's: no gradient scaler is
        needed, so none is applied. Under DDP the backward pass averages the gradients over
        the ranks (the model given to the scheme is the DDP wrapper).
        """
        if self.optimizer is None:
            raise ValueError("this StepContext has no optimizer: optimize() runs inside the training loop only")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

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
    """Base class of the training schemes: the loop's extension point.

    A scheme overrides, from the least to the most control:

    - :meth:`training_loss` ``(model, x, y, ctx) -> (loss, stats)``: the loss of a batch;
      the default :meth:`training_step` runs it under ``ctx.autocast()`` and takes the plain
      update (``ctx.optimize(loss)``: zero grad, backward, optimiser step).
    - :meth:`training_step` ``(model, x, y, ctx) -> (loss, stats)``: the whole step, for a
      scheme whose update is not one backward and one step (several backward passes, a
      gradient surgery, a second optimiser). It must leave the model's parameters updated;
      ``ctx.optimizer`` holds the run's optimiser with this step's learning rate set.
    - :meth:`before_epoch` / :meth:`after_epoch` ``(run: EpochContext)``: epoch-level work
      with the bare model, the model as trained, the optimiser, the epoch's learning rates
      and the data (``run.batches(seed)``: an epoch of batches in a seeded order). The
      loop calls ``before_epoch`` when an epoch starts at its first step (not when a run
      resumes mid-epoch: the state the hook set up is in the checkpoint) and
      ``after_epoch`` after the epoch's last step, before the epoch's summary, the
      best-epoch selection and the checkpoint.

    Everything a scheme must carry across steps or epochs is a tensor in
    :meth:`state_dict` (saved in every checkpoint, so a run killed mid-epoch resumes
    bit-identically); :meth:`describe` lists every setting that defines the run (it enters
    the resume fingerprint). Subclasses set ``name`` (shown in logs and ``config.json``).
    """

    name = "scheme"

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
                      ) -> tuple[torch.Tensor, StepStats]:
        """The loss to minimise on the batch ``x`` (B, C, H, W), ``y`` (B,), and the step's statistics."""
        raise NotImplementedError

    def training_step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
                      ) -> tuple[torch.Tensor, StepStats | Mapping]:
        """One update on the batch ``x`` (B, C, H, W), ``y`` (B,): the loss (0-dim) and the step's statistics.

        The default: :meth:`training_loss` under ``ctx.autocast()``, then ``ctx.optimize(loss)``.
        """
        with ctx.autocast():
            loss, stats = self.training_loss(model, x, y, ctx)
        ctx.optimize(loss)
        return loss, stats

    def before_epoch(self, run: EpochContext) -> None:
        """Epoch-level work before the first step of epoch ``run.epoch`` (default: none)."""

    def after_epoch(self, run: EpochContext) -> None:
        """Epoch-level work after the last step of epoch ``run.epoch`` (default: none)."""

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

    def _active(self, epoch: int) -> Scheme:
        return self.first if epoch < self.epoch else self.then

    def training_loss(self, model, x, y, ctx):
        scheme = self._active(ctx.epoch)
        loss, stats = scheme.training_loss(model, x, y, ctx)
        return loss, stats.replace(phase=scheme.name)

    def training_step(self, model, x, y, ctx):
        scheme = self._active(ctx.epoch)
        loss, stats = scheme.training_step(model, x, y, ctx)
        stats = StepStats.from_mapping(stats) if isinstance(stats, Mapping) else stats
        return loss, stats.replace(phase=scheme.name)

    def before_epoch(self, run):
        self._active(run.epoch).before_epoch(run)

    def after_epoch(self, run):
        self._active(run.epoch).after_epoch(run)

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
