"""A small CNN for 28x28 grayscale images (Fashion-MNIST), fast on a CPU."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Two conv layers and two linear layers.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    width : int
        Channels of the first conv layer (the second has twice as many).
    image_size : int
        Height = width of the input.

    Shapes
    ------
    (B, in_channels, image_size, image_size) in [0, 1] -> (B, num_classes) logits
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32, image_size: int = 28) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * (image_size // 4) ** 2, 4 * width), nn.ReLU(),
            nn.Linear(4 * width, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
