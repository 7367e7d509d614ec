"""Attacks in [0, 1] pixel space for any l_p ball ∩ box: APGD, PGD, SLIDE, MSD.

Every attack is called as ``attack(model, x, y, *, generator=None)`` and returns an
:class:`AttackResult` (see :class:`Attack`); norm-dependent rules come from the ball.
"""
from .apgd import APGD, checkpoint_schedule
from .base import Attack, FixedStepAttack
from .losses import LOSSES, cross_entropy, dlr, margin, targeted_cross_entropy, targeted_dlr
from .model_mode import check_model_input, validate_attack_inputs
from .msd import MSD
from .pgd import PGD
from .result import AttackResult
from .slide import SLIDE

__all__ = ["Attack", "FixedStepAttack", "APGD", "PGD", "SLIDE", "MSD", "AttackResult", "checkpoint_schedule",
           "check_model_input", "validate_attack_inputs", "LOSSES",
           "cross_entropy", "dlr", "targeted_dlr", "targeted_cross_entropy", "margin"]
