"""The per-norm settings of APGD, carried by each ball (``ball.apgd``).

AutoAttack's APGD (Croce & Hein 2020, 2021) uses one rule for l_inf and l_2 (step 2 eps,
momentum, checkpoints that shrink, oscillation test) and another for l_1 (step eps, no
momentum, a fixed checkpoint interval, sparsity adapted to the support of the best point).
Attacks read these fields instead of asking which norm they attack.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..utils import check_bool, check_real

__all__ = ["APGDRule", "SMOOTH_APGD", "SPARSE_APGD"]


@dataclass(frozen=True)
class APGDRule:
    """How APGD steps and adapts for one norm.

    Attributes
    ----------
    step_factor : float
        Initial step size in units of the radius: 2 (l_inf, l_2), 1 (l_1).
    momentum : float
        ``a`` of the update ``x + a (z - x) + (1 - a) (x - x_prev)`` (0.75); ``0.0`` means no
        momentum update at all (``x <- z``), as APGD-l_1 does.
    first_check : float
        First checkpoint after ``max(int(first_check * n_iter), 1)`` iterations: 0.22 (l_inf,
        l_2), 0.04 (l_1).
    shrinking_checks : bool
        Later intervals shrink by ``max(int(0.03 n), 1)`` down to ``max(int(0.06 n), 1)``
        (l_inf, l_2); otherwise they stay ``first_check`` long (l_1).
    adaptive_sparsity : bool
        At checkpoints: adapt the sparsity of the steps to the support of the best point and
        reset the step when it shrank (l_1); otherwise halve the step when the loss
        oscillates or stalls (l_inf, l_2).
    sparsity_train, sparsity_eval : float
        Initial fraction of coordinates in a step (sparse rules only) without and with a
        random start: 0.05 (the authors' training code) and 0.2 (AutoAttack).

    Raises
    ------
    TypeError, ValueError
        ``step_factor`` not a finite number > 0, ``momentum`` outside [0, 1], ``first_check``
        or a sparsity outside (0, 1], a flag that is not a bool (one sentence naming it).
    """

    step_factor: float
    momentum: float
    first_check: float
    shrinking_checks: bool
    adaptive_sparsity: bool
    sparsity_train: float = 0.05
    sparsity_eval: float = 0.2

    def __post_init__(self):
        check_real(self.step_factor, "step_factor", 0.0, low_open=True)
        check_real(self.momentum, "momentum", 0.0, 1.0)
        for name in ("first_check", "sparsity_train", "sparsity_eval"):
            check_real(getattr(self, name), name, 0.0, 1.0, low_open=True)
        for name in ("shrinking_checks", "adaptive_sparsity"):
            object.__setattr__(self, name, check_bool(getattr(self, name), name))

    @property
    def new_step_weight(self) -> float:
        """``a`` of the momentum update; 1.0 (no momentum) when ``momentum`` is 0."""
        return self.momentum if self.momentum > 0 else 1.0


SMOOTH_APGD = APGDRule(step_factor=2.0, momentum=0.75, first_check=0.22, shrinking_checks=True, adaptive_sparsity=False)
"""APGD's rule for l_inf and l_2 (and the default for other smooth l_p balls)."""

SPARSE_APGD = APGDRule(step_factor=1.0, momentum=0.0, first_check=0.04, shrinking_checks=False, adaptive_sparsity=True)
"""APGD-l_1's rule (Croce & Hein 2021, and the authors' training code)."""
