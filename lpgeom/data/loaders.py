"""Reproducible data loading: seeded shuffling, subsets for small profiles, distributed sampling."""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset

__all__ = ["subset", "make_loader", "tensors"]


def subset(dataset: Dataset, n: int | None, seed: int = 0) -> Dataset:
    """A seeded random subset of ``n`` examples (the whole dataset if ``n`` is None or too large)."""
    if n is None or n >= len(dataset):
        return dataset
    if n < 1:
        raise ValueError(f"subset size must be positive, got {n}")
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n]
    return Subset(dataset, idx.tolist())


def tensors(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All of a (small) dataset as two stacked tensors ``(x, y)``."""
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.as_tensor(ys, dtype=torch.int64)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True, seed: int = 0, distributed: bool = False,
                num_workers: int = 0, drop_last: bool = False) -> DataLoader:
    """A DataLoader whose order depends only on ``seed`` (and the epoch, via ``set_epoch`` when distributed)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    sampler = None
    if distributed:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
        shuffle = False
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler, num_workers=num_workers,
                      generator=generator, drop_last=drop_last)
