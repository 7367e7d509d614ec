"""Build models by name: a registry of builders (no if/elif chains)."""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .dm_wide_resnet import DMWideResNet
from .normalize import IMAGENET_MEAN, IMAGENET_STD, Normalize
from .resnet import PreActResNet18, ResNet18, ResNet50
from .small_cnn import SmallCNN
from .wide_resnet import WideResNet

__all__ = ["build_model", "register_model", "MODEL_NAMES"]

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator adding a builder ``f(num_classes, **kw) -> nn.Module`` under ``name``."""

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
    from efficientnet_lite_pytorch import EfficientNet

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
        Defaults to the architecture's usual dataset (10, or 1000 for ImageNet models).
    **kwargs
        Architecture options (e.g. ``width`` for the small CNN, ``activation`` for the PreAct ResNet).

    Returns
    -------
    torch.nn.Module
        Takes inputs in [0, 1]; any normalisation is its first layer.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(_BUILDERS))}")
    if num_classes is not None:
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        kwargs["num_classes"] = int(num_classes)
    try:
        return _BUILDERS[name](**kwargs)
    except TypeError as err:
        raise ValueError(f"bad options for model {name!r}: {err}") from None
