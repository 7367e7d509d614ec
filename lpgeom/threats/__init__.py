"""Threat models: l_p balls intersected with the [0, 1] box, their unions and presets."""
from .balls import MAX_ITERATIONS, L1Ball, L2Ball, LinfBall, LpBall
from .projections import (PROJECTION_BACKENDS, get_projection_backend, project_l1_box, project_l2_box,
                          project_linf_box, set_projection_backend)
from .rules import SMOOTH_APGD, SPARSE_APGD, APGDRule
from .union import (PRESETS, ThreatUnion, cifar10_threats, dataset_threats, fashion_mnist_threats, imagenet_threats,
                    mng_ac_threats)
from .validation import check_radii_fit

__all__ = [
    "LpBall",
    "L1Ball",
    "L2Ball",
    "LinfBall",
    "MAX_ITERATIONS",
    "APGDRule",
    "SMOOTH_APGD",
    "SPARSE_APGD",
    "ThreatUnion",
    "cifar10_threats",
    "imagenet_threats",
    "mng_ac_threats",
    "fashion_mnist_threats",
    "PRESETS",
    "dataset_threats",
    "check_radii_fit",
    "project_l1_box",
    "project_l2_box",
    "project_linf_box",
    "set_projection_backend",
    "get_projection_backend",
    "PROJECTION_BACKENDS",
]
