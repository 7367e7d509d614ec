"""Input normalisation as a layer inside the model, so attacks work in [0, 1] pixel space."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..datasets import DATASETS, Dataset
from ..utils import check_real

__all__ = ["Normalize", "CIFAR10_MEAN", "CIFAR10_STD", "IMAGENET_MEAN", "IMAGENET_STD"]

# the dataset registry's statistics (lpgeom.datasets), under their former names
CIFAR10_MEAN, CIFAR10_STD = DATASETS[Dataset.CIFAR10].mean, DATASETS[Dataset.CIFAR10].std
IMAGENET_MEAN, IMAGENET_STD = DATASETS[Dataset.IMAGENET].mean, DATASETS[Dataset.IMAGENET].std


def _channel_values(values: object, name: str, low: float, positive: bool = False) -> list[float]:
    """``values`` as a non-empty list of finite floats (> ``low`` if ``positive``), or one clear error."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().reshape(-1).tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty sequence of numbers, one per channel, got {values!r}")
    bound = (low, math.inf) if positive else (-math.inf, math.inf)
    return [check_real(v, f"{name}[{i}]", *bound, low_open=positive) for i, v in enumerate(values)]


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, as the first layer of a model.

    Parameters
    ----------
    mean, std : sequence of float
        One finite value per channel (a tensor is taken too); ``std`` positive.

    Shapes
    ------
    (B, C, H, W) -> (B, C, H, W)
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean, std = _channel_values(mean, "mean", 0.0), _channel_values(std, "std", 0.0, positive=True)
        if len(mean) != len(std):
            raise ValueError(f"mean and std need one value per channel, got {len(mean)} and {len(std)}")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W); ``C`` must be the number of channels of mean and std."""
        channels = self.mean.shape[1]
        if x.ndim != 4 or x.shape[1] != channels:  # shapes only: no synchronisation
            raise ValueError(f"Normalize expects images of shape (B, {channels}, H, W), got shape {tuple(x.shape)}")
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={tuple(round(v, 4) for v in self.mean.flatten().tolist())}, std={tuple(round(v, 4) for v in self.std.flatten().tolist())}"
