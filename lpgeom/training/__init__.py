"""Training: one loop (:func:`train`) shared by schemes (strategies), checkpoints, schedules, DDP."""
from .checkpoint import load_latest, save_checkpoint
from .loop import TrainConfig, TrainResult, epoch_order, train
from .metrics import MetricsLog, read_metrics
from .recipes import SCHEMES, build_scheme, finetune_recipe, scratch_recipe
from .schedule import PiecewiseLR
from .schemes import EAT, MSDAT, SAT, AvgAT, MaxAT, NaturalTraining, Scheme, SingleNormAT, StepContext, SwitchAt
from .stats import StatsTotals, StepStats

__all__ = ["train", "TrainConfig", "TrainResult", "epoch_order", "Scheme", "StepContext", "NaturalTraining",
           "SingleNormAT", "EAT", "SwitchAt", "MaxAT", "AvgAT", "MSDAT", "SAT", "PiecewiseLR", "save_checkpoint",
           "load_latest", "MetricsLog", "read_metrics", "finetune_recipe", "scratch_recipe", "build_scheme", "SCHEMES"]
__all__ += ["StepStats", "StatsTotals"]
