"""What every attack does around its loop: check its inputs, run the model in eval mode, take input gradients.

Checks cost one host synchronisation each and run outside the step loops; inside a loop,
non-finite logits are only recorded (as a tensor) and reported once the loop is over.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from .settings import check_generator

__all__ = ["eval_mode", "loss_and_grad", "validate_attack_inputs", "check_model_input", "require_tensor", "check_logits",
           "raise_if_nonfinite", "resolve_generator", "FLOAT_DTYPES", "LABEL_DTYPES"]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
LABEL_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
# flattened image size -> the data set it is the size of (for the hint of a model/data mismatch)
_KNOWN_SIZES = {1 * 28 * 28: "Fashion-MNIST (1x28x28)", 3 * 32 * 32: "CIFAR-10 (3x32x32)",
                3 * 224 * 224: "ImageNet (3x224x224)"}
_KNOWN_CHANNELS = {1: "Fashion-MNIST", 3: "CIFAR-10/ImageNet"}


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

    Raises
    ------
    ValueError
        If the logits do not depend on ``x`` through autograd (a detached or non-differentiable
        model): a gradient attack cannot test it, and calling it robust would be false.
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
        grad = torch.autograd.grad(loss.sum(), x, allow_unused=True)[0] if loss.requires_grad else None
    if grad is None:
        raise ValueError("the model's logits carry no gradient with respect to x (detached, computed under "
                         "torch.no_grad, or not depending on x): a gradient attack cannot test this model, and it "
                         "is not reported robust")
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
    require_tensor(x, "x", "a torch.Tensor batch of shape (B, ...)")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (B, ...) with at least 2 dimensions, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"x is an empty batch (shape {tuple(x.shape)}): an attack needs at least one example")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"x must be float16, bfloat16, float32 or float64, got dtype {x.dtype}")
    require_tensor(y, "y", "a torch.Tensor of integer class labels (B,)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {tuple(y.shape)}")
    if y.dtype not in LABEL_DTYPES:
        raise TypeError(f"y must hold integer class labels (int64, int32, int16, int8 or uint8), got dtype {y.dtype} "
                        "(float, bool and complex labels are refused: convert with y.long() only if they are whole "
                        "class indices)")
    if y.device != x.device:
        raise ValueError(f"y is on {y.device} but x is on {x.device}: put both on one device")
    if x.device.type == "meta":
        raise ValueError("x is on the meta device, which holds no data: create the batch on cpu or cuda")
    finite, lo, hi, y_min = torch.stack([torch.isfinite(x).all().double(), x.min().double(), x.max().double(),
                                         y.min().double()]).tolist()
    if not finite:
        raise ValueError("x contains NaN or infinite values: attacks need finite images in [0, 1]")
    if lo < 0 or hi > 1:
        hint = " (it looks like 0-255 pixels: divide by 255)" if hi > 1.5 else ""
        raise ValueError(f"x must lie in [0, 1] (normalisation belongs inside the model), got values in "
                         f"[{lo:.4g}, {hi:.4g}]{hint}")
    if y_min < 0:
        raise ValueError(f"y must hold class labels >= 0, got a label {int(y_min)}")
    return y.long()


def check_model_input(model: nn.Module, x: torch.Tensor, *, same_device: bool = False) -> None:
    """Refuse a batch the model cannot take: another floating dtype, or another number of channels.

    Parameters
    ----------
    model : torch.nn.Module
        Its floating parameters set the dtype it expects; its first layer with parameters
        (in registration order), if a ``Conv2d`` or a ``Linear``, the input size. A model
        without parameters, or whose first layer is of another kind, passes.
    x : torch.Tensor, shape (B, C, ...) or (B, F)
        The batch.
    same_device : bool
        Also refuse ``x`` on another device than the model's parameters (the attacks; a
        training loop that moves each batch later leaves it off).

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``x`` is not a tensor, or its dtype is not the model's floating dtype (outside
        ``torch.autocast``, which casts inside the model).
    ValueError
        With ``same_device``, if ``x`` is not on the parameters' device. If ``x`` is not 4-d for
        a first ``Conv2d``, or ``x.shape[1]`` is not the first ``Conv2d``'s ``in_channels``, or ``x``'s flattened
        size not the first ``Linear``'s ``in_features`` (checked by running the model on one
        example before refusing, so a model registering its layers out of order is not refused).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {_type_name(model)}")
    require_tensor(x, "x", "a torch.Tensor batch")
    parameter = next(model.parameters(), None)
    if same_device and parameter is not None and parameter.device != x.device:
        raise ValueError(f"x is on {x.device} but the model's parameters are on {parameter.device}: move one "
                         f"(x.to({str(parameter.device)!r}) or model.to({str(x.device)!r}))")
    dtypes = {p.dtype for p in model.parameters() if p.is_floating_point()}
    if len(dtypes) == 1:
        (dtype,) = dtypes
        if x.dtype != dtype and not (x.is_floating_point() and _autocast_on(x)):
            raise TypeError(f"x has dtype {x.dtype} but the model's parameters are {dtype}: convert the batch "
                            f"(x.to({dtype})) or the model (model.to({x.dtype})); for mixed precision keep both in "
                            "float32 and run under torch.autocast")
    layer = next((m for m in model.modules() if next(m.parameters(recurse=False), None) is not None), None)
    if isinstance(layer, nn.Conv2d) and x.ndim != 4:
        given, expected, what = x.ndim, 4, "dimensions"
        hint = " (a batch of images (B, C, H, W))"
    elif isinstance(layer, nn.Conv2d) and x.shape[1] != layer.in_channels:
        given, expected, what = x.shape[1], layer.in_channels, "channels"
        hint = _mismatch_hint(_KNOWN_CHANNELS, expected, given)
    elif isinstance(layer, nn.Linear) and x.ndim >= 2 and layer.in_features not in (x[0].numel(), x.shape[-1]):
        given, expected, what = x[0].numel(), layer.in_features, "values per example"
        hint = _mismatch_hint(_KNOWN_SIZES, expected, given)
    else:
        return
    if _runs_on_one_example(model, x):
        return
    raise ValueError(f"x has {given} {what} (shape {tuple(x.shape)}) but the model's first layer "
                     f"({type(layer).__name__}) expects {expected}{hint}")


def require_tensor(value: object, name: str, what: str) -> None:
    """``TypeError`` naming ``name``, ``what`` it must be and the type given, unless ``value`` is a tensor.

    >>> require_tensor([1, 2], "y", "a torch.Tensor of integer class labels (B,)")
    Traceback (most recent call last):
    TypeError: y must be a torch.Tensor of integer class labels (B,), got list
    """
    if not isinstance(value, torch.Tensor):
        hint = f" (convert it with torch.from_numpy({name}))" if type(value).__module__.startswith("numpy") else ""
        raise TypeError(f"{name} must be {what}, got {_type_name(value)}{hint}")


def _type_name(value: object) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def _autocast_on(x: torch.Tensor) -> bool:
    try:
        return torch.is_autocast_enabled(x.device.type)
    except (TypeError, RuntimeError):  # torch without the device-type argument, or a device autocast lacks
        return x.device.type == "cuda" and torch.is_autocast_enabled()


def _mismatch_hint(known: dict[int, str], expected: int, given: int) -> str:
    if expected in known and given in known and known[expected] != known[given]:
        return f": a model for {known[expected]} on {known[given]} data? Use the data the model was trained on"
    return ""


def _runs_on_one_example(model: nn.Module, x: torch.Tensor) -> bool:
    """Whether the model runs on ``x[:1]`` (eval mode, no gradients): confirms a suspected mismatch.

    The example is moved to the parameters' device first: a model on a GPU checked against a
    batch still on the CPU (evaluation and training move the batch later) must not be refused
    for the device alone.
    """
    parameter = next(model.parameters(), None)
    first = x[:1] if parameter is None else x[:1].to(parameter.device)
    try:
        with eval_mode(model), torch.no_grad():
            model(first)
    except Exception:  # any failure confirms the mismatch the layer sizes showed
        return False
    return True


def check_logits(logits: torch.Tensor, y: torch.Tensor) -> None:
    """Refuse a model whose output at the start is not a float (B, K) tensor of finite logits, or labels
    beyond its classes (one sync)."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"the model must return a tensor of logits (B, K), got {_type_name(logits)} (wrap a model "
                        "that returns several outputs so that it returns the logits alone)")
    if not logits.is_floating_point():
        raise TypeError(f"the model must return floating-point logits, got dtype {logits.dtype}: an attack needs "
                        "their gradient (remove the cast or rounding at the end of the model)")
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"the model must return logits of shape ({y.shape[0]}, K), got shape {tuple(logits.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"the model returns {logits.shape[1]} logit(s) per example: a classifier an attack can fool "
                         "needs at least 2 classes")
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
    check_generator(generator, device)
    if generator is None:
        return torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))
    return generator
