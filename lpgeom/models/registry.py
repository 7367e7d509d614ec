"""Build models by name: a registry of builders (no if/elif chains).

:func:`build_model` checks the name and the options against the builder's signature, then
builds the model once on the ``meta`` device (no memory, no initialisation) to count its
parameters: a model whose float32 weights would not fit in this machine's memory is refused
in one sentence before anything is allocated.
"""
from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable

import torch
from torch import nn

from ..utils import check_integer

from .dm_wide_resnet import DMWideResNet
from .normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize
from .resnet import PreActResNet18, ResNet18, ResNet50
from .small_cnn import SmallCNN
from .wide_resnet import WideResNet

__all__ = ["build_model", "register_model", "MODEL_NAMES"]

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator adding a builder ``f(num_classes, **kw) -> nn.Module`` under ``name``."""

    if not isinstance(name, str) or not name:
        raise ValueError(f"a model name must be a non-empty string, got {name!r}")

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BUILDERS:
            raise ValueError(f"a model named {name!r} is already registered")
        _BUILDERS[name] = builder
        return builder

    return add


@register_model("small_cnn")
def _small_cnn(num_classes: int = 10, in_channels: int = 1, width: int = 32, image_size: int = 28) -> nn.Module:
    return SmallCNN(num_classes, in_channels, width, image_size)


@register_model("resnet18_kuangliu")
def _resnet18(num_classes: int = 10) -> nn.Module:
    return ResNet18(num_classes)


@register_model("resnet50-cifar")
def _resnet50_cifar(num_classes: int = 10) -> nn.Module:
    return ResNet50(num_classes)


@register_model("preact_resnet18")
def _preact(num_classes: int = 10, activation: str = "softplus") -> nn.Module:
    return PreActResNet18(num_classes, activation)


@register_model("wrn-28-10")
def _wrn_28_10(num_classes: int = 10) -> nn.Module:
    return WideResNet(28, 10, num_classes)


@register_model("wrn-34-20")
def _wrn_34_20(num_classes: int = 10) -> nn.Module:
    return WideResNet(34, 20, num_classes)


@register_model("wrn-70-16")
def _wrn_70_16(num_classes: int = 10, activation: str = "silu") -> nn.Module:
    return DMWideResNet(70, 16, num_classes, activation)


@register_model("wrn-28-10-dm")
def _wrn_28_10_dm(num_classes: int = 10, activation: str = "silu") -> nn.Module:
    return DMWideResNet(28, 10, num_classes, activation)


@register_model("wrn-34-20-dm")
def _wrn_34_20_dm(num_classes: int = 10, activation: str = "silu") -> nn.Module:
    return DMWideResNet(34, 20, num_classes, activation)


@register_model("resnet50")
def _resnet50(num_classes: int = 1000) -> nn.Module:
    from torchvision.models import resnet50

    return nn.Sequential(Normalize(IMAGENET_MEAN, IMAGENET_STD), resnet50(weights=None, num_classes=num_classes))


@register_model("efficientnet_lite0")
def _efficientnet_lite0(num_classes: int = 1000) -> nn.Module:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError('the EfficientNet-Lite0 architecture comes with the efficientnet extra: '
                                  'pip install "lpgeom[efficientnet]"', name=err.name) from err

    return nn.Sequential(Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                         EfficientNet.from_name("efficientnet-lite0", num_classes=num_classes))


MODEL_NAMES = tuple(_BUILDERS)


def build_model(name: str, num_classes: int | None = None, **kwargs) -> nn.Module:
    """Build an architecture by name (random weights).

    Parameters
    ----------
    name : str
        One of ``MODEL_NAMES``: ``"small_cnn"``, ``"resnet18_kuangliu"``, ``"preact_resnet18"``,
        ``"wrn-28-10"``, ``"wrn-34-20"``, ``"wrn-70-16"`` (Gowal et al.), ``"wrn-28-10-dm"``, ``"resnet50"``,
        ``"efficientnet_lite0"``.
    num_classes : int, optional
        An integer >= 2; defaults to the architecture's usual dataset (10, or 1000 for ImageNet models).
    **kwargs
        Architecture options (e.g. ``width`` for the small CNN, ``activation`` for the PreAct ResNet).

    Returns
    -------
    torch.nn.Module
        Takes inputs in [0, 1]; any normalisation is its first layer.

    Raises
    ------
    TypeError
        ``name`` not a string, ``num_classes`` not an integer, or an option of the wrong kind.
    ValueError
        An unknown name (the message lists the known ones) or option, an option out of range,
        or a model whose weights would not fit in this machine's memory.
    """
    if not isinstance(name, str):
        raise TypeError(f"the model name must be a string, got {name!r} ({type(name).__name__})")
    if name not in _BUILDERS:
        close = difflib.get_close_matches(name.strip().lower().replace("-", "_"), _BUILDERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; known models: {', '.join(sorted(_BUILDERS))}")
    if num_classes is not None:
        kwargs["num_classes"] = check_integer(num_classes, "num_classes", 2)
    builder = _BUILDERS[name]
    accepted = list(inspect.signature(builder).parameters)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"model {name!r} takes no option {', '.join(map(repr, unknown))}; it accepts: "
                         f"{', '.join(accepted)}")
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        n_parameters = sum(p.numel() for p in builder(**kwargs).parameters())
    _check_fits_in_memory(name, n_parameters)
    return builder(**kwargs)


def _check_fits_in_memory(name: str, n_parameters: int) -> None:
    """Refuse a model whose float32 weights exceed the machine's physical memory (when it is known)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): nothing to compare with
        return
    if 4 * n_parameters > memory:
        raise ValueError(f"model {name!r} with these options has {n_parameters:,} parameters "
                         f"({4 * n_parameters / 2**30:,.1f} GiB of float32 weights), more than this machine's "
                         f"{memory / 2**30:,.1f} GiB of memory; check its width, image size and number of classes")
