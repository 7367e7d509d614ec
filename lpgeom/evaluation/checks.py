"""Input validation and sanity checks against gradient masking (in the spirit of AutoAttack's checks)."""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..attacks import check_model_input, validate_attack_inputs
from ..attacks.model_mode import check_logits, eval_mode, require_tensor
from ..attacks.settings import check_count, check_seed
from ..utils import check_integer
from ..threats import LpBall
from ..threats.validation import check_radii_fit

__all__ = ["validate_evaluation_inputs", "validate_evaluation_options", "gradient_masking_warnings"]


def validate_evaluation_options(method: str, methods: tuple[str, ...], n_iter: object, default_iterations: dict[str, int],
                                batch_size: object, seed: object, n_target_classes: object) -> int:
    """Clear errors for options that cannot be used together or are out of range; returns ``n_iter`` resolved.

    The counts and the seed are checked as the attacks check theirs (:mod:`lpgeom.attacks.settings`:
    numpy integers accepted, ``bool`` refused).

    Raises
    ------
    ValueError
        Unknown method, ``n_iter``/``batch_size``/``n_target_classes`` below 1 (``n_iter`` above
        1e9, ``batch_size`` above 2**63 - 1), a seed outside [0, 2**64 - 1], ``n_target_classes``
        with a method other than ``"autoattack"``.
    TypeError
        A count or seed that is not an integer.
    """
    if not isinstance(method, str) or method not in methods:
        raise ValueError(f"method must be one of {', '.join(methods)}, got {method!r} (unknown method)")
    if n_iter is not None:
        n_iter = check_count(n_iter, "n_iter")
    check_integer(batch_size, "batch_size", 1)
    if n_target_classes is not None:
        n_target_classes = check_count(n_target_classes, "n_target_classes")
    check_seed(seed, optional=False)
    if n_target_classes is not None and method != "autoattack":
        raise ValueError(f"n_target_classes={n_target_classes} applies to method='autoattack' only, got method={method!r} "
                         "('autoattack-standard' uses AutoAttack's standard targets, 'apgd' has none)")
    return default_iterations[method] if n_iter is None else n_iter


def validate_evaluation_inputs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, balls: list[LpBall]) -> int:
    """Clear ``ValueError``/``TypeError`` for inputs that cannot be evaluated; returns the number of classes.

    Checks: a module; images (N, C, H, W) and labels (N,) as the attacks check theirs
    (:func:`~lpgeom.attacks.validate_attack_inputs`: a float dtype, N >= 1, finite, in [0, 1],
    integer labels >= 0; ``y`` may live on another device, it is moved later), labels within
    the model's classes; radii on the [0, 1] scale (e.g. eps_inf = 8 instead of 8/255); images
    of the model's dtype and channel count (:func:`~lpgeom.attacks.check_model_input`). The
    model runs once, in eval mode, on the first image: it must return finite float logits
    (1, K) with a gradient with respect to the image.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    require_tensor(x, "x", "a torch.Tensor of images (N, C, H, W)")
    if x.ndim != 4:
        raise ValueError(f"x must be a tensor of images (N, C, H, W), got shape {tuple(x.shape)}")
    require_tensor(y, "y", "a torch.Tensor of integer class labels (N,)")
    if x.device.type == "meta" or y.device.type == "meta":
        raise ValueError("x and y must hold data: tensors on the meta device have none (create them on cpu or cuda)")
    y = validate_attack_inputs(x, y.to(x.device))  # the attacks' checks of images and labels, one message each
    check_radii_fit(balls, x[0].numel())
    check_model_input(model, x)
    parameter = next(model.parameters(), None)
    if parameter is not None and parameter.device.type == "meta":
        raise ValueError("the model's parameters are on the meta device (no weights): load or create them on cpu "
                         "or cuda first")
    first = (x[:1] if parameter is None else x[:1].to(parameter.device)).detach().clone()
    reference = first.clone()
    with eval_mode(model), torch.no_grad():
        model(first)
    if not torch.equal(first, reference):
        raise ValueError(IN_PLACE)
    first.requires_grad_(True)
    with eval_mode(model), torch.enable_grad(), _in_place_is_named():
        logits = model(first)
        check_logits(logits, torch.zeros(1, dtype=torch.long, device=first.device))  # labels: checked below
        grad = torch.autograd.grad(logits.float().sum(), first, allow_unused=True)[0] if logits.requires_grad else None
    if grad is not None and not torch.equal(first.detach(), reference):
        raise ValueError(IN_PLACE)
    if grad is None:
        raise ValueError("the model's logits carry no gradient with respect to x (detached, computed under "
                         "torch.no_grad, or not depending on x): gradient attacks cannot test it, and it is not "
                         "reported robust")
    n_classes = logits.shape[-1]
    if int(y.max()) >= n_classes:
        raise ValueError(f"labels must be in [0, {n_classes - 1}] for a model with {n_classes} outputs, "
                         f"got range [{int(y.min())}, {int(y.max())}]")
    return n_classes


IN_PLACE = ("the model modifies its input in place (e.g. x.sub_(mean), x.clamp_(0, 1) or an inplace=True operation "
            "applied to the input in forward): attacks take gradients with respect to the input and reuse it, so it "
            "cannot be evaluated; use out-of-place operations (x = x - mean) or clone the input first")


@contextlib.contextmanager
def _in_place_is_named():
    """Turn autograd's raw error for an in-place change of the input into :data:`IN_PLACE`."""
    try:
        yield
    except RuntimeError as err:
        text = str(err)
        if "in-place operation" in text or "inplace operation" in text:
            raise ValueError(IN_PLACE) from err
        raise


def gradient_masking_warnings(model: nn.Module, x: torch.Tensor, n_iter: int) -> list[str]:
    """Warnings that the evaluation may overestimate robustness.

    - the model is random (two forward passes differ): use EOT, results are not deterministic;
    - the outputs look like probabilities (softmax as last layer): gradients of the losses saturate;
    - too few iterations for an evaluation.

    Parameters
    ----------
    model : torch.nn.Module
        Run as it is (put it in eval mode first: dropout in train mode reads as a random model).
    x : torch.Tensor, shape (N, C, H, W)
        Images in [0, 1] on the model's device; the first 8 are used.
    n_iter : int
        The attacks' iterations (fewer than 50 get a warning).

    Returns
    -------
    list of str
        One sentence per warning (empty when none applies).
    """
    out = []
    with torch.no_grad():
        a, b = model(x[:8]), model(x[:8])
    if not torch.allclose(a, b, atol=1e-6):
        out.append("the model is randomised (two forward passes differ): attacks need EOT; robust accuracy is unreliable")
    if (a >= 0).all() and torch.allclose(a.sum(-1), torch.ones(a.shape[0], device=a.device), atol=1e-4):
        out.append("the model outputs probabilities (rows sum to 1): return logits, softmax masks the gradients")
    if n_iter < 50:
        out.append(f"only {n_iter} attack iterations: fine for monitoring, too few for a reported evaluation (use >= 100)")
    return out
