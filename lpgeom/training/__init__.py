"""Training: one loop (:func:`train`) shared by schemes (strategies), checkpoints, schedules, DDP.

Schemes register themselves by name; the registry finds every module of this package on
its own (:func:`discover_schemes`), so a scheme in a new file needs no import here.
"""
from .baselines import BASELINE_ATTACKS, MSDAT, AvgAT, MaxAT, baseline_attack
from .checkpoint import load_latest, save_checkpoint
from .eat import EAT, SAT, EATCalibration
from .epoch import EpochContext
from .fingerprint import RunConflictError
from .lock import RunLockedError
from .loop import TrainConfig, TrainResult, epoch_order, train
from .metrics import MetricsLog, read_metrics
from .recipes import Recipe, finetune_recipe, paper_recipe, scratch_recipe
from .registry import (SchemeCost, SchemeOption, SchemeSpec, build_scheme, discover_schemes, register_scheme, scheme_labels,
                       scheme_names, scheme_options, scheme_spec)
from .schedule import PiecewiseLR
from .schemes import AttackSteps, NaturalTraining, Scheme, SingleNormAT, StepContext, SwitchAt
from .stats import StatsTotals, StepStats
from .step import TrainingDiverged

__all__ = ["train", "TrainConfig", "TrainResult", "epoch_order", "Scheme", "StepContext", "NaturalTraining",
           "SingleNormAT", "EAT", "SwitchAt", "MaxAT", "AvgAT", "MSDAT", "SAT", "PiecewiseLR", "save_checkpoint",
           "load_latest", "MetricsLog", "read_metrics", "finetune_recipe", "scratch_recipe", "build_scheme"]
__all__ += ["StepStats", "StatsTotals", "RunLockedError", "RunConflictError", "TrainingDiverged"]
__all__ += ["AttackSteps", "EATCalibration", "BASELINE_ATTACKS", "baseline_attack", "Recipe", "paper_recipe", "SchemeCost",
            "SchemeSpec", "register_scheme", "scheme_names", "scheme_labels", "scheme_spec"]
__all__ += ["EpochContext", "SchemeOption", "scheme_options", "discover_schemes"]
