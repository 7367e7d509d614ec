"""Reproducible data loading: seeded subsets, the seeded epoch order, and the training batch stream.

The order of epoch ``e`` is a permutation seeded by ``(seed, e)`` (:func:`epoch_order`); batch
``s`` of an epoch is the slice ``[s * b, (s + 1) * b)`` of it, and under DDP rank ``r`` of
``w`` takes every ``w``-th example of that slice from the ``r``-th on. :func:`training_batches`
streams these batches from any step of any epoch, so a resumed run sees the same batches:

- in-memory data (``TensorDataset``, ``workers=0``): indexing of the tensors, in the process;
- folder data (ImageFolder, files): a ``DataLoader`` whose worker processes decode images
  ahead of the training step (``prefetch`` batches each), into pinned memory when the
  model is on a GPU. Random transforms of an item are seeded by (seed, step, position in
  the batch), so they too are the same after a resume and whatever the number of workers.
"""
from __future__ import annotations

import hashlib
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from ..utils.seeds import check_seed

__all__ = ["subset", "tensors", "epoch_order", "BatchPlan", "training_batches", "default_workers", "is_in_memory"]


def subset(dataset: Dataset, n: int | None, seed: int = 0) -> Dataset:
    """A seeded random subset of ``n`` examples (the whole dataset if ``n`` is None or at least its size).

    Raises
    ------
    ValueError
        If ``n`` is not None and not an integer >= 1, or ``seed`` is outside [0, 2**64 - 1].
    TypeError
        If ``seed`` is not an integer (:func:`lpgeom.utils.check_seed`).
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise ValueError(f"subset size n must be None or an integer >= 1, got {n!r}")
    seed = check_seed(seed, "subset seed", optional=False)
    if n is None or n >= len(dataset):
        return dataset
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:int(n)]
    return Subset(dataset, idx.tolist())


def tensors(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All of a (small) dataset as two stacked tensors ``(x, y)``."""
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.as_tensor(ys, dtype=torch.int64)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The data order of an epoch: a permutation of ``range(n)`` seeded by (seed, epoch), shape (n,)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**64))


def is_in_memory(dataset: Dataset) -> bool:
    """True for datasets held as tensors (``TensorDataset`` and the like: a ``tensors`` attribute)."""
    return getattr(dataset, "tensors", None) is not None


def default_workers(dataset: Dataset) -> int:
    """Worker processes for a dataset: 0 for in-memory data, ``min(8, CPUs)`` for data read from files."""
    if is_in_memory(dataset):
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(8, cpus)


@dataclass(frozen=True)
class BatchPlan:
    """Which examples every step of a run takes.

    Attributes
    ----------
    n : size of the dataset
    batch_size : examples per step from the dataset, all ranks together
    seed : the run's seed
    rank, world : this process and the number of DDP processes
    """

    n: int
    batch_size: int
    seed: int
    rank: int = 0
    world: int = 1

    def __post_init__(self):
        if self.batch_size < 1 or self.n < self.batch_size:
            raise ValueError(f"the dataset has {self.n} examples, fewer than one batch of {self.batch_size}")
        if not 0 <= self.rank < self.world:
            raise ValueError(f"rank must be in [0, {self.world}), got {self.rank}")

    @property
    def steps_per_epoch(self) -> int:
        """Full batches only under DDP (every rank needs its share); the last partial batch too otherwise."""
        return self.n // self.batch_size if self.world > 1 else -(-self.n // self.batch_size)

    def indices(self, order: torch.Tensor, step: int) -> torch.Tensor:
        """This rank's dataset indices of ``step`` in an epoch of the given order, shape (<= batch_size / world,)."""
        idx = order[step * self.batch_size:(step + 1) * self.batch_size]
        return idx[self.rank::self.world] if self.world > 1 else idx

    def schedule(self, start_epoch: int, start_step: int, epochs: int) -> Iterator[tuple[int, int, torch.Tensor]]:
        """``(epoch, step, indices)`` for every remaining step of a run, in order."""
        for epoch in range(start_epoch, epochs):
            order = epoch_order(self.n, self.seed, epoch)
            for step in range(start_step if epoch == start_epoch else 0, self.steps_per_epoch):
                yield epoch, step, self.indices(order, step)


def item_seed(seed: int, global_step: int, position: int) -> int:
    """Seed of the random transform of the item at ``position`` of a step's batch (64 bits)."""
    key = f"{seed}/{global_step}/{position}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


class _SeededItems(Dataset):
    """Items fetched as ``(index, seed)``: the global RNG is seeded for the item's random transforms."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        index, seed = key
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            x, y = self.dataset[index]
        return x, int(y)


class _PlanSampler(Sampler[list[tuple[int, int]]]):
    def __init__(self, plan: BatchPlan, start_epoch: int, start_step: int, epochs: int, first_global_step: int):
        self.plan, self.start = plan, (start_epoch, start_step, epochs)
        self.first_global_step = first_global_step

    def __iter__(self):
        rank, world = self.plan.rank, self.plan.world
        for t, (_, _, idx) in enumerate(self.plan.schedule(*self.start)):
            positions = range(rank, rank + world * len(idx), world)  # positions in the step's global batch
            yield [(int(i), item_seed(self.plan.seed, self.first_global_step + t, p)) for i, p in zip(idx, positions)]

    def __len__(self) -> int:
        start_epoch, start_step, epochs = self.start
        return max(0, (epochs - start_epoch) * self.plan.steps_per_epoch - start_step)


def _collate(items):
    xs, ys = zip(*items)
    return torch.stack(xs), torch.as_tensor(ys, dtype=torch.int64)


def training_batches(dataset: Dataset, plan: BatchPlan, start_epoch: int, start_step: int, epochs: int,
                     first_global_step: int = 0, workers: int = 0, pin_memory: bool = False,
                     prefetch: int = 2) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The batches ``(x, y)`` of every remaining step of a run, in :class:`BatchPlan` order.

    Parameters
    ----------
    dataset : Dataset
        Items ``(x, y)``, ``x`` of shape (C, H, W).
    plan : BatchPlan
    start_epoch, start_step : where the run resumes; ``epochs``: where it ends
    first_global_step : the run's step count at ``(start_epoch, start_step)`` (seeds item transforms)
    workers : int
        Worker processes decoding items (0: in this process).
    pin_memory : bool
        Batches in page-locked memory (for asynchronous copies to a GPU); in-memory data held
        on a GPU already is yielded as it is.
    prefetch : int
        Batches each worker prepares ahead.

    Yields
    ------
    x : Tensor, shape (B, C, H, W); y : Tensor of int64, shape (B,)
    """
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    if prefetch < 1:
        raise ValueError(f"prefetch must be >= 1, got {prefetch}")
    if is_in_memory(dataset) and workers == 0:
        x_all, y_all = dataset.tensors[0], dataset.tensors[1]
        pin = pin_memory and x_all.device.type == "cpu"  # data already on a GPU is not pinned (pin_memory refuses it)
        for _, _, idx in plan.schedule(start_epoch, start_step, epochs):
            x, y = x_all[idx], y_all[idx].long()
            yield (x.pin_memory(), y.pin_memory()) if pin else (x, y)
        return
    sampler = _PlanSampler(plan, start_epoch, start_step, epochs, first_global_step)
    loader = DataLoader(_SeededItems(dataset), batch_sampler=sampler, num_workers=workers, collate_fn=_collate,
                        pin_memory=pin_memory, prefetch_factor=prefetch if workers else None,
                        persistent_workers=False,
                        generator=torch.Generator().manual_seed(plan.seed))  # not the global RNG (base seeds)
    yield from loader
