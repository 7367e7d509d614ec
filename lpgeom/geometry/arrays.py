"""Points given to the geometry: any real numpy array or torch tensor, as float64 rows.

Every input is computed in float64 (float32 on MPS, which has no float64): integers,
booleans, float16, bfloat16, float8 and lists of Python numbers (also integers beyond
int64). The conversion is exact for every dtype of at most 53 bits of mantissa, so the
geometry judges the very values it was given; computing in the input's dtype instead gives
wrong answers (``abs`` of int8 -128 overflows, a float16 sum of large entries overflows).

Refused, with one sentence naming ``x``, what it is and what is accepted: complex input,
non-numeric input (strings, dates, objects that are not real numbers), masked arrays (their
hidden entries would count), meta tensors (no values) and sparse tensors, entries beyond the
float64 range, and NaN or infinite entries (:func:`check_finite`).

The default membership tolerance follows the input's dtype (:func:`default_tolerance`).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._validation import shown

__all__ = ["as_rows", "check_finite", "default_tolerance", "is_torch", "DEFAULT_TOLERANCE"]

ArrayLike = Any  # numpy.ndarray, torch.Tensor or nested lists of real numbers, shape (n, d) or (d,)

DEFAULT_TOLERANCE = {"float64": 1e-9, "float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}
"""Default tolerance by dtype: four times the unit roundoff of float16 and bfloat16 (about
4.9e-4 and 3.9e-3), a margin for float32, 1e-9 for float64 and for exact integers and
booleans. Other floating dtypes (float8, long double): twice their machine epsilon, at least 1e-9."""


def is_torch(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch for numpy input)."""
    return type(x).__module__.startswith("torch")


def default_tolerance(dtype: Any) -> float:
    """The default membership tolerance for points of ``dtype`` (see :data:`DEFAULT_TOLERANCE`)."""
    name = str(dtype).removeprefix("torch.")
    if name in DEFAULT_TOLERANCE:
        return DEFAULT_TOLERANCE[name]
    if name.startswith("float"):  # float8 variants, float128 (long double)
        eps = _machine_epsilon(dtype)
        return max(1e-9, 2 * eps)
    return 1e-9  # integers and booleans are exact


def _machine_epsilon(dtype: Any) -> float:
    if _is_torch_dtype(dtype):
        import torch

        return float(torch.finfo(dtype).eps)
    return float(np.finfo(dtype).eps)


def _is_torch_dtype(dtype: Any) -> bool:
    return type(dtype).__module__.startswith("torch")


def as_rows(x: ArrayLike) -> tuple[Any, bool, float]:
    """``x`` as float64 rows of shape (n, d), whether it was a single point (d,), and its default tolerance.

    Parameters
    ----------
    x : numpy.ndarray, torch.Tensor or nested lists of real numbers, shape (n, d) or (d,)

    Returns
    -------
    rows : numpy.ndarray or torch.Tensor, shape (n, d), float64 (float32 on MPS)
        A torch tensor stays on its device.
    single : bool
    tolerance : float
        :func:`default_tolerance` of the input's dtype.

    Raises
    ------
    TypeError
        Complex, non-numeric, masked, sparse input.
    ValueError
        A meta tensor, a shape other than (d,) or (n, d), entries beyond the float64 range.
    """
    if is_torch(x):
        return _torch_rows(x)
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError("x is a masked array; its masked entries would count with their hidden values: pass "
                        "x.filled(0) or the unmasked rows")
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be an array of real numbers, got {type(x).__name__} ({error})") from None
    tolerance = default_tolerance(array.dtype)
    if array.dtype.kind == "c":
        raise TypeError(f"x must be real, got complex dtype {array.dtype}; pass x.real or np.abs(x)")
    if array.dtype.kind == "O":
        array = _objects_as_floats(array)
    elif array.dtype.kind not in "biuf":
        raise TypeError(f"x must be an array of real numbers, got dtype {array.dtype}")
    if array.ndim not in (1, 2):
        raise ValueError(f"x must have shape (d,) or (n, d), got {array.shape}")
    array = array.astype(np.float64, copy=False)
    single = array.ndim == 1
    return (array[None, :] if single else array), single, tolerance


def _objects_as_floats(array: np.ndarray) -> np.ndarray:
    """An object array of real numbers (e.g. Python integers beyond int64) as float64; anything else refused."""
    for value in array.flat:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"x must be an array of real numbers, got an entry {shown(value)} ({type(value).__name__})")
    try:
        return array.astype(np.float64)
    except OverflowError:
        raise ValueError("x has an entry beyond the float64 range (about 1.8e308)") from None


def _torch_rows(x: Any) -> tuple[Any, bool, float]:
    import torch

    if x.is_meta:
        raise ValueError("x is a meta tensor, which holds no values; pass a tensor on a real device (cpu, cuda, ...)")
    if x.layout != torch.strided:
        raise TypeError(f"x must be a dense tensor, got layout {x.layout}; pass x.to_dense()")
    if x.is_complex():
        raise TypeError(f"x must be real, got a complex tensor of dtype {x.dtype}; pass x.real or x.abs()")
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (d,) or (n, d), got {tuple(x.shape)}")
    tolerance = default_tolerance(x.dtype)
    x = x.to(torch.float32 if x.device.type == "mps" else torch.float64)  # MPS has no float64
    single = x.ndim == 1
    return (x.unsqueeze(0) if single else x), single, tolerance


def check_finite(rows: Any) -> None:
    """Raise ``ValueError`` if ``rows`` (from :func:`as_rows`) hold NaN or infinite entries."""
    finite = rows.isfinite().all() if is_torch(rows) else np.isfinite(rows).all()
    if not bool(finite):
        raise ValueError("x contains NaN or infinite values")
