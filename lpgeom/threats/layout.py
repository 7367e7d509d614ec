"""Per-example rows of a batch in its memory order, so flattening never copies a dense layout.

Per-example norms, sorts and thresholds do not depend on the order of an example's
coordinates. Flattening a ``channels_last`` batch ``(B, C, H, W)`` with ``reshape`` in
the logical (NCHW) order copies it, and the result comes back NCHW-contiguous (the next
``channels_last`` convolution converts it again). Instead, :func:`memory_order` finds the
order of the dimensions in which the tensor is contiguous (``(0, 2, 3, 1)`` for
``channels_last``), :func:`to_rows` flattens through that permutation (a view) and
:func:`from_rows` restores the shape with the input's strides (a view again).
"""
from __future__ import annotations

import math

import torch

__all__ = ["memory_order", "to_rows", "from_rows"]

Order = tuple[int, ...] | None


def memory_order(t: torch.Tensor) -> Order:
    """The permutation of ``t``'s dimensions (batch first) that makes it contiguous, or None.

    Parameters
    ----------
    t : torch.Tensor, shape (B, ...)

    Returns
    -------
    tuple of int or None
        None when ``t`` is contiguous already, or when no order with the batch first is
        contiguous (a sliced tensor: flattening it copies, whatever the order);
        ``(0, 2, 3, 1)`` for a ``channels_last`` (B, C, H, W) tensor.
    """
    if t.ndim < 3 or t.is_contiguous():
        return None
    order = (0, *sorted(range(1, t.ndim), key=lambda dim: -t.stride(dim)))
    return order if t.permute(order).is_contiguous() else None


def to_rows(t: torch.Tensor, order: Order) -> torch.Tensor:
    """``t`` as (B, d) rows, coordinates in the dimension order ``order`` (a view if ``t`` is laid out so).

    Parameters
    ----------
    t : torch.Tensor, shape (B, ...)
    order : tuple of int or None
        From :func:`memory_order` (of ``t`` or of a tensor whose coordinates must line up
        with ``t``'s); None: the logical order.

    Returns
    -------
    torch.Tensor, shape (B, d)
    """
    return (t if order is None else t.permute(order)).reshape(t.shape[0], math.prod(t.shape[1:]))  # also for B = 0


def from_rows(rows: torch.Tensor, shape: torch.Size, order: Order) -> torch.Tensor:
    """Undo :func:`to_rows`: (B, d) rows back to ``shape``, laid out as the tensor ``order`` came from.

    Parameters
    ----------
    rows : torch.Tensor, shape (B, d), contiguous
    shape : torch.Size
        The logical shape (B, ...) to restore.
    order : tuple of int or None

    Returns
    -------
    torch.Tensor, shape ``shape`` (a view of ``rows``)
    """
    if order is None:
        return rows.reshape(shape)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return rows.reshape([shape[dim] for dim in order]).permute(inverse)
