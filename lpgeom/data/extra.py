"""Extra pseudo-labelled data in the format of Carmon et al. (2019), ``ti_500K_pseudo_labeled.pickle``.

The file is a pickle of a dict with ``data`` (N, 32, 32, 3) uint8 images and
``extrapolated_targets`` (N,) labels. Unpickling can execute code, so the file is read
with a restricted unpickler that only rebuilds numpy arrays and plain containers.
"""
from __future__ import annotations

import io
import os
import pathlib
import pickle

import numpy as np
import torch
from torch.utils.data import TensorDataset

__all__ = ["pseudo_labelled_extra", "SafeArrayUnpickler"]

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("collections", "OrderedDict"),
    ("numpy", "frombuffer"), ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
}


class SafeArrayUnpickler(pickle.Unpickler):
    """Unpickler that refuses everything but numpy arrays and plain containers."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from an extra-data pickle (only numpy arrays)")


def pseudo_labelled_extra(path: str | os.PathLike) -> TensorDataset:
    """The extra images as a TensorDataset: (N, 3, 32, 32) float32 in [0, 1] and (N,) int64 labels.

    Raises
    ------
    FileNotFoundError
        If the file is missing (it is downloaded separately, ~3 GB, on a networked machine).
    ValueError
        If it is not in the expected format, or holds objects other than arrays.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no extra-data pickle at {path} (Carmon et al.'s ti_500K_pseudo_labeled.pickle)")
    try:
        with open(path, "rb") as fh:
            obj = SafeArrayUnpickler(io.BufferedReader(fh)).load()
    except (pickle.UnpicklingError, EOFError, OverflowError, ValueError, MemoryError) as err:  # damaged bytes too
        raise ValueError(f"{path} is not a valid extra-data pickle: {err}") from None
    if not isinstance(obj, dict) or "data" not in obj or "extrapolated_targets" not in obj:
        raise ValueError(f"{path} must hold a dict with keys 'data' and 'extrapolated_targets'")
    data, targets = np.asarray(obj["data"]), np.asarray(obj["extrapolated_targets"])
    if data.ndim != 4 or data.shape[-1] != 3 or len(data) != len(targets):
        raise ValueError(f"{path}: expected data (N, H, W, 3) and N targets, got {data.shape} and {targets.shape}")
    if data.dtype != np.uint8:  # a float array may already be in [0, 1]: dividing by 255 again is silently wrong
        raise ValueError(f"{path}: 'data' must be uint8 images (0-255, as Carmon et al.'s file), got {data.dtype}")
    if not np.issubdtype(targets.dtype, np.integer):  # 3.7 must not become class 3, 'cat' is no class index
        raise ValueError(f"{path}: 'extrapolated_targets' must be integer class indices, got {targets.dtype}")
    x = torch.from_numpy(np.ascontiguousarray(data.transpose(0, 3, 1, 2))).float().div_(255.0)
    return TensorDataset(x, torch.from_numpy(targets.astype(np.int64)))
