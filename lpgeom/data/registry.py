"""The data layer's half of the dataset registry: one loader per :class:`lpgeom.datasets.Dataset`.

Every loader takes ``(train, root, download)`` and returns a dataset of (x in [0, 1], y)
with the image shape the registry states (``lpgeom.datasets.DATASETS``).
"""
from __future__ import annotations

import os
from collections.abc import Callable

from ..datasets import Dataset, dataset_spec
from .cifar10 import cifar10, cifar100
from .fashion_mnist import fashion_mnist
from .imagenet import imagenet

__all__ = ["LOADERS", "load_dataset"]


def _imagenet(train: bool, root: str | os.PathLike | None, download: bool):
    if download:
        raise ValueError("ImageNet cannot be downloaded (its licence needs a sign-up): give root, the folder "
                         "with train/ and val/ ImageFolder trees")
    if root is None:
        raise ValueError("ImageNet needs root: a folder with train/ and val/ ImageFolder trees")
    return imagenet(root, "train" if train else "val")


LOADERS: dict[Dataset, Callable] = {
    Dataset.FASHION_MNIST: fashion_mnist,
    Dataset.CIFAR10: cifar10,
    Dataset.CIFAR100: cifar100,
    Dataset.IMAGENET: _imagenet,
}


def load_dataset(dataset: Dataset | str, train: bool = True, root: str | os.PathLike | None = None,
                 download: bool = False):
    """The registered dataset ``dataset``'s training or test split.

    Parameters
    ----------
    dataset : Dataset or str
        A registered dataset (``lpgeom.datasets.Dataset``) or its name (``"cifar100"``).
    train : bool
        The training split (else the test / validation split).
    root : path, optional
        Where its files are (each loader's default otherwise; ImageNet needs one).
    download : bool
        Let torchvision download it if missing (network; not ImageNet).

    Returns
    -------
    torch.utils.data.Dataset
        Pairs (x, y): x of the registry's shape (C, H, W), float32 in [0, 1]; y int64 in
        [0, num_classes). In-memory TensorDatasets except ImageNet (an ImageFolder).

    Raises
    ------
    ValueError, TypeError
        For an unknown dataset (the known names are listed).
    FileNotFoundError
        If its files are missing and ``download`` is False.
    """
    spec = dataset_spec(dataset)
    return LOADERS[spec.dataset](train, root, download)
