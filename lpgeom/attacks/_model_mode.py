"""Run a model in eval mode for an attack and restore its mode afterwards; gradients w.r.t. the input."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

__all__ = ["eval_mode", "loss_and_grad", "validate_inputs"]


@contextlib.contextmanager
def eval_mode(model: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Put ``model`` in eval mode inside the block (BatchNorm frozen), then restore every submodule's mode."""
    modes = {m: m.training for m in model.modules()}
    if enabled:
        model.eval()
    try:
        yield
    finally:
        for m, mode in modes.items():
            m.training = mode


def loss_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable, target: torch.Tensor | None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-example loss (B,), its gradient w.r.t. ``x`` (B, ...) and the logits (B, K), without touching parameter grads."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        loss = loss_fn(logits, y, target)
        grad = torch.autograd.grad(loss.sum(), x)[0]
    return loss.detach(), grad.detach().float(), logits.detach()


def validate_inputs(x: torch.Tensor, y: torch.Tensor) -> None:
    """Clear errors for inputs attacks cannot work with (checked once, outside the loops)."""
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError(f"x must be a batch tensor of shape (B, ...), got {getattr(x, 'shape', type(x))}")
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {tuple(getattr(y, 'shape', ()))}")
    if y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
