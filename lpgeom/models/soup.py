"""Model soups (Croce, Rebuffi, Shelhamer & Gowal, CVPR 2023): weighted averages of the weights of models
fine-tuned from one parent for different threat models.

A soup of models ``theta_1, ..., theta_n`` with weights ``w_i >= 0`` summing to 1 is the
model whose every state-dict entry is ``sum_i w_i theta_i``; two models interpolated with
``alpha`` are ``(1 - alpha) theta_A + alpha theta_B`` (:func:`interpolate_states`), the
uniform average ``w_i = 1 / n`` (:func:`average_states`). Soups only make sense for models
that share a parent (fine-tuned from the same weights): :func:`check_same_parent` refuses
others where their provenance says so, and every function refuses state dicts whose keys,
shapes or dtypes differ (another architecture).

BatchNorm statistics. ``batchnorm="interpolate"`` (the default) averages the running
means and variances like every other entry: the soup is the linear combination of the
whole state dict, which is how we read the paper's "linear combinations of parameters"
(we could not check offline whether its code re-estimates the statistics instead; this is
stated wherever a soup is reported). ``batchnorm="recompute"`` is offered beside it:
the running statistics of the soup are re-estimated on data given by the caller
(:func:`recompute_batchnorm`: a cumulative average over the batches in train mode, no
gradient, nothing else changed). Integer entries (``num_batches_tracked``) are taken from
the first model.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import torch
from torch import nn

__all__ = ["soup_state", "interpolate_states", "average_states", "check_same_parent", "recompute_batchnorm",
           "BatchNormRule", "BATCHNORM_RULES"]

BatchNormRule = Literal["interpolate", "recompute"]
BATCHNORM_RULES = ("interpolate", "recompute")


def _check_compatible(states: Sequence[Mapping[str, torch.Tensor]]) -> None:
    """Refuse state dicts of different architectures (keys, shapes, dtypes), naming the first difference."""
    if len(states) < 1:
        raise ValueError("a soup needs at least one model's state dict")
    for i, state in enumerate(states):
        if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise TypeError(f"state {i} must be a state dict (a mapping of names to tensors), got {type(state).__name__}")
    first = states[0]
    for i, state in enumerate(states[1:], start=1):
        if state.keys() != first.keys():
            only = sorted(set(state) ^ set(first))[:3]
            raise ValueError(f"model {i} has other state-dict keys than model 0 (e.g. {', '.join(only)}): another "
                             "architecture; a soup needs models of one architecture fine-tuned from one parent")
        for key, value in state.items():
            if value.shape != first[key].shape or value.dtype != first[key].dtype:
                raise ValueError(f"model {i}'s {key} is {tuple(value.shape)} {value.dtype}, model 0's "
                                 f"{tuple(first[key].shape)} {first[key].dtype}: another architecture")


def _check_weights(weights: Sequence[float], n: int) -> list[float]:
    if isinstance(weights, (str, bytes)) or len(weights) != n:
        raise ValueError(f"give one weight per model ({n}), got {weights!r}")
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"soup weights must be finite numbers >= 0, got {weights!r}")
        out.append(float(w))
    if abs(sum(out) - 1.0) > 1e-6:
        raise ValueError(f"soup weights must sum to 1, got {weights!r} (sum {sum(out)})")
    return out


def soup_state(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float]) -> dict[str, torch.Tensor]:
    """The weighted average ``sum_i weights[i] * states[i]`` of every floating entry (a new state dict).

    Parameters
    ----------
    states : sequence of state dicts
        Same keys, shapes and dtypes (one architecture); on any device (the result is on the first's).
    weights : sequence of float
        One per model, >= 0, summing to 1.

    Returns
    -------
    dict of str to Tensor
        Floating entries averaged in float64 and cast back; integer entries from ``states[0]``.

    Raises
    ------
    TypeError, ValueError
        States of different architectures (the differing key named), bad weights.
    """
    states = list(states)
    _check_compatible(states)
    weights = _check_weights(weights, len(states))
    out = {}
    for key, first in states[0].items():
        if not first.is_floating_point():
            out[key] = first.clone()
            continue
        total = sum(w * s[key].to(first.device, torch.float64) for w, s in zip(weights, states))
        out[key] = total.to(first.dtype)
    return out


def interpolate_states(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor], alpha: float
                       ) -> dict[str, torch.Tensor]:
    """``(1 - alpha) a + alpha b`` for ``alpha`` in [0, 1] (0: ``a``, 1: ``b``)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    return soup_state([a, b], [1.0 - alpha, float(alpha)])


def average_states(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The uniform soup: every model weighted ``1 / len(states)``."""
    states = list(states)
    return soup_state(states, [1.0 / len(states)] * len(states)) if states else soup_state(states, [])


def check_same_parent(parents: Sequence[str | None], names: Sequence[str] | None = None) -> bool:
    """Refuse models fine-tuned from different parents; True if every parent is known (and equal).

    Parameters
    ----------
    parents : sequence of str or None
        Each model's parent, e.g. the ``init_sha256`` a fine-tuning run records in its
        ``config.json``; None where the provenance does not tell.
    names : sequence of str, optional
        The models' names for the message.

    Returns
    -------
    bool
        True if all parents are known and equal; False if some are unknown (nothing to refuse).

    Raises
    ------
    ValueError
        If two known parents differ (the models named).
    """
    names = list(names) if names is not None else [f"model {i}" for i in range(len(parents))]
    known = [(n, p) for n, p in zip(names, parents) if p is not None]
    for name, parent in known[1:]:
        if parent != known[0][1]:
            raise ValueError(f"{name} was fine-tuned from another parent ({parent[:12]}...) than {known[0][0]} "
                             f"({known[0][1][:12]}...): a soup needs models fine-tuned from one parent")
    return len(known) == len(parents)


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor], device: torch.device | str | None = None
                        ) -> int:
    """Re-estimate every BatchNorm layer's running mean and variance on ``batches`` (cumulative average).

    Parameters
    ----------
    model : nn.Module
        Changed in place: only its BatchNorm running statistics (and ``num_batches_tracked``); its
        modes are restored.
    batches : iterable of Tensor, shape (B, C, H, W)
        Inputs in [0, 1] (e.g. clean training images).
    device : optional
        Where to run (default: the model's).

    Returns
    -------
    int
        The number of BatchNorm layers re-estimated (0: the model has none, nothing done).

    Raises
    ------
    ValueError
        If ``batches`` is empty while the model has BatchNorm layers.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not layers:
        return 0
    device = device or next(model.parameters()).device
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in layers}
    try:
        for m in layers:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average: every batch weighs the same
        model.train()
        seen = 0
        for x in batches:
            model(x.to(device))
            seen += 1
        if not seen:
            raise ValueError("recompute_batchnorm needs at least one batch of data")
    finally:
        for m in layers:
            m.momentum = momenta[m]
        for m, mode in modes.items():
            m.training = mode
    return len(layers)
