"""Real test images shipped by an installed package (foolbox's ``foolbox/data``), no network.

foolbox 3 ships the first 20 test images of CIFAR-10, CIFAR-100, MNIST, Fashion-MNIST
(PNG) and 20 ImageNet validation images (JPEG, 512x512); the label is in the file
name: ``cifar10_00_3.png`` is index 0 with label 3. We read the files only (foolbox
itself is not imported).
"""
from __future__ import annotations

import importlib.util
import pathlib
import re

import numpy as np
import torch

from ..datasets import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, DATASETS, Dataset

__all__ = ["sample_images", "samples_folder", "SAMPLE_SETS", "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES"]

SAMPLE_SETS = {"cifar10": "cifar10", "cifar100": "cifar100", "mnist": "mnist",
               "fashion_mnist": "fashionMNIST", "imagenet": "imagenet"}
# the class names live in the dataset registry (lpgeom.datasets); re-exported here
_NAME = re.compile(r"^(?P<set>[A-Za-z0-9]+)_(?P<index>\d+)_(?P<label>\d+)\.(png|jpg)$")


def samples_folder() -> pathlib.Path:
    """Folder holding foolbox's sample images.

    Raises
    ------
    FileNotFoundError
        If foolbox is not installed (it comes with the ``samples`` extra: ``pip install "lpgeom[samples]"``).
    """
    spec = importlib.util.find_spec("foolbox")
    if spec is None or spec.origin is None:
        raise FileNotFoundError('the sample images come with the foolbox package, which is not installed: '
                                'pip install "lpgeom[samples]" (installs foolbox==3.3.4)')
    folder = pathlib.Path(spec.origin).parent / "data"
    if not folder.is_dir():
        raise FileNotFoundError(f"foolbox is installed but has no data folder at {folder}")
    return folder


def sample_images(name: str = "cifar10", n: int = 20, size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Load real test images with their labels.

    Parameters
    ----------
    name : {"cifar10", "cifar100", "mnist", "fashion_mnist", "imagenet"}
    n : int
        How many, 1 to 20, in index order.
    size : int, optional
        Resize the shorter side to ``size * 256 / 224`` and centre-crop ``size`` (ImageNet
        evaluation transform); default 224 for ImageNet, the native size otherwise.

    Returns
    -------
    x : torch.Tensor, shape (n, C, H, W), float32 in [0, 1]
    y : torch.Tensor, shape (n,), int64
    """
    from PIL import Image

    if name not in SAMPLE_SETS:
        raise ValueError(f"unknown sample set {name!r}; choose one of {', '.join(SAMPLE_SETS)}")
    if not 1 <= int(n) <= 20:
        raise ValueError(f"n must be between 1 and 20 (foolbox ships 20 images per set), got {n}")
    prefix = SAMPLE_SETS[name]
    files = []
    for path in samples_folder().iterdir():
        match = _NAME.match(path.name)
        if match and match["set"] == prefix:
            files.append((int(match["index"]), int(match["label"]), path))
    files.sort()
    if len(files) < n:
        raise FileNotFoundError(f"found only {len(files)} {name} images in {samples_folder()}")
    if size is None and name == "imagenet":   # the registry's evaluation crop
        size = DATASETS[Dataset.IMAGENET].shape[-1]
    images, labels = [], []
    for _, label, path in files[:n]:
        img = Image.open(path)
        img = img.convert("RGB") if img.mode not in ("L", "RGB") else img
        if size is not None:
            short = round(size * 256 / 224)
            w, h = img.size
            scale = short / min(w, h)
            img = img.resize((max(short, round(w * scale)), max(short, round(h * scale))), Image.BILINEAR)
            w, h = img.size
            left, top = (w - size) // 2, (h - size) // 2
            img = img.crop((left, top, left + size, top + size))
        arr = np.asarray(img, dtype=np.float32) / 255.0
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        images.append(torch.from_numpy(arr.copy()))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)
