"""WideResNet-depth-k (Zagoruyko & Komodakis) in the layout used by Carmon et al. and RobustBench.

Parameter names (``conv1``, ``block1.layer.0.bn1``, ..., ``convShortcut``, ``bn1``,
``fc``) match their public CIFAR-10 checkpoints (e.g. ``Carmon2019Unlabeled``,
``Gowal2020Uncovering_34_20``), which take inputs in [0, 1] without normalisation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_integer

__all__ = ["WideResNet", "blocks_per_group"]


class _WideBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=False)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equal_in_out = cin == cout
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(pre))))
        return out + (x if self.equal_in_out else self.convShortcut(pre))


class _NetworkBlock(nn.Module):
    def __init__(self, n: int, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.layer = nn.Sequential(*[_WideBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


def blocks_per_group(depth: int) -> int:
    """``n`` of a depth ``6 n + 4`` with ``n >= 1``, or one clear error."""
    depth = check_integer(depth, "depth", 10)
    if (depth - 4) % 6:
        raise ValueError(f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 34, ...), got {depth}")
    return (depth - 4) // 6


class WideResNet(nn.Module):
    """WideResNet for 32x32 inputs.

    Parameters
    ----------
    depth : int
        ``6 n + 4`` with ``n >= 1`` (10, 16, 28, 34, 70...).
    widen_factor : int
        At least 1.
    num_classes : int
        At least 2.

    Shapes
    ------
    (B, 3, 32, 32) in [0, 1] -> (B, num_classes)
    """

    def __init__(self, depth: int = 28, widen_factor: int = 10, num_classes: int = 10) -> None:
        super().__init__()
        n = blocks_per_group(depth)
        widen_factor = check_integer(widen_factor, "widen_factor", 1)
        num_classes = check_integer(num_classes, "num_classes", 2)
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.block1 = _NetworkBlock(n, widths[0], widths[1], 1)
        self.block2 = _NetworkBlock(n, widths[1], widths[2], 2)
        self.block3 = _NetworkBlock(n, widths[2], widths[3], 2)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.relu = nn.ReLU(inplace=False)
        self.fc = nn.Linear(widths[3], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))
