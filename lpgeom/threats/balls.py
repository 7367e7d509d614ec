"""Threat models as objects: an l_p ball around the input, intersected with the [0, 1] box.

``LpBall(p, eps)`` returns the subclass for that norm (``L1Ball``, ``L2Ball``,
``LinfBall``); any other ``p`` gives a plain ``LpBall`` that measures norms and
membership but has no projection. A new norm is a new subclass, registered by its ``p``.
"""
from __future__ import annotations

import math
from typing import ClassVar

import torch

from ..geometry._validation import parse_p
from .projections import project_l1_box, project_l2_box, project_linf_box

__all__ = ["LpBall", "L1Ball", "L2Ball", "LinfBall"]


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def _expand(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


class LpBall:
    """The threat model :math:`\\{z : \\|z - x\\|_p \\le \\epsilon\\} \\cap [0,1]^d`.

    Parameters
    ----------
    p : float, int or str
        The norm, ``1 <= p <= inf`` (``"inf"``, ``"Linf"``, ``"L2"`` accepted).
    eps : float
        The radius, positive and finite.

    Examples
    --------
    >>> LpBall("inf", 8/255)
    LinfBall(eps=0.0313725)
    >>> LpBall(2, 0.5).name
    'L2'
    """

    _registry: ClassVar[dict[float, type[LpBall]]] = {}
    p: float
    eps: float
    __slots__ = ("p", "eps")

    def __init_subclass__(cls, norm: float | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if norm is not None:
            LpBall._registry[norm] = cls
            cls.norm_p = norm

    def __new__(cls, p: float | str, eps: float | None = None):
        if cls is LpBall:
            if eps is None:
                raise ValueError("LpBall needs a radius: LpBall(p, eps)")
            cls = LpBall._registry.get(parse_p(p), LpBall)
        return object.__new__(cls)

    def __init__(self, p: float | str, eps: float | None = None) -> None:
        if eps is None:
            raise ValueError("LpBall needs a radius: LpBall(p, eps)")
        p = parse_p(p)
        fixed = getattr(type(self), "norm_p", None)
        if fixed is not None and p != fixed:
            raise ValueError(f"{type(self).__name__} is the l_{fixed:g} ball, got p={p:g}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) and not hasattr(eps, "__float__"):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        eps = float(eps)
        if not math.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps must be positive and finite, got {eps}")
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "eps", eps)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; use with_eps() for another radius")

    def __reduce__(self):
        return (LpBall, (self.p, self.eps))

    # --- identity -----------------------------------------------------------------
    @property
    def name(self) -> str:
        """Short name: ``"Linf"``, ``"L2"``, ``"L1"``, ``"L3.5"``."""
        return "Linf" if math.isinf(self.p) else f"L{self.p:g}"

    @property
    def autoattack_norm(self) -> str:
        """The norm string AutoAttack uses (only for p in {1, 2, inf})."""
        raise ValueError(f"AutoAttack has no attack for the {self.name} ball")

    def with_eps(self, eps: float) -> LpBall:
        """The same norm with another radius."""
        return LpBall(self.p, eps)

    def __eq__(self, other) -> bool:
        return isinstance(other, LpBall) and (self.p, self.eps) == (other.p, other.eps)

    def __hash__(self) -> int:
        return hash((self.p, self.eps))

    def __repr__(self) -> str:
        if type(self) is LpBall:
            return f"LpBall(p={self.p:g}, eps={self.eps:g})"
        return f"{type(self).__name__}(eps={self.eps:g})"

    # --- measurement ----------------------------------------------------------------
    def norm(self, delta: torch.Tensor) -> torch.Tensor:
        """l_p norm of each example: (B, ...) -> (B,)."""
        return torch.linalg.vector_norm(_flat(delta).float(), ord=self.p, dim=1)

    def contains(self, x_adv: torch.Tensor, x: torch.Tensor, atol: float = 1e-5) -> torch.Tensor:
        """Whether each ``x_adv`` lies in ``(x + B_p(eps)) ∩ [0,1]^d`` up to ``atol``: (B,) bool."""
        in_ball = self.norm(x_adv - x) <= self.eps * (1 + atol) + atol
        in_box = (_flat(x_adv).amin(1) >= -atol) & (_flat(x_adv).amax(1) <= 1 + atol)
        return in_ball & in_box

    # --- operations attacks need (per-norm subclasses implement them) ------------------
    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Euclidean projection onto ``(x + B_p(eps)) ∩ [0,1]^d``: (B, ...) -> (B, ...)."""
        raise NotImplementedError(f"no projection is implemented for the {self.name} ball")

    def steepest_ascent(self, grad: torch.Tensor, **kwargs) -> torch.Tensor:
        """Unit-norm direction maximising <grad, v>: (B, ...) -> (B, ...)."""
        raise NotImplementedError(f"no steepest-ascent step is implemented for the {self.name} ball")

    def random_start(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A random point of ``(x + B_p(eps)) ∩ [0,1]^d``: (B, ...) -> (B, ...)."""
        direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        direction = direction / _expand(self.norm(direction).clamp_min(1e-12), x).to(x.dtype)
        radius = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=x.dtype) * self.eps
        return self.project(x + direction * _expand(radius, x), x)


class LinfBall(LpBall, norm=math.inf):
    """The l_inf ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()

    def __init__(self, p_or_eps: float | str, eps: float | None = None) -> None:
        super().__init__(*((math.inf, p_or_eps) if eps is None else (p_or_eps, eps)))

    @property
    def autoattack_norm(self) -> str:
        return "Linf"

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_linf_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, **kwargs) -> torch.Tensor:
        return grad.sign()


class L2Ball(LpBall, norm=2.0):
    """The l_2 ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()

    def __init__(self, p_or_eps: float | str, eps: float | None = None) -> None:
        super().__init__(*((2.0, p_or_eps) if eps is None else (p_or_eps, eps)))

    @property
    def autoattack_norm(self) -> str:
        return "L2"

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_l2_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, **kwargs) -> torch.Tensor:
        norms = torch.linalg.vector_norm(_flat(grad), dim=1).clamp_min(1e-12)
        return grad / _expand(norms, grad)


class L1Ball(LpBall, norm=1.0):
    """The l_1 ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()

    def __init__(self, p_or_eps: float | str, eps: float | None = None) -> None:
        super().__init__(*((1.0, p_or_eps) if eps is None else (p_or_eps, eps)))

    @property
    def autoattack_norm(self) -> str:
        return "L1"

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_l1_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, sparsity: float | torch.Tensor = 0.05, **kwargs) -> torch.Tensor:
        """Top-k sparse ascent: keep the ``sparsity`` fraction of largest |grad| coordinates.

        Returns ``sign(g_topk) / ||sign(g_topk)||_0`` (unit l_1 norm), as APGD-l1 does.
        ``sparsity`` may be a float or a tensor of shape (B,).
        """
        flat = _flat(grad)
        d = flat.shape[1]
        frac = torch.as_tensor(sparsity, dtype=flat.dtype, device=flat.device).reshape(-1, 1)
        k = (frac * d).ceil().clamp(1, d)
        # threshold = k-th largest |g| per example, found by sorting once
        sorted_mag = flat.abs().sort(dim=1, descending=True).values
        thresh = sorted_mag.gather(1, (k.long() - 1).expand(flat.shape[0], 1))
        keep = (flat.abs() >= thresh) & (flat != 0)
        direction = flat.sign() * keep
        count = keep.sum(dim=1, keepdim=True).clamp_min(1)
        return (direction / count).reshape(grad.shape)
