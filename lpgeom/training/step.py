"""One optimisation step of the training loop, free of host synchronisation of its own.

A scheme may still synchronise to choose its attack: E-AT reads its running counts on the
host to draw the next norm (one synchronisation per step, measured on an H100 to cost E-AT
nothing noticeable against l_inf-AT; ``data/benchmarks/gpu.json``).

:func:`training_step` prepares the batch (device, augmentation, memory format), sets the
learning rate, hands the step to the scheme (``scheme.training_step``: by default its loss
under autocast, backward, one optimiser step) and measures the clean error of the batch, returning a :class:`~lpgeom.training.stats.StepStats` whose numbers stay
on the device. :class:`DivergenceGuard` records the first step whose loss was not finite,
on the device, and is checked only where the loop reads numbers anyway.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..data.transforms import random_crop_flip
from .schemes import StepContext
from .stats import StepStats

__all__ = ["StepSettings", "training_step", "prepare_batch", "step_generator", "DivergenceGuard", "TrainingDiverged",
           "weights_are_finite"]


class TrainingDiverged(FloatingPointError):
    """The loss or the weights became non-finite (NaN or infinite)."""


@dataclass(frozen=True)
class StepSettings:
    """What the step needs from the run's configuration.

    Attributes
    ----------
    device : torch.device
    seed : int
        The run's seed (with the step, it seeds the step's random choices).
    augment : bool
        Random crop (pad 4) + horizontal flip on the device.
    amp : bool
        bf16 autocast of the forward passes (CUDA and CPU); off, nothing is autocast.
    channels_last : bool
        Batches in channels-last memory format (4-d inputs).
    """

    device: torch.device
    seed: int
    augment: bool = False
    amp: bool = False
    channels_last: bool = False

    @property
    def autocast(self) -> contextlib.AbstractContextManager:
        """``torch.autocast`` to bfloat16 on the device when ``amp``, else a context that changes nothing."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)


def step_generator(seed: int, global_step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator of a step's random choices, seeded by (seed, global step) modulo 2**64 (any seed)."""
    return torch.Generator(device=device).manual_seed((seed * 1_000_003 + global_step) % 2**64)


def prepare_batch(x: torch.Tensor, y: torch.Tensor, settings: StepSettings, global_step: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch as a step takes it: on the device, augmented (seeded by (seed, global step)), in its memory format.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W); y : Tensor of int64, shape (B,)
    settings : StepSettings
    global_step : int

    Returns
    -------
    x, y : the prepared batch, same shapes
    """
    device = settings.device
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    if settings.augment:
        x = random_crop_flip(x, generator=step_generator(settings.seed, global_step, device))
    if settings.channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def training_step(net: nn.Module, model: nn.Module, optimizer: torch.optim.Optimizer, scheme, x: torch.Tensor,
                  y: torch.Tensor, lr: float, epoch: int, global_step: int, settings: StepSettings) -> StepStats:
    """One step: batch to the device, the scheme's step (default: loss, backward, optimiser step), clean error.

    Parameters
    ----------
    net : nn.Module
        The model as trained (the DDP wrapper under DDP, the compiled model if compiled).
    model : nn.Module
        The bare model (attacks and the clean-error pass use it).
    optimizer : torch.optim.Optimizer
    scheme : Scheme
        ``training_step(net, x, y, ctx) -> (loss, StepStats or flat dict)``, which updates the
        weights (:meth:`~lpgeom.training.schemes.Scheme.training_step`).
    x : Tensor, shape (B, C, H, W); y : Tensor of int64, shape (B,)
        The batch, on the CPU or already on the device.
    lr : float
        Learning rate of this step.
    epoch, global_step : int
    settings : StepSettings

    Returns
    -------
    StepStats
        The scheme's statistics with ``loss`` and ``clean_err`` (0-dim tensors on the device).
        The clean error is the scheme's if it reported one (e.g. from its attack's first
        forward pass), else measured after the step in eval mode.
    """
    x, y = prepare_batch(x, y, settings, global_step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    model.train()
    ctx = StepContext(epoch=epoch, global_step=global_step, generator=step_generator(settings.seed, global_step),
                      attack_model=model, optimizer=optimizer, autocast=lambda: settings.autocast)
    loss, stats = scheme.training_step(net, x, y, ctx)
    stats = StepStats.from_mapping(stats) if isinstance(stats, Mapping) else stats
    clean_err = stats.clean_err
    if clean_err is None:
        with torch.no_grad():
            model.eval()
            with settings.autocast:
                clean_err = (model(x).argmax(1) != y).float().mean()
            model.train()
    return stats.replace(loss=loss.detach(), clean_err=clean_err)


class DivergenceGuard:
    """Remembers, on the device, the first step whose loss was not finite (no synchronisation per step)."""

    def __init__(self, device: torch.device | str) -> None:
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)

    def observe(self, loss: torch.Tensor, global_step: int) -> None:
        """Record ``global_step`` if ``loss`` is not finite and no earlier step was."""
        bad = ~torch.isfinite(loss.detach()) & (self.first_bad < 0)
        self.first_bad = torch.where(bad, torch.full_like(self.first_bad, global_step), self.first_bad)

    def check(self, model: nn.Module, at_step: int, last_good: str, weights: bool = True) -> None:
        """Raise :class:`TrainingDiverged` if a loss (or, with ``weights``, a weight) is not finite.

        One or two host synchronisations. ``last_good`` says what the run keeps (e.g.
        ``"the checkpoint of step 120 (last.pt)"``).
        """
        first_bad = int(self.first_bad)
        if first_bad >= 0:
            raise TrainingDiverged(f"training diverged: the loss is not finite since step {first_bad + 1}; "
                                   f"the run is stopped (not finished) and keeps {last_good}; "
                                   "lower the learning rate or check the data")
        if weights and not weights_are_finite(model):
            raise TrainingDiverged(f"training diverged: the weights are not finite at step {at_step}; "
                                   f"the run is stopped (not finished) and keeps {last_good}; "
                                   "lower the learning rate or check the data")


def weights_are_finite(model: nn.Module) -> bool:
    """True if every parameter and floating buffer of ``model`` is finite (one synchronisation)."""
    checks = [torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point()]
    return bool(torch.stack(checks).all()) if checks else True
