"""Attacks in [0, 1] pixel space for any l_p ball ∩ box: APGD (l_inf, l_2, l_1), PGD, SLIDE, MSD."""
from .apgd import APGD, checkpoint_schedule
from .losses import LOSSES, cross_entropy, dlr, margin, targeted_cross_entropy, targeted_dlr
from .msd import MSD
from .pgd import PGD
from .result import AttackResult
from .slide import SLIDE

__all__ = ["APGD", "PGD", "SLIDE", "MSD", "AttackResult", "checkpoint_schedule", "LOSSES", "cross_entropy", "dlr", "targeted_dlr",
           "targeted_cross_entropy", "margin"]
