"""Iterates of float16/bfloat16 batches that stay in ball ∩ box: computed in float32, rounded toward x.

A projection returns a point of ball ∩ box in its working precision; rounding that point to
nearest in float16 or bfloat16 (about 3 and 2 significant digits) can move a coordinate
away from ``x`` and the point out of the ball (by up to 2.4e-4 per pixel near 1 in float16).
The attacks therefore step and project in float32 and round each coordinate to the
neighbouring representable value on ``x``'s side: no coordinate moves further from ``x``
than the projected point, so every l_p norm of the perturbation shrinks and the box holds.
For float32 and float64 batches nothing changes (the work is done in their own dtype).
"""
from __future__ import annotations

import torch

from ..threats import LpBall

__all__ = ["working_dtype", "round_toward", "project_to", "random_start_in"]

_COARSE = (torch.float16, torch.bfloat16)


def working_dtype(x: torch.Tensor) -> torch.dtype:
    """float32 for float16/bfloat16 batches, else ``x``'s own dtype."""
    return torch.float32 if x.dtype in _COARSE else x.dtype


def round_toward(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``z`` (B, ...) in ``x``'s dtype, each coordinate rounded to the representable value between it and ``x``.

    The result satisfies ``|result - x| <= |z - x|`` coordinate-wise (computed exactly in
    float32), and lies in [0, 1] where ``z`` and ``x`` do. A no-op cast when ``z`` already
    has ``x``'s dtype.
    """
    if z.dtype == x.dtype:
        return z
    rounded = z.to(x.dtype)
    if x.dtype not in _COARSE:
        return rounded
    xf, zf = x.float(), z.float()
    away = (rounded.float() - xf).abs() > (zf - xf).abs()
    return torch.where(away, torch.nextafter(rounded, x), rounded)


def project_to(ball: LpBall, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``ball.project(v, x)`` computed in ``v``'s (working) dtype, returned in ``x``'s dtype inside ball ∩ box.

    ``x`` enters the projection in ``v``'s dtype too (``x - eps`` rounded in float16 can lie
    outside the ball); the cast is free when the dtypes agree.
    """
    return round_toward(ball.project(v, x.to(v.dtype)), x)


def random_start_in(ball: LpBall, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """``ball.random_start`` drawn and projected in the working dtype, returned in ``x``'s dtype inside ball ∩ box."""
    return round_toward(ball.random_start(x.to(working_dtype(x)), generator), x)
