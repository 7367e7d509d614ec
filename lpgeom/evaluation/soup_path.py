"""Union robustness along the interpolation path between two models (model soups, Croce et al. 2023)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..models import BATCHNORM_RULES, interpolate_states, recompute_batchnorm
from ..threats import ThreatUnion
from .robustness import evaluate_robustness

__all__ = ["soup_path"]


def soup_path(model: nn.Module, state_a: Mapping[str, torch.Tensor], state_b: Mapping[str, torch.Tensor],
              x: torch.Tensor, y: torch.Tensor, threats: ThreatUnion, alphas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
              method: str = "apgd", n_iter: int | None = None, batch_size: int = 500,
              device: str | torch.device | None = None, seed: int = 0, batchnorm: str = "interpolate",
              batchnorm_data: torch.Tensor | None = None):
    """Clean, per-norm and union robust accuracy of the soups ``(1 - alpha) state_a + alpha state_b``.

    Parameters
    ----------
    model : nn.Module
        The architecture of both state dicts; its weights are replaced (it ends holding the last soup)
        and it is put in eval mode.
    state_a, state_b : state dicts
        Two models of that architecture fine-tuned from one parent (e.g. for l_inf and for l_1).
    x : Tensor, shape (N, C, H, W), in [0, 1]; y : Tensor of int64, shape (N,)
        The evaluation points (every soup is evaluated on the same ones, with the same seed).
    threats : ThreatUnion
    alphas : sequence of float
        Mixing weights in [0, 1] (0: ``state_a``, 1: ``state_b``).
    method, n_iter, batch_size, device, seed
        As :func:`~lpgeom.evaluation.evaluate_robustness` (default ``"apgd"``: APGD-CE + APGD-T
        per norm, cheap; ``"autoattack"`` is the paper's evaluation).
    batchnorm : {"interpolate", "recompute"}
        ``interpolate``: the running statistics are averaged like the weights; ``recompute``:
        re-estimated on ``batchnorm_data`` for every soup (:func:`~lpgeom.models.recompute_batchnorm`).
    batchnorm_data : Tensor, shape (M, C, H, W), optional
        Inputs in [0, 1] for ``batchnorm="recompute"`` (training images, not the evaluation points),
        fed in batches of ``batch_size``.

    Returns
    -------
    pandas.DataFrame
        One row per alpha: ``alpha``, ``clean``, one column per ball name (robust accuracy in
        %), ``union`` (%), ``batchnorm``, ``method``, ``sanity`` (``"FLAGGED"`` where the gradient-masking
        checks of :func:`~lpgeom.evaluation.evaluate_robustness` flagged that soup, else ``"passed"``).

    Raises
    ------
    ValueError
        Bad alphas, an unknown ``batchnorm`` rule, ``recompute`` without data, state dicts of
        another architecture than ``model`` or of each other.
    """
    import pandas as pd

    if batchnorm not in BATCHNORM_RULES:
        raise ValueError(f"batchnorm must be one of {', '.join(BATCHNORM_RULES)}, got {batchnorm!r}")
    if batchnorm == "recompute" and batchnorm_data is None:
        raise ValueError("batchnorm='recompute' needs batchnorm_data (inputs to re-estimate the statistics on)")
    if isinstance(alphas, (str, bytes)) or len(alphas) == 0:
        raise ValueError(f"alphas must be a non-empty sequence of numbers in [0, 1], got {alphas!r}")
    if set(model.state_dict()) != set(state_a):
        raise ValueError("state_a's keys are not the model's: the state dicts belong to another architecture")
    rows = []
    model.eval()
    for alpha in alphas:
        model.load_state_dict(interpolate_states(state_a, state_b, alpha))
        if batchnorm == "recompute":
            recompute_batchnorm(model, batchnorm_data.split(batch_size), device=device)
        report = evaluate_robustness(model, x, y, threats, method=method, n_iter=n_iter, batch_size=batch_size,
                                     device=device, seed=seed, name=f"soup alpha={alpha}")
        rows.append({"alpha": float(alpha), "clean": 100 * report.clean_accuracy,
                     **{name: 100 * acc for name, acc in report.robust_accuracy.items()},
                     "union": 100 * report.union_accuracy, "batchnorm": batchnorm, "method": method,
                     "sanity": "FLAGGED" if report.flagged else "passed"})  # never a flagged accuracy without its flag
    return pd.DataFrame(rows)
