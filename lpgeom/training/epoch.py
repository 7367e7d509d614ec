"""What a scheme's epoch-level hooks see: :class:`EpochContext` (the loop builds one per epoch).

A scheme's :meth:`~lpgeom.training.schemes.Scheme.before_epoch` and
:meth:`~lpgeom.training.schemes.Scheme.after_epoch` get the bare model, the model as trained
(DDP wrapper, compiled), the run's optimiser, the epoch's learning rates and the data. The
data come as an epoch of prepared batches in an order seeded by a seed the scheme chooses
(:meth:`EpochContext.batches`), so work such as RAMP's clean epoch is reproducible and
resumable like the loop's own steps, and under DDP each rank gets its share
(:meth:`EpochContext.average_gradients` then averages a side model's gradients).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .distributed import DistInfo
from .step import StepSettings, prepare_batch

__all__ = ["EpochContext"]


@dataclass
class EpochContext:
    """One epoch of a run, as an epoch hook sees it.

    Attributes
    ----------
    epoch : int
    model : nn.Module
        The bare model (the weights that are checkpointed); change it in place.
    net : nn.Module
        The model as trained (the DDP wrapper under DDP, the compiled model with ``compile``).
    optimizer : torch.optim.Optimizer
    steps_per_epoch : int
    first_global_step : int
        The run's step count when the epoch starts (its step ``s`` is global step ``first_global_step + s``).
    lr : callable
        ``lr(global_step)``: the learning rate the loop uses at that step.
    settings : StepSettings
        Device, seed, augmentation, autocast and memory format of the run.
    dist : DistInfo
        This process's rank and the number of processes.
    epoch_batches : callable
        ``epoch_batches(epoch, seed)``: the raw batches ``(x, y)`` of this rank for one epoch in
        the order seeded by ``(seed, epoch)`` (the loop's ``training_batches``).
    """

    epoch: int
    model: nn.Module
    net: nn.Module
    optimizer: torch.optim.Optimizer
    steps_per_epoch: int
    first_global_step: int
    lr: Callable[[int], float]
    settings: StepSettings
    dist: DistInfo
    epoch_batches: Callable[[int, int], Iterator[tuple[torch.Tensor, torch.Tensor]]]

    @property
    def device(self) -> torch.device:
        return self.settings.device

    def batches(self, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, float]]:
        """Every step of this epoch: ``(x, y, lr)`` with ``x`` (B, C, H, W) on the device, prepared as the loop
        prepares its batches (augmentation, memory format), the order and the augmentation seeded by ``seed``
        (pass a seed other than the run's for an order of its own), ``lr`` the loop's learning rate of that step.
        """
        settings = dataclasses.replace(self.settings, seed=seed)
        raw = self.epoch_batches(self.epoch, seed)
        try:
            for step in range(self.steps_per_epoch):
                x, y = next(raw)
                global_step = self.first_global_step + step
                x, y = prepare_batch(x, y, settings, global_step)
                yield x, y, self.lr(global_step)
        finally:
            raw.close()

    def average_gradients(self, module: nn.Module) -> None:
        """Average ``module``'s gradients over the DDP ranks (what DDP does for the trained model); alone, nothing."""
        if not self.dist.enabled:
            return
        import torch.distributed as dist

        for p in module.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad.div_(self.dist.world_size)
