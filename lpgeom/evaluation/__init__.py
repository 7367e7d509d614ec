"""Evaluation: clean / per-norm / union robust accuracy (AutoAttack as in the paper), curves, checks."""
from .checks import gradient_masking_warnings, validate_evaluation_inputs
from .curves import RobustnessCurve, robustness_curve
from .report import FLAG, RobustnessReport
from .robustness import METHODS, apgd_points, autoattack_points, evaluate_robustness, square_points
from .sanity import SanityVerdict
from .soup_path import soup_path

__all__ = ["evaluate_robustness", "RobustnessReport", "robustness_curve", "RobustnessCurve", "autoattack_points",
           "apgd_points", "validate_evaluation_inputs", "gradient_masking_warnings", "METHODS", "square_points",
           "SanityVerdict", "FLAG"]
__all__ += ["soup_path"]
