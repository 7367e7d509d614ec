"""The WideResNet variant of Gowal et al. (2020) ("Uncovering the limits of adversarial training").

Parameter names follow the public checkpoints in RobustBench's layout (``init_conv``,
``layer.0.block.0.batchnorm_0``, ..., ``batchnorm``, ``logits``); the input normalisation
(the dataset's mean / std from the registry, CIFAR-10's by default) is applied inside, as non-persistent buffers, so the model takes
inputs in [0, 1]. WRN-70-16 with SiLU (Swish) is ``Gowal2020Uncovering_70_16_extra``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_integer
from ..datasets import dataset_spec
from .wide_resnet import blocks_per_group

__all__ = ["DMWideResNet"]


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, act: type[nn.Module]) -> None:
        super().__init__()
        self.batchnorm_0 = nn.BatchNorm2d(cin, momentum=0.01)
        self.relu_0 = act()
        self.conv_0 = nn.Conv2d(cin, cout, 3, stride, 0, bias=False)  # padded explicitly in forward
        self.batchnorm_1 = nn.BatchNorm2d(cout, momentum=0.01)
        self.relu_1 = act()
        self.conv_1 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.has_shortcut = cin != cout
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if self.has_shortcut else None
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu_0(self.batchnorm_0(x))
        v = F.pad(pre, (1, 1, 1, 1) if self.stride == 1 else (0, 1, 0, 1))
        out = self.conv_1(self.relu_1(self.batchnorm_1(self.conv_0(v))))
        return out + (self.shortcut(pre) if self.has_shortcut else x)


class _BlockGroup(nn.Module):
    def __init__(self, n: int, cin: int, cout: int, stride: int, act: type[nn.Module]) -> None:
        super().__init__()
        self.block = nn.Sequential(*[_Block(cin if i == 0 else cout, cout, stride if i == 0 else 1, act) for i in range(n)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class DMWideResNet(nn.Module):
    """WideResNet-depth-width with pre-activation blocks and normalisation inside.

    Parameters
    ----------
    depth, width : int
        ``depth = 6 n + 4`` with ``n >= 1``, ``width >= 1``; WRN-70-16: ``depth=70, width=16``.
    num_classes : int
        At least 2.
    activation : {"silu", "relu"}
    dataset : str
        A registered dataset (``lpgeom.datasets``) whose mean / std the model normalises with
        (``"cifar100"`` for Gowal et al.'s CIFAR-100 models).

    Shapes
    ------
    (B, 3, 32, 32) in [0, 1] -> (B, num_classes)
    """

    def __init__(self, depth: int = 70, width: int = 16, num_classes: int = 10, activation: str = "silu",
                 dataset: str = "cifar10") -> None:
        super().__init__()
        spec = dataset_spec(dataset)
        if spec.mean is None or spec.shape[0] != 3:
            raise ValueError(f"DMWideResNet takes RGB images normalised by their dataset's statistics; {spec.name} has "
                             f"shape {spec.shape} and mean {spec.mean}")
        n = blocks_per_group(depth)
        width = check_integer(width, "width", 1)
        num_classes = check_integer(num_classes, "num_classes", 2)
        acts = {"silu": nn.SiLU, "relu": nn.ReLU}
        if not isinstance(activation, str) or activation not in acts:
            raise ValueError(f"activation must be one of {', '.join(map(repr, acts))}, got {activation!r}")
        act = acts[activation]
        ch = [16, 16 * width, 32 * width, 64 * width]
        self.register_buffer("mean", torch.tensor(spec.mean).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(spec.std).reshape(1, 3, 1, 1), persistent=False)
        self.init_conv = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.layer = nn.Sequential(_BlockGroup(n, ch[0], ch[1], 1, act), _BlockGroup(n, ch[1], ch[2], 2, act),
                                   _BlockGroup(n, ch[2], ch[3], 2, act))
        self.batchnorm = nn.BatchNorm2d(ch[3], momentum=0.01)
        self.relu = act()
        self.logits = nn.Linear(ch[3], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer(self.init_conv((x - self.mean) / self.std))
        out = self.relu(self.batchnorm(out))
        return self.logits(F.adaptive_avg_pool2d(out, 1).flatten(1))
