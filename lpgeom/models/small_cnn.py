"""A small CNN for 28x28 grayscale images (Fashion-MNIST), fast on a CPU."""
from __future__ import annotations

import torch
from torch import nn

from ..utils import check_integer

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Two conv layers and two linear layers.

    Parameters
    ----------
    num_classes : int
        At least 2.
    in_channels : int
        At least 1.
    width : int
        Channels of the first conv layer (the second has twice as many), at least 1.
    image_size : int
        Height = width of the input, a positive multiple of 4.

    Shapes
    ------
    (B, in_channels, image_size, image_size) in [0, 1] -> (B, num_classes) logits
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32, image_size: int = 28) -> None:
        super().__init__()
        num_classes = check_integer(num_classes, "num_classes", 2)
        in_channels = check_integer(in_channels, "in_channels", 1)
        width = check_integer(width, "width", 1)
        image_size = check_integer(image_size, "image_size", 4)
        if image_size % 4:
            raise ValueError(f"image_size must be a positive multiple of 4, got {image_size}")
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * (image_size // 4) ** 2, 4 * width), nn.ReLU(),
            nn.Linear(4 * width, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:  # shapes only: no synchronisation
            raise ValueError(f"SmallCNN expects images of shape (B, {expected[0]}, {expected[1]}, {expected[2]}), "
                             f"got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))
