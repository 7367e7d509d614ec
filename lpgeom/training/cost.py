"""What a training run will cost on this machine, measured before it starts.

:func:`estimate_training` times a few real steps of the run's own scheme (attack, loss,
backward, optimiser step) on the run's model and data, on copies (the run itself is not
touched), and multiplies by the run's number of steps. The first step is a warm-up and not
timed. It is a measurement of this machine, not a model: it ignores data loading, the
checkpoints and the per-epoch bookkeeping, so the run takes somewhat longer.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import Dataset

from ..geometry import check_integer
from .step import StepSettings, training_step

__all__ = ["TrainingCost", "estimate_training", "format_duration"]


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"3.4 h"``, ``"2.1 days"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass(frozen=True)
class TrainingCost:
    """A run's size and its measured cost here.

    Attributes
    ----------
    steps, epochs, steps_per_epoch : int
        Optimiser steps of the whole run (all epochs).
    seconds_per_step : float
        Mean of the timed steps (after one warm-up step).
    measured_steps : int
    device : str
    """

    steps: int
    epochs: int
    steps_per_epoch: int
    seconds_per_step: float
    measured_steps: int
    device: str

    @property
    def seconds(self) -> float:
        """Estimated seconds of the whole run (steps x seconds per step)."""
        return self.steps * self.seconds_per_step

    def describe(self, done_steps: int = 0) -> str:
        """One line: steps, time per step, estimated total (and what is left of it)."""
        left = max(self.steps - done_steps, 0)
        rest = f", {left} left: about {format_duration(left * self.seconds_per_step)}" if done_steps else ""
        return (f"{self.epochs} epochs x {self.steps_per_epoch} steps = {self.steps} steps; "
                f"{self.seconds_per_step:.3g} s per step measured on {self.device} ({self.measured_steps} steps "
                f"timed here, data loading and checkpoints not included): about {format_duration(self.seconds)} "
                f"in all{rest}")


def estimate_training(model: nn.Module, scheme, dataset: Dataset, batch_size: int, epochs: int,
                      device: torch.device | str = "cpu", measured_steps: int = 2, holdout: int = 0) -> TrainingCost:
    """Time ``measured_steps`` steps of ``scheme`` on copies of ``model``, scale to the whole run.

    Parameters
    ----------
    model : nn.Module
        The run's model (copied; its weights and mode are left as they are).
    scheme : Scheme
        The run's scheme (copied: its running state is not advanced).
    dataset : Dataset
        Yields ``(x, y)``; the first ``batch_size`` examples are the timed batch.
    batch_size, epochs : int
    device : torch.device or str
    measured_steps : int
        Steps timed after one warm-up step.
    holdout : int
        Examples held out of training (they take no steps).

    The global random state (CPU, and the device's) is left as it was.

    Returns
    -------
    TrainingCost
    """
    batch_size = check_integer(batch_size, "batch_size", low=1)
    epochs = check_integer(epochs, "epochs", low=1)
    measured_steps = check_integer(measured_steps, "measured_steps", low=1)
    holdout = check_integer(holdout, "holdout", low=0)
    n = len(dataset) - holdout
    if n < 1:
        raise ValueError(f"the dataset has {len(dataset)} examples and {holdout} are held out: nothing to train on")
    steps_per_epoch = math.ceil(n / batch_size)
    device = torch.device(device)
    items = [dataset[i] for i in range(min(batch_size, n))]
    x = torch.stack([torch.as_tensor(item[0]) for item in items]).to(device)
    y = torch.as_tensor([int(item[1]) for item in items], dtype=torch.long).to(device)
    net, scheme = copy.deepcopy(model).to(device).train(), copy.deepcopy(scheme)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        times = _timed_steps(net, scheme, optimizer, x, y, device, measured_steps)
    return TrainingCost(steps=steps_per_epoch * epochs, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        seconds_per_step=sum(times) / len(times), measured_steps=measured_steps, device=str(device))


def _timed_steps(net, scheme, optimizer, x, y, device, measured_steps: int) -> list[float]:
    """Seconds of each step of the loop's own :func:`training_step` after the first (the global random state is
    the caller's to restore)."""
    settings = StepSettings(device, seed=0)
    times = []
    for step in range(measured_steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        training_step(net, net, optimizer, scheme, x, y, 0.0, 0, step, settings)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if step:  # the first step warms up (allocations, kernels)
            times.append(time.perf_counter() - start)
    return times
