"""Clean, per-norm and union robust accuracy, with AutoAttack (as in the paper) or lpgeom's APGD (fast)."""
from __future__ import annotations

import time
import warnings
from collections.abc import Iterable

import torch
from torch import nn

from ..attacks import APGD
from ..attacks._model_mode import eval_mode
from ..threats import LpBall, ThreatUnion
from .checks import gradient_masking_warnings, validate_evaluation_inputs
from .report import RobustnessReport

__all__ = ["evaluate_robustness", "autoattack_points", "apgd_points", "METHODS"]

METHODS = ("autoattack", "apgd")


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def autoattack_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int = 100,
                      seed: int = 0, batch_size: int = 500, device: str | torch.device = "cpu",
                      n_target_classes: int | None = None) -> torch.Tensor:
    """Adversarial points from pyautoattack's APGD-CE + APGD-T (targeted DLR), as the paper evaluates.

    For l_1 the settings of AutoAttack's standard version: 5 restarts, 5 target classes and
    the growing-radius schedule; for l_inf and l_2 one restart and 9 target classes.
    ``n_target_classes`` overrides the number of target classes of APGD-T (a cheaper,
    weaker evaluation; the report records it).
    Returns (N, C, H, W) points (the original image where no adversarial point was found).
    """
    import logging

    from pyautoattack import AutoAttack

    logging.getLogger("auto-attack").setLevel(logging.WARNING)
    adversary = AutoAttack(model, norm=ball.autoattack_norm, eps=ball.eps, version="custom",
                           attacks=["apgd-ce", "apgd-t"], seed=seed, device=device)
    adversary.verbose = False
    for attack in (adversary.apgd, adversary.apgd_targeted):
        attack.n_iter = n_iter
        attack.verbose = False
    if ball.autoattack_norm == "L1":
        adversary.apgd.use_largereps = adversary.apgd_targeted.use_largereps = True
        adversary.apgd.n_restarts, adversary.apgd_targeted.n_target_classes = 5, 5
    else:
        adversary.apgd.n_restarts, adversary.apgd_targeted.n_target_classes = 1, 9
    adversary.apgd_targeted.n_restarts = 1
    if n_target_classes is not None:
        adversary.apgd_targeted.n_target_classes = n_target_classes
    x_adv, _ = adversary.run_standard_evaluation(x.contiguous(), y, batch_size=batch_size)
    return x_adv


def apgd_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int = 20, seed: int = 0,
                batch_size: int = 500, device: str | torch.device = "cpu", n_target_classes: int | None = None) -> torch.Tensor:
    """Adversarial points from lpgeom's APGD-CE then APGD-DLR (fast mode for monitoring; no targets)."""
    out = x.clone()
    for loss in ("ce", "dlr"):
        attack = APGD(ball, n_iter=n_iter, loss=loss, random_start=False, seed=seed)
        for sl in _batches(len(x), batch_size):
            with torch.no_grad():
                still = model(out[sl]).argmax(1) == y[sl]
            if still.any():
                idx = still.nonzero().squeeze(1)
                result = attack(model, x[sl][idx], y[sl][idx])
                out[sl][idx] = result.stats["x_fooling"]
    return out


def evaluate_robustness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, threats: ThreatUnion | Iterable[LpBall],
                        method: str = "autoattack", n_iter: int | None = None, batch_size: int = 500,
                        device: str | torch.device | None = None, seed: int = 0, name: str = "model",
                        n_target_classes: int | None = None) -> RobustnessReport:
    """Clean accuracy, robust accuracy per threat model and in their union.

    Parameters
    ----------
    model : torch.nn.Module
        Maps images in [0, 1] (N, C, H, W) to logits (N, K). Evaluated in eval mode (a model
        left in train mode is switched, with a warning, and restored afterwards).
    x : torch.Tensor, shape (N, C, H, W)
    y : torch.Tensor, shape (N,)
    threats : ThreatUnion or iterable of LpBall
    method : {"autoattack", "apgd"}
        ``"autoattack"``: pyautoattack's APGD-CE + APGD-T as in the paper (100 iterations);
        ``"apgd"``: lpgeom's APGD-CE + APGD-DLR (20 iterations), for monitoring.
    n_iter : int, optional
    batch_size : int
    device : optional
        Where to run (default: the model's device).
    seed : int
    name : str
        Model name for the table.
    n_target_classes : int, optional
        ``"autoattack"`` only: target classes of APGD-T for every norm instead of AutoAttack's
        standard (9 for l_inf and l_2, 5 for l_1). Fewer is cheaper and can only be weaker.

    Returns
    -------
    RobustnessReport
        Per point: robust under a norm = correctly classified at the clean point and at the
        adversarial point; union = robust under every norm. Points already misclassified
        are not attacked.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if n_target_classes is not None and n_target_classes < 1:
        raise ValueError(f"n_target_classes must be at least 1, got {n_target_classes}")
    balls = list(threats)
    if not balls or not all(isinstance(b, LpBall) for b in balls):
        raise ValueError("threats must be a ThreatUnion or a non-empty iterable of LpBall")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    n_iter = n_iter if n_iter is not None else (100 if method == "autoattack" else 20)
    messages: list[str] = []
    if model.training:
        msg = "the model was in train mode: evaluated in eval mode (BatchNorm frozen) and restored afterwards"
        warnings.warn(msg, stacklevel=2)
        messages.append(msg)
    start = time.perf_counter()
    with eval_mode(model):
        validate_evaluation_inputs(model, x, y.long(), balls)
        y = y.long()
        messages += gradient_masking_warnings(model, x, n_iter, 1)
        with torch.no_grad():
            clean = torch.cat([model(x[sl]).argmax(1) == y[sl] for sl in _batches(len(x), batch_size)])
        flags = {"clean": clean.cpu()}
        points = autoattack_points if method == "autoattack" else apgd_points
        for ball in balls:
            robust = clean.clone()
            idx = clean.nonzero().squeeze(1)
            if len(idx):
                x_adv = points(model, x[idx], y[idx], ball, n_iter=n_iter, seed=seed, batch_size=batch_size, device=device,
                               n_target_classes=n_target_classes)
                inside = ball.contains(x_adv, x[idx], atol=1e-4)
                if not inside.all():
                    messages.append(f"{int((~inside).sum())} {ball.name} points left ball ∩ box: counted as not attacked")
                    x_adv = torch.where(inside.reshape(-1, 1, 1, 1), x_adv, x[idx])
                with torch.no_grad():
                    still = torch.cat([model(x_adv[sl]).argmax(1) == y[idx][sl] for sl in _batches(len(idx), batch_size)])
                robust[idx] = still
            flags[ball.name] = robust.cpu()
    union = torch.stack([flags[b.name] for b in balls]).all(0) & flags["clean"]
    flags["union"] = union
    for msg in messages[1 if model.training else 0:]:
        warnings.warn(msg, stacklevel=2)
    return RobustnessReport(
        model=name, n_points=len(x), clean_accuracy=float(clean.float().mean()),
        robust_accuracy={b.name: float(flags[b.name].float().mean()) for b in balls},
        union_accuracy=float(union.float().mean()), eps={b.name: b.eps for b in balls}, method=method,
        n_iter=n_iter, seed=seed, seconds=time.perf_counter() - start, warnings=messages, per_point=flags,
        n_target_classes=n_target_classes if method == "autoattack" else None,
    )
