"""CIFAR-10 and CIFAR-100 through torchvision (downloads on a networked machine), as in-memory tensors."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import torch
from torch.utils.data import TensorDataset

__all__ = ["cifar10", "cifar100"]


def cifar10(train: bool = True, root: str | os.PathLike | None = None, download: bool = False) -> TensorDataset:
    """CIFAR-10 as a TensorDataset: images (N, 3, 32, 32) float32 in [0, 1], labels (N,) int64.

    Parameters
    ----------
    train : bool
        True for the 50,000 training images, False for the 10,000 test images (only a bool:
        anything else is a ``TypeError``).
    root : path, optional
        Folder holding ``cifar-10-batches-py`` (default ``$LPGEOM_DATA_DIR`` or ``~/.cache/lpgeom``).
    download : bool
        Let torchvision download the archive if it is missing (needs network).

    Raises
    ------
    TypeError
        If ``train`` or ``download`` is not a bool.
    FileNotFoundError
        If the data is missing and ``download`` is False.
    """
    from .fashion_mnist import check_split_flag

    train = check_split_flag(train, "train")
    check_split_flag(download, "download")
    from torchvision.datasets import CIFAR10

    return _torchvision_cifar(CIFAR10, "CIFAR-10", "cifar-10-batches-py", train, root, download)


def cifar100(train: bool = True, root: str | os.PathLike | None = None, download: bool = False) -> TensorDataset:
    """CIFAR-100 (the 100 fine labels) as a TensorDataset: images (N, 3, 32, 32) float32 in [0, 1], labels (N,) int64.

    Parameters
    ----------
    train : bool
        True for the 50,000 training images, False for the 10,000 test images (only a bool).
    root : path, optional
        Folder holding ``cifar-100-python`` (default ``$LPGEOM_DATA_DIR`` or ``~/.cache/lpgeom``).
    download : bool
        Let torchvision download the archive if it is missing (needs network).

    Raises
    ------
    FileNotFoundError
        If the data is missing and ``download`` is False, or incomplete.
    TypeError
        If ``train`` or ``download`` is not a bool.
    """
    from .fashion_mnist import check_split_flag

    train = check_split_flag(train, "train")
    check_split_flag(download, "download")
    from torchvision.datasets import CIFAR100

    return _torchvision_cifar(CIFAR100, "CIFAR-100", "cifar-100-python", train, root, download)


def _torchvision_cifar(cls, title: str, folder: str, train: bool, root, download: bool) -> TensorDataset:
    """torchvision's ``cls`` (CIFAR10 / CIFAR100) read from ``root / folder`` as tensors in [0, 1]."""
    root = pathlib.Path(root or os.environ.get("LPGEOM_DATA_DIR") or pathlib.Path.home() / ".cache" / "lpgeom")
    if not download and not (root / folder).is_dir():
        raise FileNotFoundError(f"{title} not found in {root / folder}; pass download=True on a "
                                "networked machine (or --download in the CLI)")
    try:
        ds = cls(str(root), train=train, download=download)
    except RuntimeError as err:
        raise FileNotFoundError(f"{title} in {root} is incomplete or corrupt: {err}") from None
    x = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))).float().div_(255.0)
    return TensorDataset(x, torch.tensor(ds.targets, dtype=torch.int64))
