"""Checkpoints in RobustBench's layout: ``<model_dir>/<dataset>/<threat_model>/<Name>.pt``.

The names of the models the paper fine-tunes map to architectures here. Names contain
underscores (``Gowal2020Uncovering_70_16_extra``): they are looked up whole, never split.
Download the files on a networked machine (RobustBench's ``load_model`` or its model
zoo); this loader only reads them.
"""
from __future__ import annotations

import os
import pathlib

from torch import nn

from .checkpoints import load_network_weights, read_state_dict
from ..datasets import dataset_spec
from .registry import build_model

__all__ = ["load_robustbench", "robustbench_path", "ROBUSTBENCH_ARCHITECTURES", "THREAT_MODELS"]

THREAT_MODELS = ("Linf", "L2", "L1", "corruptions")

# (dataset, threat model, name) -> lpgeom architecture
ROBUSTBENCH_ARCHITECTURES: dict[tuple[str, str, str], str] = {
    ("cifar10", "Linf", "Carmon2019Unlabeled"): "wrn-28-10",
    ("cifar10", "Linf", "Gowal2020Uncovering_34_20"): "wrn-34-20-dm",
    ("cifar10", "Linf", "Gowal2020Uncovering_28_10_extra"): "wrn-28-10-dm",
    ("cifar10", "Linf", "Gowal2020Uncovering_70_16_extra"): "wrn-70-16",
    ("cifar10", "L2", "Gowal2020Uncovering_extra"): "wrn-70-16",
    ("cifar10", "Linf", "Engstrom2019Robustness"): "resnet50-cifar",
    ("cifar10", "L2", "Engstrom2019Robustness"): "resnet50-cifar",
    ("cifar10", "L2", "Augustin2020Adversarial"): "resnet50-cifar",
    ("imagenet", "Linf", "Engstrom2019Robustness"): "resnet50",
    ("imagenet", "L2", "Engstrom2019Robustness"): "resnet50",
}


def robustbench_path(name: str, dataset: str = "cifar10", threat_model: str = "Linf",
                     model_dir: str | os.PathLike = "models") -> pathlib.Path:
    """Where RobustBench keeps a checkpoint."""
    if threat_model not in THREAT_MODELS:
        raise ValueError(f"unknown threat model {threat_model!r}; RobustBench uses {', '.join(THREAT_MODELS)}")
    return pathlib.Path(model_dir) / dataset / threat_model / f"{name}.pt"


def load_robustbench(name: str, dataset: str = "cifar10", threat_model: str = "Linf",
                     model_dir: str | os.PathLike = "models", map_location: str = "cpu") -> nn.Module:
    """Load a RobustBench-layout checkpoint into the matching lpgeom architecture (eval mode).

    Parameters
    ----------
    name : str
        RobustBench model name, e.g. ``"Gowal2020Uncovering_70_16_extra"``.
    dataset : str
        A registered dataset (``lpgeom.datasets``); the table has models for "cifar10" and "imagenet".
    threat_model : {"Linf", "L2", "L1"}
    model_dir : path
        RobustBench's model folder.

    Raises
    ------
    ValueError
        Unknown name for this dataset / threat model (the known ones are listed), or an
        architecture lpgeom does not implement yet.
    FileNotFoundError
        The file is not there (the message gives the expected path).
    lpgeom.models.CheckpointError
        Corrupt or truncated file, or weights for another architecture.
    """
    spec = dataset_spec(dataset)  # a registered dataset (TypeError / ValueError otherwise)
    dataset = spec.name
    key = (dataset, threat_model, name)
    if key not in ROBUSTBENCH_ARCHITECTURES:
        known = sorted(n for d, t, n in ROBUSTBENCH_ARCHITECTURES if (d, t) == (dataset, threat_model))
        raise ValueError(f"unknown RobustBench model {name!r} for {dataset}/{threat_model}; known: {', '.join(known) or 'none'}")
    path = robustbench_path(name, dataset, threat_model, model_dir)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; RobustBench checkpoints must be downloaded on a networked machine "
            f"(e.g. robustbench.utils.load_model(model_name={name!r}, dataset={dataset!r}, "
            f"threat_model={threat_model!r}, model_dir=...)) and copied there"
        )
    try:
        model = build_model(ROBUSTBENCH_ARCHITECTURES[key], num_classes=spec.num_classes)
    except ValueError as err:
        raise ValueError(f"{name} needs the architecture {ROBUSTBENCH_ARCHITECTURES[key]!r}: {err}") from None
    state = read_state_dict(path, map_location=map_location)
    load_network_weights(model, state, source=str(path))
    return model.eval()
