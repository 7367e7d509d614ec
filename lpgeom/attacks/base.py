"""What an attack is (:class:`Attack`), and the one loop the fixed-step attacks share (:class:`FixedStepAttack`).

Adding an attack: a class with ``__call__(model, x, y, *, generator=None) -> AttackResult``
that checks its inputs with :func:`~lpgeom.attacks.model_mode.validate_attack_inputs`, runs
the model inside :func:`~lpgeom.attacks.model_mode.eval_mode`, reads every norm-dependent
rule from the ball (``ball.project``, ``ball.steepest_ascent``, ``ball.pgd_step_size``,
``ball.apgd``) and keeps its step loop free of host synchronisation. A fixed-step attack is
a :class:`FixedStepAttack` subclass that implements :meth:`FixedStepAttack.direction`.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from ..threats import LpBall
from .losses import LOSSES
from .model_mode import (check_logits, check_model_input, eval_mode, loss_and_grad, resolve_generator,
                         validate_attack_inputs)
from .precision import project_to, random_start_in, working_dtype
from .result import AttackResult, BestTracker
from .settings import check_count, check_flag, check_generator, check_positive, check_seed

__all__ = ["Attack", "FixedStepAttack", "require_projection"]

_FLOAT32_MAX = torch.finfo(torch.float32).max


@runtime_checkable
class Attack(Protocol):
    """Anything that attacks a model on a batch: ``attack(model, x, y, *, generator=None) -> AttackResult``.

    ``x``: (B, C, H, W) in [0, 1]; ``y``: (B,) integer labels; ``generator``: a
    ``torch.Generator`` on ``x``'s device that drives all the attack's randomness (without
    one the attack seeds its own from its ``seed``).
    """

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> AttackResult: ...


def require_projection(threat: LpBall, attack: str) -> LpBall:
    """Return ``threat`` if it is an :class:`LpBall` that can project and whose radius fits float32.

    Raises ``TypeError`` for anything but an :class:`LpBall` (a string such as ``"Linf"``),
    ``ValueError`` for a ball without a projection or with a radius beyond float32's range.
    """
    if not isinstance(threat, LpBall):
        raise TypeError(f"{attack} needs an LpBall threat model, got {threat!r} ({type(threat).__name__})")
    if type(threat).project is LpBall.project:
        raise ValueError(f"{attack} needs a ball with a projection; the {threat.name} ball has none "
                         "(subclass LpBall for that norm and implement project())")
    if not threat.eps <= _FLOAT32_MAX:
        raise ValueError(f"{attack}: the {threat.name} radius eps = {threat.eps:g} exceeds float32's range "
                         f"({_FLOAT32_MAX:.3g}), in which attacks step (a radius of the box's diameter already "
                         "covers every image)")
    return threat


class FixedStepAttack:
    """Projected gradient ascent with a fixed step: ``x <- P(x + step * direction(grad, x))``, best point kept.

    Subclasses implement :meth:`direction`.

    Parameters
    ----------
    threat : LpBall
        A ball with a projection.
    n_iter : int
        Number of steps.
    step_size : float, optional
        Default ``threat.pgd_step_size(n_iter)`` (l_inf eps/4, l_2 eps/3, l_1 2.5 eps / n_iter).
    loss : {"ce", "dlr"}
        An untargeted loss of :data:`~lpgeom.attacks.LOSSES`.
    random_start : bool
        Start at ``threat.random_start(x)`` instead of ``x``.
    seed : int, optional
        Seeds the random start when no generator is passed.

    Shapes
    ------
    ``attack(model, x, y, *, generator=None)``: x (B, C, H, W) in [0, 1], y (B,) ->
    :class:`~lpgeom.attacks.AttackResult`.
    """

    name = "fixed-step attack"

    def __init__(self, threat: LpBall, n_iter: int = 10, step_size: float | None = None, loss: str = "ce",
                 random_start: bool = False, seed: int | None = None) -> None:
        self.threat = require_projection(threat, type(self).__name__)
        self.n_iter = check_count(n_iter, "n_iter")
        if not isinstance(loss, str) or loss not in LOSSES or LOSSES[loss][1]:
            untargeted = [name for name, (_, targeted) in LOSSES.items() if not targeted]
            raise ValueError(f"{type(self).__name__} takes an untargeted loss ({', '.join(untargeted)}), got {loss!r}")
        self.step_size = (check_positive(step_size, "step_size") if step_size is not None
                          else check_positive(threat.pgd_step_size(self.n_iter), f"{threat.name}.pgd_step_size"))
        self.loss, self.random_start = loss, check_flag(random_start, "random_start")
        self.seed = check_seed(seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.threat!r}, n_iter={self.n_iter}, step_size={self.step_size:g})"

    def direction(self, grad: torch.Tensor, x_cur: torch.Tensor) -> torch.Tensor:
        """Ascent direction at ``x_cur`` from the loss gradient ``grad``: (B, ...) -> (B, ...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement direction(grad, x_cur)")

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> AttackResult:
        y = validate_attack_inputs(x, y)
        check_model_input(model, x, same_device=True)
        check_generator(generator, x.device)
        loss_fn, _ = LOSSES[self.loss]
        threat, step = self.threat, self.step_size
        x = x.detach()
        work = working_dtype(x)
        with eval_mode(model):
            x_cur, clean_wrong = x, None
            if self.random_start:
                x_cur = random_start_in(threat, x, resolve_generator(generator, self.seed, x.device))
                with torch.no_grad():
                    clean_logits = model(x)
                check_logits(clean_logits, y)
                clean_wrong = clean_logits.argmax(1) != y
            loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, None, check=True)
            best = BestTracker(x_cur, loss, logits, y, clean_wrong, x)
            for k in range(self.n_iter):
                with torch.no_grad():
                    x_cur = project_to(threat, x_cur.to(work) + step * self.direction(grad, x_cur).to(work), x)
                loss, grad, logits = loss_and_grad(model, x_cur, y, loss_fn, None, need_grad=k < self.n_iter - 1)
                best.update(x_cur, loss, logits, y)
        return best.result()
