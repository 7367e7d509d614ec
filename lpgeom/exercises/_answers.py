"""What a reader may hand a checker: numbers, booleans and tensors read one way for every checker.

A checker never raises on a reader's answer: :class:`AnswerError` carries the verdict
(``None`` left in place of the answer, a string where a number or a boolean is asked, an
array where one number is asked) and the checker turns it into a failed
:class:`~lpgeom.exercises.geometry.CheckResult`.

Rules, the same in every checker:

- a number is a Python ``int``/``float`` (or any ``numbers.Real`` such as ``Fraction``), a
  numpy scalar of an integer or float dtype, or a 0-d numpy array / torch tensor of such a
  dtype; a 1-element array of shape ``(1,)`` or more dimensions is refused with the advice to
  take ``.item()`` (one answer, one number: a hidden array shape is usually a slip elsewhere);
- a number kept in a low-precision dtype (float16, bfloat16) is refused: it holds about
  three significant digits, too few to check an answer against 1e-6;
- a float32 answer is compared with a tolerance widened to its precision (:func:`tolerance`);
- a boolean is ``True``/``False``, ``numpy.bool_`` or a 0-d bool array/tensor: never a string
  (``"no"`` is a non-empty, truthy string) nor a number;
- a tensor answer must be a floating torch tensor; it is compared in float64.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

__all__: list[str] = []  # the checkers' private helpers: nothing here is part of the public API

#: the verdict for an answer left as ``None``
PLACEHOLDER = "is None: replace the placeholder with your answer"
#: the widest precision (machine epsilon of the dtype) a checked number may have: float32's is 1.2e-7
_COARSEST = 1e-6


class AnswerError(ValueError):
    """An answer of the wrong kind; its message is the verdict shown to the reader."""


def _describe(value: object) -> str:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"a {type(value).__module__.split('.')[0]} array of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}" if isinstance(value, (str, bytes)) else type(value).__name__


def _precision(dtype: object) -> float:
    """Machine epsilon of a numpy or torch dtype (0 for an integer one: exact)."""
    if isinstance(dtype, torch.dtype):
        return torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else 0.0


def as_number(value: object, what: str = "your answer") -> tuple[float, float]:
    """``value`` as a Python float, with the precision of the dtype it came in.

    Parameters
    ----------
    value : object
        The reader's answer.
    what : str
        How the verdict names it (``"your answer"``, ``"your function's result"``).

    Returns
    -------
    number : float
    precision : float
        Machine epsilon of its dtype: 2.2e-16 for Python floats and float64, 1.2e-7 for
        float32, 0 for integers.

    Raises
    ------
    AnswerError
        ``None``, a string, a boolean, a complex number, an array with a shape, a
        low-precision float, or anything else that is not one real number.
    """
    if value is None:
        raise AnswerError(f"{what} {PLACEHOLDER}")
    if isinstance(value, (bool, np.bool_)):
        raise AnswerError(f"{what} is the boolean {bool(value)}: give a number")
    if isinstance(value, (str, bytes)):
        raise AnswerError(f"{what} is the string {value!r}: give a number, not text")
    if isinstance(value, (np.ndarray, torch.Tensor, np.generic)):
        dtype = value.dtype
        is_bool = dtype == torch.bool if isinstance(value, torch.Tensor) else np.dtype(dtype) == np.bool_
        is_real = (dtype.is_floating_point or not (dtype.is_complex or is_bool)) if isinstance(value, torch.Tensor) \
            else np.issubdtype(np.dtype(dtype), np.floating) or np.issubdtype(np.dtype(dtype), np.integer)
        if getattr(value, "ndim", 0) != 0:
            size = value.numel() if isinstance(value, torch.Tensor) else value.size
            hint = " (take .item() of its one element)" if size == 1 else ""
            raise AnswerError(f"{what} is {_describe(value)}: give one number{hint}")
        if is_bool or not is_real:
            raise AnswerError(f"{what} has dtype {dtype}: give a real number")
        precision = _precision(dtype)
        if precision > _COARSEST:
            raise AnswerError(f"{what} is a {dtype} number, which keeps only about three significant digits: "
                              "compute it in float32 or float64")
        return float(value.item()), precision
    if isinstance(value, numbers.Real):
        number = float(value)
        return number, 0.0 if isinstance(value, numbers.Integral) else float(np.finfo(np.float64).eps)
    raise AnswerError(f"{what} is {_describe(value)}: give a number")


def tolerance(rtol: float, precision: float) -> float:
    """The relative tolerance for an answer of this precision: ``rtol``, widened to 64 units of its last place."""
    return max(rtol, 64 * precision)


def as_bool(value: object, what: str = "your answer") -> bool:
    """``value`` as a Python bool: only ``True``/``False``, ``numpy.bool_`` or a 0-d bool array or tensor.

    Raises
    ------
    AnswerError
        ``None``, a string (``"no"`` would be truthy), a number, or anything else.
    """
    if value is None:
        raise AnswerError(f"{what} {PLACEHOLDER}")
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0 and \
            (value.dtype == torch.bool if isinstance(value, torch.Tensor) else value.dtype == np.bool_):
        return bool(value.item())
    if isinstance(value, (str, bytes)):
        raise AnswerError(f"{what} is the string {value!r}: give True or False, not text")
    raise AnswerError(f"{what} is {_describe(value)}: give True or False")


def as_float_tensor(value: object, shape: tuple[int, ...], what: str = "your function") -> torch.Tensor:
    """A reader's tensor of ``shape`` in float64 (any floating dtype accepted), for comparison with the reference.

    Raises
    ------
    AnswerError
        Not a torch tensor, not floating, or another shape.
    """
    if value is None:
        raise AnswerError(f"{what} returned None: return a torch.Tensor (did you forget `return`?)")
    if not isinstance(value, torch.Tensor):
        raise AnswerError(f"{what} returned {_describe(value)}, expected a torch.Tensor")
    if not value.dtype.is_floating_point:
        raise AnswerError(f"{what} returned a tensor of dtype {value.dtype}: return floating point values")
    if torch.finfo(value.dtype).eps > _COARSEST:
        raise AnswerError(f"{what} returned a {value.dtype} tensor, which keeps only about three significant digits: "
                          "compute in float32 or float64")
    if tuple(value.shape) != tuple(shape):
        raise AnswerError(f"{what} returned shape {tuple(value.shape)}, expected {tuple(shape)}")
    return value.detach().to("cpu", torch.float64)


def as_function(value: object, what: str = "your answer") -> object:
    """``value`` if it can be called, else :class:`AnswerError` (``None`` left in place, a number where a function is asked)."""
    if value is None:
        raise AnswerError(f"{what} {PLACEHOLDER} (a function)")
    if not callable(value):
        raise AnswerError(f"{what} is {_describe(value)}: give a function (def ...) and pass the function itself")
    return value
