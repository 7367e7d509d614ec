"""Checks of the arguments given to the balls' methods and the projections: tensors, radii, sparsities.

They read only what a tensor knows without its values (type, dtype, shape, layout), so they
cost nothing on a GPU and never make the host wait for the device: attacks call these
methods at every step. Values inside tensors (NaN, a negative radius in a per-example
tensor, points outside the box) are not checked here; attacks check their inputs once
(:func:`lpgeom.attacks.validate_attack_inputs`). Python numbers are checked in full.
Each check raises one sentence naming the argument, what it got and what is accepted.
"""
from __future__ import annotations

import numbers

import torch

from ..utils import check_real

__all__ = ["check_batch", "check_same_shape", "check_generator", "check_radius_argument", "check_sparsity"]


def check_batch(t: object, name: str) -> torch.Tensor:
    """``t`` if it is a floating-point tensor of shape (B, ...) with at least one coordinate per example.

    Raises
    ------
    TypeError
        Not a tensor, or not floating point (integers, booleans, complex).
    ValueError
        A 0-d tensor, or examples without coordinates (shape (B, 0)).
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape (B, ...), got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.ndim < 1:
        raise ValueError(f"{name} must have a batch dimension, shape (B, ...), got a 0-d tensor")
    if t.ndim > 1 and any(size == 0 for size in t.shape[1:]):
        raise ValueError(f"{name} must have at least one coordinate per example, got shape {tuple(t.shape)}")
    return t


def check_same_shape(t: object, name: str, like: torch.Tensor, like_name: str) -> torch.Tensor:
    """``t`` checked as :func:`check_batch` and of ``like``'s shape."""
    check_batch(t, name)
    if t.shape != like.shape:
        raise ValueError(f"{name} must have the same shape as {like_name}, {tuple(like.shape)}, got {tuple(t.shape)}")
    return t


def check_generator(generator: object) -> torch.Generator | None:
    """``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def check_radius_argument(eps: object, batch: int) -> float | torch.Tensor:
    """A projection's radius: a finite number >= 0, or a real tensor of shape () or (B,).

    A tensor's values are not checked (that would synchronise a GPU).
    """
    if isinstance(eps, torch.Tensor):
        if eps.dtype == torch.bool or eps.is_complex():
            raise TypeError(f"eps must be a number or a real tensor, got a tensor of dtype {eps.dtype}")
        if eps.numel() not in (1, batch) or eps.ndim > 1:
            raise ValueError(f"eps must be a number or a tensor of shape () or ({batch},), got shape {tuple(eps.shape)}")
        return eps
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"eps must be a number or a tensor, got {type(eps).__name__}")
    return check_real(eps, "eps", 0.0)


def check_sparsity(sparsity: object, batch: int) -> float | torch.Tensor:
    """A fraction of coordinates: a number in (0, 1], or a real tensor of shape () or (B,) (values not checked)."""
    if isinstance(sparsity, torch.Tensor):
        if not sparsity.is_floating_point():
            raise TypeError(f"sparsity must be a number in (0, 1] or a floating-point tensor, got dtype {sparsity.dtype}")
        if sparsity.numel() not in (1, batch) or sparsity.ndim > 1:
            raise ValueError(f"sparsity must be a number or a tensor of shape () or ({batch},), got shape "
                             f"{tuple(sparsity.shape)}")
        return sparsity
    return check_real(sparsity, "sparsity", 0.0, 1.0, low_open=True)
