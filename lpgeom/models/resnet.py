"""ResNets for 32x32 inputs: the standard ResNet-18 layout and the PreAct ResNet-18 of the paper.

``ResNet18`` uses the parameter names of the widely used CIFAR-10 layout (``conv1``,
``bn1``, ``layer1.0.conv1``, ..., ``shortcut``, ``linear``), so its public state dicts
load, e.g. the standard model shipped with pyautoattack. ``PreActResNet18`` is the
paper's architecture (softplus activations, beta = 1, for training from scratch).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import check_integer

__all__ = ["ResNet18", "ResNet50", "PreActResNet18", "activation"]


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """``"relu"`` or ``"softplus"`` (beta = 1)."""
    table = {"relu": F.relu, "softplus": F.softplus}
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"activation must be one of {', '.join(map(repr, table))}, got {name!r}")
    return table[name]


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class _PreActBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, act: Callable) -> None:
        super().__init__()
        self.act = act
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(self.act(self.bn2(out)))
        return out + shortcut


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


class ResNet50(nn.Module):
    """ResNet-50 for 32x32 images in the same (widely used CIFAR-10) layout as :class:`ResNet18`.

    The CIFAR-10 ResNet-50 checkpoints the paper fine-tunes (Engstrom et al. 2019,
    Augustin et al. 2020) are expected in this layout; this has not been checked against
    the real files here (they need a network to download): loading is strict, so a
    different layout fails with the list of mismatched keys.

    Shapes
    ------
    (B, 3, 32, 32) in [0, 1] -> (B, num_classes)
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        num_classes = check_integer(num_classes, "num_classes", 2)
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            stage = []
            for i in range(blocks):
                stage.append(_Bottleneck(cin, planes, stride if i == 0 else 1))
                cin = planes * _Bottleneck.expansion
            layers.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def _stages(make: Callable[[int, int, int], nn.Module]) -> list[nn.Sequential]:
    stages, cin = [], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        stages.append(nn.Sequential(make(cin, cout, stride), make(cout, cout, 1)))
        cin = cout
    return stages


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 images (11,173,962 parameters for 10 classes).

    Shapes
    ------
    (B, 3, 32, 32) in [0, 1] -> (B, num_classes)
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        num_classes = check_integer(num_classes, "num_classes", 2)
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1, self.layer2, self.layer3, self.layer4 = _stages(_Block)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


class PreActResNet18(nn.Module):
    """Pre-activation ResNet-18 (He et al. 2016) as used in the paper; no input normalisation.

    Parameters
    ----------
    num_classes : int
    activation : {"softplus", "relu"}
        The paper trains from scratch with softplus (beta = 1).

    Shapes
    ------
    (B, 3, 32, 32) in [0, 1] -> (B, num_classes)
    """

    def __init__(self, num_classes: int = 10, activation_name: str = "softplus") -> None:
        super().__init__()
        num_classes = check_integer(num_classes, "num_classes", 2)
        act = activation(activation_name)
        self.act = act
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.layer1, self.layer2, self.layer3, self.layer4 = _stages(lambda a, b, s: _PreActBlock(a, b, s, act))
        self.bn = nn.BatchNorm2d(512)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        out = self.act(self.bn(out))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))
