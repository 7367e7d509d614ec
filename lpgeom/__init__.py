"""lpgeom: adversarial robustness against several l_p threat models at once.

The package implements and teaches Croce & Hein (arXiv 2105.12508; ICML 2022), "Adversarial robustness
against multiple l_p-threat models at the price of one and how to quickly fine-tune
robust models to another threat model".

Layers (one folder each)
------------------------
geometry     exact geometry of l_1 / l_inf unions and convex hulls (Prop. 3.1, Thm. 3.1)
threats      threat models as objects: l_p balls intersected with the [0, 1] box
attacks      APGD, PGD, SLIDE, MSD steps, the exact l_1-box projection
evaluation   clean / per-norm / union robust accuracy, AutoAttack, robustness curves
models       architectures, normalisation layers, RobustBench-layout checkpoints
datasets     the dataset registry: Dataset (Enum) -> shape, classes, normalisation, preset radii, ...
data         Fashion-MNIST, CIFAR-10/100, ImageNet, extra pseudo-labelled data, sample images
training     one training loop, schemes registered by name (AT, E-AT, MAX, AVG, MSD, SAT)
utils        atomic file writes, argument checks, device resolution, packed per-point flags
viz          figures and widgets for the book
experiments  the recorded study behind the book

Importing :mod:`lpgeom` is cheap and has no side effects: public names are resolved
lazily on first use (``lpgeom.hull_radius`` imports :mod:`lpgeom.geometry` then).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it.  Each layer owns its own block.
_PUBLIC: dict[str, str] = {
    # --- geometry -------------------------------------------------------------
    "union_radius": "lpgeom.geometry",
    "hull_radius": "lpgeom.geometry",
    "in_union": "lpgeom.geometry",
    "in_hull": "lpgeom.geometry",
    "hull_gauge": "lpgeom.geometry",
    "verify_radius": "lpgeom.geometry",
    "RadiusReport": "lpgeom.geometry",
    # --- datasets -------------------------------------------------------------
    "Dataset": "lpgeom.datasets",
    "dataset_spec": "lpgeom.datasets",
    # --- threats --------------------------------------------------------------
    "LpBall": "lpgeom.threats",
    "ThreatUnion": "lpgeom.threats",
    "cifar10_threats": "lpgeom.threats",
    "imagenet_threats": "lpgeom.threats",
    "LinfBall": "lpgeom.threats",
    "L2Ball": "lpgeom.threats",
    "L1Ball": "lpgeom.threats",
    "fashion_mnist_threats": "lpgeom.threats",
    "project_l1_box": "lpgeom.threats",
    "set_projection_backend": "lpgeom.threats",
    "APGDRule": "lpgeom.threats",
    # --- attacks --------------------------------------------------------------
    "APGD": "lpgeom.attacks",
    "PGD": "lpgeom.attacks",
    "SLIDE": "lpgeom.attacks",
    "MSD": "lpgeom.attacks",
    "AttackResult": "lpgeom.attacks",
    "Attack": "lpgeom.attacks",
    "FixedStepAttack": "lpgeom.attacks",
    # --- evaluation -----------------------------------------------------------
    "evaluate_robustness": "lpgeom.evaluation",
    "robustness_curve": "lpgeom.evaluation",
    "RobustnessReport": "lpgeom.evaluation",
    # --- models and data --------------------------------------------------------
    "build_model": "lpgeom.models",
    "load_pretrained": "lpgeom.models",
    "load_robustbench": "lpgeom.models",
    "sample_images": "lpgeom.data",
    "fashion_mnist": "lpgeom.data",
    # --- training ---------------------------------------------------------------
    "train": "lpgeom.training",
    "TrainConfig": "lpgeom.training",
    "EAT": "lpgeom.training",
    "SingleNormAT": "lpgeom.training",
    "build_scheme": "lpgeom.training",
    "finetune_recipe": "lpgeom.training",
    "paper_recipe": "lpgeom.training",
    "scheme_names": "lpgeom.training",
    "register_scheme": "lpgeom.training",
    "EATCalibration": "lpgeom.training",
    # --- profiles -------------------------------------------------------------
    "active_profile": "lpgeom.profiles",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'lpgeom' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
