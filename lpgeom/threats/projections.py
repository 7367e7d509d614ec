"""Exact Euclidean projections onto (x + B_p(eps)) ∩ [0, 1]^d, batched over the first axis.

All functions take ``v`` (the point to project) and ``x`` (the centre), both of shape
``(B, ...)`` with ``x`` inside the box, and a radius ``eps`` (float or tensor of
shape ``(B,)``). They use a fixed number of vectorised iterations: no host-device
synchronisation, any device, arithmetic in float32 or float64.
"""
from __future__ import annotations

import torch

__all__ = ["project_linf_box", "project_l2_box", "project_l1_box"]

_BISECTION_STEPS = 60  # halves the bracket to 2^-60 of its width: exact in float64
_BISECTION_STEPS_FLOAT32 = 30  # beyond float32 resolution of the threshold


def _per_example(eps: float | torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    eps = torch.as_tensor(eps, dtype=ref.dtype, device=ref.device)
    return eps.reshape(-1, 1) if eps.ndim else eps.reshape(1, 1)


def _flat_problem(v: torch.Tensor, x: torch.Tensor, eps: float | torch.Tensor):
    """(shape, working dtype, x as (B, d), v - x as (B, d), eps as (B, 1)) in float32 or float64."""
    work = torch.float64 if v.dtype == torch.float64 else torch.float32
    xf = x.reshape(v.shape[0], -1).to(work)
    delta = v.reshape(v.shape[0], -1).to(work) - xf
    return v.shape, work, xf, delta, _per_example(eps, delta)


def project_linf_box(v: torch.Tensor, x: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """Project onto :math:`\\{z : \\|z-x\\|_\\infty \\le \\epsilon,\\ 0 \\le z \\le 1\\}` (a box: clamp twice).

    Parameters
    ----------
    v, x : torch.Tensor, shape (B, ...)
    eps : float or torch.Tensor of shape (B,)

    Returns
    -------
    torch.Tensor, shape (B, ...)
    """
    e = _per_example(eps, v).reshape(-1, *([1] * (v.ndim - 1)))
    return torch.minimum(torch.maximum(v, x - e), x + e).clamp(0.0, 1.0)


def project_l2_box(v: torch.Tensor, x: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """Exact projection onto :math:`\\{z : \\|z-x\\|_2 \\le \\epsilon,\\ 0 \\le z \\le 1\\}`.

    By the KKT conditions the projection is :math:`z(\\lambda) = \\mathrm{clip}(x + (v-x)/(1+\\lambda), 0, 1)`
    with the smallest :math:`\\lambda \\ge 0` such that :math:`\\|z(\\lambda)-x\\|_2 \\le \\epsilon`;
    :math:`\\|z(\\lambda)-x\\|_2` decreases in :math:`\\lambda`, found here by bisection on
    :math:`t = 1/(1+\\lambda) \\in [0, 1]`. (Projecting onto the ball and then clipping, as
    many attacks do, is feasible but not the closest point.)

    Parameters
    ----------
    v, x : torch.Tensor, shape (B, ...)
    eps : float or torch.Tensor of shape (B,)

    Returns
    -------
    torch.Tensor, shape (B, ...)
    """
    shape, work, xf, delta, e = _flat_problem(v, x, eps)
    lo_box, hi_box = -xf, 1.0 - xf  # room to the box around x

    def dist(t: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(torch.clamp(delta * t, lo_box, hi_box), dim=1, keepdim=True)

    lo = torch.zeros_like(e)
    hi = torch.ones_like(e)
    inside = dist(hi) <= e  # t = 1: plain box projection already in the ball
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        ok = dist(mid) <= e
        lo = torch.where(ok, mid, lo)
        hi = torch.where(ok, hi, mid)
    t = torch.where(inside, torch.ones_like(lo), lo)
    return (xf + torch.clamp(delta * t, lo_box, hi_box)).reshape(shape).to(v.dtype)


def project_l1_box(v: torch.Tensor, x: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """Exact projection onto :math:`\\{z : \\|z-x\\|_1 \\le \\epsilon,\\ 0 \\le z \\le 1\\}`.

    With :math:`\\delta = v - x` and :math:`u_i` the room to the box in the direction of
    :math:`\\delta_i`, the solution is :math:`z_i = x_i + \\mathrm{sign}(\\delta_i)\\min(u_i, \\max(|\\delta_i| - \\tau, 0))`
    with the smallest :math:`\\tau \\ge 0` such that :math:`\\sum_i \\min(u_i, (|\\delta_i|-\\tau)_+) \\le \\epsilon`.
    That sum is piecewise linear and non-increasing in :math:`\\tau`; a fixed number of
    vectorised bisection steps (in place, one reused buffer) locates the linear piece
    holding the root, then one exact linear solve on that piece finishes (no sort over
    2d breakpoints, no host-device synchronisation).

    Parameters
    ----------
    v, x : torch.Tensor, shape (B, ...)
    eps : float or torch.Tensor of shape (B,)

    Returns
    -------
    torch.Tensor, shape (B, ...)
    """
    shape, work, xf, delta, e = _flat_problem(v, x, eps)
    mag = delta.abs()
    room = torch.where(delta >= 0, 1.0 - xf, xf).clamp_min(0.0)
    cap = torch.minimum(mag, room)  # tau = 0: projection onto the box only
    inside = cap.sum(dim=1, keepdim=True) <= e
    # bisection on the piecewise-linear, non-increasing mass(tau); one reused buffer
    lo = torch.zeros_like(e)
    hi = mag.amax(dim=1, keepdim=True)
    buf = torch.empty_like(mag)
    for _ in range(_BISECTION_STEPS if work == torch.float64 else _BISECTION_STEPS_FLOAT32):
        mid = 0.5 * (lo + hi)
        torch.sub(mag, mid, out=buf)
        buf.clamp_(min=0.0)
        torch.minimum(buf, room, out=buf)
        too_much = buf.sum(dim=1, keepdim=True) > e
        lo = torch.where(too_much, mid, lo)
        hi = torch.where(too_much, hi, mid)
    # exact finish in float64 whatever the input precision: inside the final bracket the
    # active set is fixed (up to rounding), so solve that linear piece for tau
    return _l1_finish(shape, v.dtype, xf, delta, e, lo, hi, inside)


def _l1_finish(shape, out_dtype, xf, delta, e, lo, hi, inside) -> torch.Tensor:
    """Solve for tau on the bracket's linear piece in float64 and round the result towards x.

    The returned point satisfies ``||z - x||_1 <= eps`` exactly for the stored values
    (float32 inputs: each coordinate is rounded towards ``x``, never past the float64
    step), so membership holds without a tolerance; its distance to the float64
    solution is at most one ulp per coordinate.
    """
    f64 = torch.float64
    x64, d64, e64 = xf.to(f64), delta.to(f64), e.to(f64)
    lo, hi = lo.to(f64), hi.to(f64)
    mag = d64.abs()
    room = torch.where(d64 >= 0, 1.0 - x64, x64).clamp_min(0.0)
    r = mag - 0.5 * (lo + hi)
    free = (r > 0) & (r < room)
    n_free = free.sum(dim=1, keepdim=True).to(f64)
    capped_mass = torch.where(r >= room, room, torch.zeros_like(room)).sum(dim=1, keepdim=True)
    free_mag = torch.where(free, mag, torch.zeros_like(mag)).sum(dim=1, keepdim=True)
    tau_exact = (free_mag + capped_mass - e64) / n_free.clamp_min(1.0)
    tau = torch.where((n_free > 0) & (tau_exact >= lo) & (tau_exact <= hi), tau_exact, hi)
    tau = torch.where(inside, torch.zeros_like(tau), tau)
    step = torch.minimum(room, (mag - tau).clamp_min(0.0))
    # the float32 bracket may leave the mass a few ulps above eps: shrink towards x (stays in the box)
    mass = step.sum(dim=1, keepdim=True)
    step = step * torch.where(~inside & (mass > e64), e64 / mass, torch.ones_like(mass))
    z64 = x64 + torch.sign(d64) * step
    z = z64.to(out_dtype)
    if out_dtype != f64:  # rounding to nearest may land past the step: take the neighbour towards x
        x_out = xf.to(out_dtype)
        past = (z.to(f64) - x64).abs() > step
        z = torch.where(past, torch.nextafter(z, x_out), z)
    return z.reshape(shape)
