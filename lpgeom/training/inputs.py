"""What :func:`~lpgeom.training.train` checks before its first step: the data fits the model.

The checks are the attacks' own (:mod:`lpgeom.attacks.model_mode`), run once on the data a
run will read: for in-memory data (``.tensors``) every image and label, for other datasets
the first item. So images outside [0, 1], non-finite pixels, another dtype than the model's,
another number of channels, and labels that are not integer class indices of the model
are refused at once, with one sentence naming the dataset, instead of a raw error (or a
silently wrong loss) at some later step.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset

from ..attacks import check_model_input
from ..attacks.model_mode import check_logits, eval_mode, validate_attack_inputs

__all__ = ["check_training_data"]


def _as_batch(dataset: Dataset, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels to check: all of in-memory data, else the first item as a batch of one."""
    tensors = getattr(dataset, "tensors", None)
    if isinstance(tensors, tuple) and len(tensors) == 2:
        return tensors[0], tensors[1]
    try:
        item = dataset[0]
        x, y = item
    except (TypeError, ValueError):
        raise TypeError(f"{name} must yield (image, label) pairs, got {type(dataset[0]).__name__} items") from None
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must yield images as torch.Tensor (C, H, W), got {type(x).__name__}")
    return x.unsqueeze(0), torch.as_tensor(y).reshape(-1)


def check_training_data(model: nn.Module, dataset: Dataset, name: str = "dataset") -> None:
    """Refuse data ``model`` cannot be trained on (one host synchronisation per check).

    Parameters
    ----------
    model : torch.nn.Module
        The model to train (any device; one example runs through it in eval mode, without
        gradients, every submodule's mode restored).
    dataset : Dataset
        Items ``(x, y)``: ``x`` a float image (C, H, W) in [0, 1] of the model's dtype, ``y``
        an integer class index below the model's number of classes.
    name : str
        What the messages call the data (``"dataset"``, ``"extra"``).

    Raises
    ------
    TypeError
        For items that are not (tensor, label) pairs, or dtypes the model or the attacks refuse.
    ValueError
        For images outside [0, 1] or non-finite, another number of channels than the model's,
        or labels negative or beyond the model's classes.
    """
    x, y = _as_batch(dataset, name)
    try:
        validate_attack_inputs(x, y)
        check_model_input(model, x[:1])
        parameter = next(model.parameters(), None)
        first = x[:1] if parameter is None else x[:1].to(parameter.device)
        with eval_mode(model), torch.no_grad():
            logits = model(first)
        if isinstance(logits, torch.Tensor) and logits.ndim == 2:
            logits = logits.expand(len(y), -1)  # one forward pass checks every label against the classes
        check_logits(logits, y.to(logits.device) if isinstance(logits, torch.Tensor) else y)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name}: {err}") from None
