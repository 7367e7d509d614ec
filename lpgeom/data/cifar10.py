"""CIFAR-10 through torchvision (downloads on a networked machine), as in-memory tensors."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import torch
from torch.utils.data import TensorDataset

__all__ = ["cifar10"]


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

    root = pathlib.Path(root or os.environ.get("LPGEOM_DATA_DIR") or pathlib.Path.home() / ".cache" / "lpgeom")
    if not download and not (root / "cifar-10-batches-py").is_dir():
        raise FileNotFoundError(f"CIFAR-10 not found in {root / 'cifar-10-batches-py'}; pass download=True on a "
                                "networked machine (or --download in the CLI)")
    try:
        ds = CIFAR10(str(root), train=train, download=download)
    except RuntimeError as err:
        raise FileNotFoundError(f"CIFAR-10 in {root} is incomplete or corrupt: {err}") from None
    x = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))).float().div_(255.0)
    return TensorDataset(x, torch.tensor(ds.targets, dtype=torch.int64))
