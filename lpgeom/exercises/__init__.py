"""Checkers for the book's exercises: call one as the last line of a check cell; it shows a verdict.

Every checker of Parts I and II is available here (``from lpgeom.exercises import check_...``),
resolved lazily from its chapter's module:

geometry     Part I: union radius, hull gauge, eps_1 covering an l_2 ball
norms        Part I: l_p norms, l_inf ∩ box projection
hull         Part I: hull vertices, worst-case margin, Theorem 3.1, best p
attacks      Part II: an l_inf PGD step, l_2 steepest ascent
evaluation   Part II: union accuracy from per-point flags, reading a robustness curve
training     Part II: E-AT's running robust error and sampler
finetuning   Part II: the fine-tuning learning rate, Table 6 reading, epoch time, RobustBench paths, hull cover
"""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "CheckResult": "geometry", "check_union_radius": "geometry", "check_hull_gauge": "geometry",
    "check_eps1_for_l2_cover": "geometry", "minimal_eps1_for_l2_cover": "geometry",
    "check_lp_norm": "norms", "check_linf_box_projection": "norms",
    "check_hull_vertices_2d": "hull", "check_worst_case_margin": "hull", "check_theorem_3_1": "hull",
    "check_best_p_for_gain": "hull", "best_p_for_gain": "hull",
    "check_linf_pgd_step": "attacks", "check_l2_steepest_ascent": "attacks",
    "check_union_accuracy": "evaluation", "check_curve_reading": "evaluation",
    "check_running_robust_error": "training", "check_eat_sampler": "training", "lpgeom_eat_probabilities": "training",
    "check_finetune_lr": "finetuning", "check_largest_union_gain": "finetuning", "check_epoch_seconds": "finetuning",
    "check_robustbench_path": "finetuning", "check_hull_covers_l2": "finetuning",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'lpgeom.exercises' has no attribute {name!r}")
    return getattr(importlib.import_module(f"lpgeom.exercises.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
