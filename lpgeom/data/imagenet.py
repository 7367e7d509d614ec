"""ImageNet from an ImageFolder tree (``<root>/<split>/<wnid>/*.JPEG``) with the standard transforms."""
from __future__ import annotations

import os
import pathlib

__all__ = ["imagenet", "imagenet_transform"]


def imagenet_transform(train: bool):
    """RandomResizedCrop(224) + flip for training; Resize(256) + CenterCrop(224) for evaluation; to [0, 1] tensors."""
    from torchvision import transforms as T

    if train:
        return T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()])
    return T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])


def imagenet(root: str | os.PathLike, split: str = "val"):
    """An ImageFolder dataset of ImageNet (no normalisation: it lives inside the models).

    Raises
    ------
    ValueError
        For a split other than "train" / "val".
    FileNotFoundError
        If ``<root>/<split>`` does not exist or holds no class folders.
    """
    from torchvision.datasets import ImageFolder

    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    folder = pathlib.Path(root) / split
    if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
        raise FileNotFoundError(f"no ImageNet class folders in {folder} (expected <root>/{split}/<wnid>/*.JPEG)")
    return ImageFolder(str(folder), transform=imagenet_transform(split == "train"))
