"""Threat models as objects: an l_p ball around the input, intersected with the [0, 1] box.

``LpBall(p, eps)`` returns the subclass registered for that norm (``L1Ball``, ``L2Ball``,
``LinfBall``); any other ``p`` gives a plain ``LpBall``. Everything that depends on the
norm lives on the ball, so attacks, evaluation and training never ask which norm they use:

- measurement: :meth:`~LpBall.norm`, :meth:`~LpBall.contains`, :meth:`~LpBall.max_radius`;
- what attacks need: :meth:`~LpBall.project`, :meth:`~LpBall.steepest_ascent`,
  :meth:`~LpBall.random_start`, :meth:`~LpBall.pgd_step_size`, :attr:`~LpBall.apgd`;
- AutoAttack's settings: :attr:`~LpBall.autoattack_norm`,
  :attr:`~LpBall.autoattack_target_classes`.

Every method keeps the input's memory layout: a ``channels_last`` batch (the fast layout of
mixed-precision convolutions on a GPU) is flattened per example in its memory order, a
view (norms, sorts and thresholds do not depend on the order of coordinates), and what
comes back is ``channels_last`` again, so an attack step converts no layout.

The plain ``LpBall`` gives the general l_p rules (the dual-norm steepest ascent, a random
start on the sphere, APGD's smooth rule) but no projection. A new norm is a new subclass
registered by its ``p`` (``class L4Ball(LpBall, norm=4.0)``) that implements
:meth:`~LpBall.project` and overrides any rule it needs to.
"""
from __future__ import annotations

import math
import numbers
from typing import ClassVar

import torch

from ..geometry import check_dimension, parse_p
from ..utils import check_integer, check_real
from .arguments import check_batch, check_generator, check_same_shape, check_sparsity
from .layout import from_rows, memory_order, to_rows
from .projections import project_l1_box, project_l2_box, project_linf_box
from .rules import SMOOTH_APGD, SPARSE_APGD, APGDRule

__all__ = ["LpBall", "L1Ball", "L2Ball", "LinfBall", "MAX_ITERATIONS"]

MAX_ITERATIONS = 10**9
"""Largest ``n_iter`` :meth:`LpBall.pgd_step_size` takes (more steps than any attack runs)."""


def _flat(t: torch.Tensor) -> torch.Tensor:
    """(B, ...) -> (B, d) in ``t``'s memory order: a view of a ``channels_last`` batch, not a copy."""
    return to_rows(t, memory_order(t))


def _expand(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def _check_ascent(grad: object, x: object) -> None:
    """``grad`` a floating-point (B, ...) tensor; ``x`` None or one of the same shape."""
    check_batch(grad, "grad")
    if x is not None:
        check_same_shape(x, "x", grad, "grad")


def _check_start(x: object, generator: object) -> None:
    check_batch(x, "x")
    check_generator(generator)


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

    #: APGD's settings for this norm (the smooth rule unless a subclass says otherwise).
    apgd: ClassVar[APGDRule] = SMOOTH_APGD
    #: Target classes of AutoAttack's standard APGD-T for this norm.
    autoattack_target_classes: ClassVar[int] = 9

    def __init_subclass__(cls, norm: float | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if norm is not None:
            LpBall._registry[parse_p(norm)] = cls
            cls.norm_p = parse_p(norm)

    def __new__(cls, p: float | str | None = None, eps: float | None = None):
        if cls is LpBall:
            if eps is None:
                raise ValueError("LpBall needs a radius: LpBall(p, eps)")
            cls = LpBall._registry.get(parse_p(p), LpBall)
        return object.__new__(cls)

    def __init__(self, p: float | str | None = None, eps: float | None = None) -> None:
        fixed = getattr(type(self), "norm_p", None)
        if eps is None and fixed is not None and type(self) is not LpBall:
            p, eps = fixed, p  # L1Ball(eps)
        if eps is None:
            name = type(self).__name__
            raise ValueError(f"{name} needs a radius: {name}(eps)" if fixed is not None and name != "LpBall"
                             else "LpBall needs a radius: LpBall(p, eps)")
        p = parse_p(p)
        if fixed is not None and p != fixed:
            raise ValueError(f"{type(self).__name__} is the l_{fixed:g} ball, got p={p:g}")
        if not isinstance(eps, numbers.Real) and getattr(eps, "ndim", None) == 0 and hasattr(eps, "item"):
            eps = eps.item()  # a 0-d tensor or array
        eps = check_real(eps, "eps", 0.0, low_open=True)
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
        """The norm string AutoAttack uses: ``"Linf"``, ``"L2"``, ``"L1"`` (no other ball has one)."""
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
        """l_p norm of each example: (B, ...) -> (B,), in float64 for float64 input, else in float32."""
        check_batch(delta, "delta")
        work = torch.float64 if delta.dtype == torch.float64 else torch.float32
        return torch.linalg.vector_norm(_flat(delta).to(work), ord=self.p, dim=1)

    def contains(self, x_adv: torch.Tensor, x: torch.Tensor, atol: float = 1e-5) -> torch.Tensor:
        """Whether each ``x_adv`` lies in ``(x + B_p(eps)) ∩ [0,1]^d`` up to ``atol`` (finite, >= 0): (B,) bool.

        The difference ``x_adv - x`` is taken in float32 at least (float64 for float64 input):
        in float16 or bfloat16 it rounds (a coordinate moved from near 0 to 1 loses its low
        digits), and a point inside the ball can read as outside. For points of the box
        that difference is exact in float32 for float16 input.
        """
        check_same_shape(x_adv, "x_adv", check_batch(x, "x"), "x")
        atol = check_real(atol, "atol", 0.0)
        work = torch.promote_types(torch.promote_types(x_adv.dtype, x.dtype), torch.float32)
        in_ball = self.norm(x_adv.to(work) - x.to(work)) <= self.eps * (1 + atol) + atol
        in_box = (_flat(x_adv).amin(1) >= -atol) & (_flat(x_adv).amax(1) <= 1 + atol)
        return in_ball & in_box

    def max_radius(self, d: int) -> float:
        """The l_p diameter ``d ** (1/p)`` of the box [0,1]^d (``d`` an integer >= 1): from this radius on the ball covers the box."""
        d = check_dimension(d, minimum=1)
        return 1.0 if math.isinf(self.p) else float(d) ** (1.0 / self.p)

    # --- what attacks need -------------------------------------------------------------
    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Euclidean projection onto ``(x + B_p(eps)) ∩ [0,1]^d``: (B, ...) -> (B, ...).

        A subclass must implement it; every point it returns must lie in ball ∩ box.
        """
        raise NotImplementedError(f"no projection is implemented for the {self.name} ball")

    def steepest_ascent(self, grad: torch.Tensor, x: torch.Tensor | None = None,
                        sparsity: float | torch.Tensor | None = None) -> torch.Tensor:
        """Unit-norm direction maximising ``<grad, v>``: (B, ...) -> (B, ...) in float32.

        Here the dual-norm direction ``sign(g) |g|^(q-1) / ||g||_q^(q-1)``, ``1/p + 1/q = 1``.

        Parameters
        ----------
        grad : torch.Tensor, shape (B, ...)
        x : torch.Tensor, shape (B, ...), optional
            The current point; rules that respect the box use it (the l_1 rule), others ignore it.
        sparsity : float or torch.Tensor of shape (B,), optional
            Fraction of coordinates in a sparse step (the l_1 rule); others ignore it.
        """
        _check_ascent(grad, x)
        order = memory_order(grad)
        flat = to_rows(grad, order).float()
        flat = flat / flat.abs().amax(1, keepdim=True).clamp_min(1e-30)  # scale-free: no overflow in |g|^(q-1)
        q = self.p / (self.p - 1.0)
        powered = flat.sign() * flat.abs().pow(q - 1.0)
        norm = torch.linalg.vector_norm(powered, ord=self.p, dim=1, keepdim=True).clamp_min(1e-12)
        return from_rows(powered / norm, grad.shape, order)

    def random_start(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A random point of ``(x + B_p(eps)) ∩ [0,1]^d``: (B, ...) -> (B, ...).

        Here ``x + eps * g / ||g||_p`` with ``g`` standard Gaussian, projected onto ball ∩ box.
        ``generator`` (on ``x``'s device) makes the draw reproducible.
        """
        _check_start(x, generator)
        g = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32)
        g = g / _expand(self.norm(g).clamp_min(1e-12), g)
        return self.project((x.float() + self.eps * g).to(x.dtype), x)

    def pgd_step_size(self, n_iter: int) -> float:
        """Fixed PGD step: ``2.5 * eps / n_iter`` (Madry et al.) unless the norm has its own rule; ``n_iter`` in [1, 1e9]."""
        return 2.5 * self.eps / check_integer(n_iter, "n_iter", 1, MAX_ITERATIONS)


class LinfBall(LpBall, norm=math.inf):
    """The l_inf ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()

    @property
    def autoattack_norm(self) -> str:
        return "Linf"

    def max_radius(self, d: int) -> float:
        check_dimension(d, minimum=1)
        return 1.0

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_linf_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, x: torch.Tensor | None = None,
                        sparsity: float | torch.Tensor | None = None) -> torch.Tensor:
        """``sign(grad)`` (``x`` and ``sparsity`` are ignored)."""
        _check_ascent(grad, x)
        return grad.float().sign()

    def random_start(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """AutoAttack's start: ``x + eps * t / max|t|`` with ``t`` uniform in [-1, 1]^d, clipped to the box.

        Clipped by :meth:`project`, which also undoes rounding past the radius (the plain
        float32 sum left points 19% outside a radius of 1e-7).
        """
        _check_start(x, generator)
        t = 2 * torch.rand(x.shape, generator=generator, device=x.device, dtype=torch.float32) - 1
        t = t / _expand(_flat(t).abs().amax(1) + 1e-12, t)
        return self.project((x.float() + self.eps * t).to(x.dtype), x)  # clipped to the box, rounding towards x

    def pgd_step_size(self, n_iter: int) -> float:
        """``eps / 4``, the paper's PGD baselines (``n_iter`` in [1, 1e9] is not used)."""
        check_integer(n_iter, "n_iter", 1, MAX_ITERATIONS)
        return self.eps / 4


class L2Ball(LpBall, norm=2.0):
    """The l_2 ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()

    @property
    def autoattack_norm(self) -> str:
        return "L2"

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_l2_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, x: torch.Tensor | None = None,
                        sparsity: float | torch.Tensor | None = None) -> torch.Tensor:
        """``grad / ||grad||_2`` (``x`` and ``sparsity`` are ignored; a zero gradient gives 0).

        The gradient is first divided by its largest magnitude, so gradients near the float32
        limits neither overflow (the norm of 3e38 entries) nor underflow (1e-45 entries).
        """
        _check_ascent(grad, x)
        order = memory_order(grad)
        flat = to_rows(grad, order).float()
        flat = flat / flat.abs().amax(1, keepdim=True).clamp_min(1e-38)  # scale-free: entries in [-1, 1]
        return from_rows(flat / torch.linalg.vector_norm(flat, dim=1, keepdim=True).clamp_min(1e-12), grad.shape, order)

    def random_start(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """AutoAttack's start: ``x + eps * g / ||g||_2`` with ``g`` standard Gaussian, clipped to the box.

        Clipped by :meth:`project` (the point is inside the ball, so that is the clipping),
        which also undoes rounding past the radius.
        """
        _check_start(x, generator)
        g = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32)
        g = g / _expand(torch.linalg.vector_norm(_flat(g), dim=1) + 1e-12, g)
        return self.project((x.float() + self.eps * g).to(x.dtype), x)  # clipped to the box, rounding towards x

    def pgd_step_size(self, n_iter: int) -> float:
        """``eps / 3``, the paper's PGD baselines (``n_iter`` in [1, 1e9] is not used)."""
        check_integer(n_iter, "n_iter", 1, MAX_ITERATIONS)
        return self.eps / 3


class L1Ball(LpBall, norm=1.0):
    """The l_1 ball intersected with the box (see :class:`LpBall`)."""

    __slots__ = ()
    apgd: ClassVar[APGDRule] = SPARSE_APGD
    autoattack_target_classes: ClassVar[int] = 5

    @property
    def autoattack_norm(self) -> str:
        return "L1"

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return project_l1_box(x_adv, x, self.eps)

    def steepest_ascent(self, grad: torch.Tensor, x: torch.Tensor | None = None,
                        sparsity: float | torch.Tensor | None = None) -> torch.Tensor:
        """Sparse ascent: the signs of the largest ``|grad|`` coordinates, unit l_1 norm.

        As APGD-l_1 selects them: the threshold is the entry at index
        ``int((1 - sparsity) * d)`` of the ascending ``|grad|`` (clamped to ``d - 1``), and
        every coordinate at or above it is kept, so about ``sparsity * d`` of them (ties
        kept). With ``x``, coordinates the box forbids (``grad > 0`` at 1, ``grad < 0`` at 0)
        are zeroed first, as SLIDE does. ``sparsity``: float or (B,) tensor, default
        ``apgd.sparsity_train``, in (0, 1] (a tensor's values are not checked). Returns
        ``sign(g_kept) / ||sign(g_kept)||_0``.
        """
        _check_ascent(grad, x)
        sparsity = self.apgd.sparsity_train if sparsity is None else check_sparsity(sparsity, grad.shape[0])
        order = memory_order(grad)
        flat = to_rows(grad, order).float()
        if x is not None:
            xf = to_rows(x, order)  # coordinates in grad's order
            flat = flat.masked_fill(((flat > 0) & (xf >= 1)) | ((flat < 0) & (xf <= 0)), 0.0)
        d = flat.shape[1]
        frac = torch.as_tensor(sparsity, dtype=torch.float32, device=flat.device).reshape(-1, 1)
        index = ((1.0 - frac) * d).clamp(0, d - 1).long().expand(flat.shape[0], 1)
        magnitude = flat.abs()
        threshold = magnitude.sort(dim=1).values.gather(1, index)
        keep = (magnitude >= threshold) & (flat != 0)
        count = keep.sum(dim=1, keepdim=True).clamp_min(1)
        return from_rows(flat.sign() * keep / count, grad.shape, order)

    def random_start(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """AutoAttack's start: ``x + g`` with ``g`` standard Gaussian, projected onto ball ∩ box (lands on its surface)."""
        _check_start(x, generator)
        g = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32).to(x.dtype)
        return self.project(x + g, x)

    def pgd_step_size(self, n_iter: int) -> float:
        """``2.5 * eps / n_iter`` (SLIDE's and Madry et al.'s rule), ``n_iter`` in [1, 1e9]."""
        return 2.5 * self.eps / check_integer(n_iter, "n_iter", 1, MAX_ITERATIONS)
