"""Full Fashion-MNIST (60,000 train / 10,000 test, 28x28), the embedded default dataset.

Search order for the four gzipped IDX files (the files torchvision's ``FashionMNIST``
reads from ``<root>/FashionMNIST/raw/``):

1. ``root`` if given (either holding the files, or ``root/FashionMNIST/raw``), and only
   there: a ``root`` without the files is an error, never a silent fall-back to another copy;
2. otherwise ``$LPGEOM_DATA_DIR`` (same two layouts);
3. otherwise ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist`` package);
4. with ``download=True``: torchvision downloads into ``root`` (or ``$LPGEOM_DATA_DIR``, or
   ``~/.cache/lpgeom``).
"""
from __future__ import annotations

import gzip
import os
import pathlib
import zlib

import numpy as np
import torch
from torch.utils.data import TensorDataset

__all__ = ["fashion_mnist", "find_fashion_mnist", "read_idx", "check_split_flag", "FILES", "DEBIAN_DIR"]

DEBIAN_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
FILES = {
    True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a numpy array of its declared shape and dtype.

    Raises
    ------
    ValueError
        If the magic number or the size does not match the IDX format, or a ``.gz`` file is
        not a complete gzip stream (truncated, or another kind of file under a ``.gz`` name):
        the message names the file.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} " + ("is a folder, not a file" if path.is_dir() else "does not exist"))
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except EOFError:
        raise ValueError(f"{path} is a truncated gzip file (it ends before its compressed data does): "
                         "download it again") from None
    except (gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"{path} is not a valid gzip file ({err}): it is damaged or another kind of file "
                         "under a .gz name; download it again") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape))
    if len(data) - offset != expected:
        raise ValueError(f"{path} is truncated: header says {shape} ({expected} bytes), file has {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def check_split_flag(value: object, name: str = "train") -> bool:
    """Refuse anything but a bool for a dataset's ``train`` (or ``download``) flag (TypeError naming it)."""
    if not isinstance(value, (bool, np.bool_)):
        hint = " (use train=False for the test split)" if name == "train" and isinstance(value, str) else ""
        raise TypeError(f"{name} must be True or False, got {value!r}{hint}")
    return bool(value)


def _candidates(root: str | os.PathLike | None) -> list[pathlib.Path]:
    """The folders searched: ``root``'s two layouts only when given, else the environment's and Debian's."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)) or not str(root):
            raise TypeError(f"root must be a non-empty path (str or os.PathLike) or None, got {root!r}")
        return [pathlib.Path(root), pathlib.Path(root) / "FashionMNIST" / "raw"]
    env = os.environ.get("LPGEOM_DATA_DIR")
    if env:  # the user pointed at a copy: only that one
        return [pathlib.Path(env), pathlib.Path(env) / "FashionMNIST" / "raw"]
    return [DEBIAN_DIR]


def find_fashion_mnist(root: str | os.PathLike | None = None) -> pathlib.Path:
    """Folder holding the four Fashion-MNIST files.

    Raises
    ------
    FileNotFoundError
        Naming every place searched and how to get the data. A given ``root`` is the only
        place searched: the caller asked for that copy.
    """
    places = _candidates(root)
    for place in places:
        if all((place / f).is_file() for pair in FILES.values() for f in pair):
            return place
    chosen = (f"root={str(root)!r}" if root is not None else
              f"LPGEOM_DATA_DIR={os.environ['LPGEOM_DATA_DIR']!r}" if os.environ.get("LPGEOM_DATA_DIR") else None)
    if chosen is not None:
        raise FileNotFoundError(f"Fashion-MNIST not found in {chosen} (searched " + ", ".join(str(p) for p in places)
                                + f" for {', '.join(f for pair in FILES.values() for f in pair)}); point it at the folder "
                                "that holds them, or pass download=True on a networked machine")
    raise FileNotFoundError(
        "Fashion-MNIST not found; searched: " + ", ".join(str(p) for p in places)
        + ". Install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
        "or pass download=True on a networked machine."
    )


def fashion_mnist(train: bool = True, root: str | os.PathLike | None = None, download: bool = False) -> TensorDataset:
    """Fashion-MNIST as a TensorDataset of images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64.

    Parameters
    ----------
    train : bool
        True for the 60,000 training images, False for the 10,000 test images. Only a
        bool is accepted (a string such as ``"test"`` is a ``TypeError``, never read as True).
    root : path, optional
        Folder holding the files (see the module docstring for the search order).
    download : bool
        Let torchvision download the files if they are missing (needs network).

    Raises
    ------
    TypeError
        If ``train`` or ``download`` is not a bool.
    FileNotFoundError
        If the files are not found.
    ValueError
        If a file is truncated, not gzip, or not the IDX array its name says (each error names the file).
    """
    train = check_split_flag(train, "train")
    check_split_flag(download, "download")
    try:
        folder = find_fashion_mnist(root)
    except FileNotFoundError:
        if not download:
            raise
        from torchvision.datasets import FashionMNIST

        target = pathlib.Path(root or os.environ.get("LPGEOM_DATA_DIR") or pathlib.Path.home() / ".cache" / "lpgeom")
        FashionMNIST(str(target), train=train, download=True)
        folder = target / "FashionMNIST" / "raw"
    images_file, labels_file = FILES[train]
    images = read_idx(folder / images_file)
    labels = read_idx(folder / labels_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{folder / images_file} holds an array of shape {images.shape}, not (N, 28, 28) images: "
                         "the file is mislabelled or damaged")
    if labels.ndim != 1:
        raise ValueError(f"{folder / labels_file} holds an array of shape {labels.shape}, not (N,) labels: "
                         "the file is mislabelled or damaged")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"Fashion-MNIST files in {folder} are inconsistent: {images.shape[0]} images in {images_file}, "
                         f"{labels.shape[0]} labels in {labels_file}")
    if labels.size and int(labels.max()) > 9:
        raise ValueError(f"{folder / labels_file} holds label {int(labels.max())}, not one of the 10 classes 0-9: "
                         "the file is mislabelled or damaged")
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return TensorDataset(x, y)
