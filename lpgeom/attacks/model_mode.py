"""What every attack does around its loop: check its inputs, run the model in eval mode, take input gradients.

Checks cost one host synchronisation each and run outside the step loops; inside a loop,
non-finite logits are only recorded (as a tensor) and reported once the loop is over.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

__all__ = ["eval_mode", "loss_and_grad", "validate_attack_inputs", "check_logits", "raise_if_nonfinite",
           "resolve_generator", "FLOAT_DTYPES"]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_INTEGER_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


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


def loss_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable,
                  target: torch.Tensor | None, need_grad: bool = True, check: bool = False
                  ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Per-example loss (B,), its gradient w.r.t. ``x`` (B, ...) in float32 and the logits (B, K).

    Parameter gradients are not touched. With ``need_grad=False`` only the forward pass runs
    and the gradient is ``None`` (an attack's last iterate needs no gradient). With
    ``check=True`` the logits go through :func:`check_logits` before the loss (one sync:
    for the start of an attack, never inside its loop).
    """
    if not need_grad:
        with torch.no_grad():
            logits = model(x)
            if check:
                check_logits(logits, y)
            return loss_fn(logits, y, target).detach(), None, logits.detach()
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        if check:
            check_logits(logits, y)
        loss = loss_fn(logits, y, target)
        grad = torch.autograd.grad(loss.sum(), x)[0]
    return loss.detach(), grad.detach().float(), logits.detach()


def validate_attack_inputs(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Refuse inputs an attack cannot work with; return the labels as int64.

    Parameters
    ----------
    x : torch.Tensor, shape (B, ...)
        A non-empty batch of float16/bfloat16/float32/float64 images, finite, in [0, 1].
    y : torch.Tensor, shape (B,)
        Integer class labels >= 0 on ``x``'s device (the upper bound is checked against the
        model's logits by :func:`check_logits`).

    Raises
    ------
    TypeError
        For a non-tensor or a dtype outside the accepted ones.
    ValueError
        For shapes, empty batches, non-finite values, pixels outside [0, 1] or negative labels.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor batch of shape (B, ...), got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (B, ...) with at least 2 dimensions, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"x is an empty batch (shape {tuple(x.shape)}): an attack needs at least one example")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"x must be float16, bfloat16, float32 or float64, got dtype {x.dtype}")
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor of class labels, got {type(y).__name__}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {tuple(y.shape)}")
    if y.dtype not in _INTEGER_DTYPES:
        raise TypeError(f"y must hold integer class labels (int64, int32, int16, int8 or uint8), got dtype {y.dtype}")
    if y.device != x.device:
        raise ValueError(f"y is on {y.device} but x is on {x.device}: put both on one device")
    finite, lo, hi, y_min = torch.stack([torch.isfinite(x).all().double(), x.min().double(), x.max().double(),
                                         y.min().double()]).tolist()
    if not finite:
        raise ValueError("x contains NaN or infinite values: attacks need finite images in [0, 1]")
    if lo < 0 or hi > 1:
        raise ValueError(f"x must lie in [0, 1] (normalisation belongs inside the model), got values in [{lo:.4g}, {hi:.4g}]")
    if y_min < 0:
        raise ValueError(f"y must hold class labels >= 0, got a label {int(y_min)}")
    return y.long()


def check_logits(logits: torch.Tensor, y: torch.Tensor) -> None:
    """Refuse a model whose logits at the start are not finite, or labels beyond its classes (one sync)."""
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"the model must return logits of shape ({y.shape[0]}, K), got shape {tuple(logits.shape)}")
    finite, y_max = torch.stack([torch.isfinite(logits).all().double(), y.max().double()]).tolist()
    if not finite:
        raise ValueError("the model returned NaN or infinite logits: no attack result can be trusted (check its "
                         "weights and inputs)")
    if y_max >= logits.shape[1]:
        raise ValueError(f"y holds a label {int(y_max)} but the model has {logits.shape[1]} classes "
                         f"(labels in [0, {logits.shape[1] - 1}])")


def raise_if_nonfinite(nonfinite: torch.Tensor) -> None:
    """After an attack's loop: raise if the model returned non-finite logits at any iterate ((B,) bool, one sync)."""
    count = int(nonfinite.sum())
    if count:
        raise ValueError(f"the model returned NaN or infinite logits at an attack iterate for {count} example(s): "
                         "no attack result can be trusted")


def resolve_generator(generator: torch.Generator | None, seed: int | None, device: torch.device) -> torch.Generator:
    """The generator an attack draws from: the one passed (it must live on ``device``), else a new one on
    ``device`` seeded with ``seed`` (0 when ``None``)."""
    if generator is None:
        return torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if generator.device.type != torch.device(device).type:
        raise ValueError(f"generator lives on {generator.device} but x is on {device}: pass a generator on x's device")
    return generator
