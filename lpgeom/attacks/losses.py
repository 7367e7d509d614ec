"""Per-example attack losses: cross-entropy and the difference of logits ratio (DLR).

Every function maps logits (B, K) and labels (B,) to a loss per example (B,) that the
attack maximises. Targeted variants take the target classes (B,). Shapes and dtypes are
checked here (metadata only: these run inside attack loops, which must not synchronise with
the device); the range of the labels is checked once by the attacks' input validation.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["cross_entropy", "dlr", "targeted_dlr", "targeted_cross_entropy", "LOSSES", "margin"]


def _check_pair(logits: torch.Tensor, labels: torch.Tensor, name: str = "y") -> None:
    """Refuse logits that are not (B, K) or labels that are not (B,) integers (no device synchronisation)."""
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a tensor of shape (B, K), got {shape}")
    if not isinstance(labels, torch.Tensor) or labels.shape != logits.shape[:1]:
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be a tensor of shape (B,) = ({logits.shape[0]},), got {shape}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}")


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of the true class, (B, K), (B,) -> (B,)."""
    _check_pair(logits, y)
    return F.cross_entropy(logits.float(), y, reduction="none")


def targeted_cross_entropy(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Minus the cross-entropy of the target class (maximised: pushes towards ``target``)."""
    _check_pair(logits, target, "target")
    return -F.cross_entropy(logits.float(), target, reduction="none")


def dlr(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Difference of logits ratio (Croce & Hein 2020): -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3).

    Scale invariant; needs at least 3 classes (``ValueError`` otherwise).
    """
    _check_pair(logits, y)
    _need_classes(logits, 3, "dlr")
    z = logits.float()
    top = z.sort(dim=1, descending=True).values
    z_y = z.gather(1, y[:, None]).squeeze(1)
    other = z.scatter(1, y[:, None], float("-inf")).amax(1)
    return -(z_y - other) / (top[:, 0] - top[:, 2] + 1e-12)


def targeted_dlr(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Targeted DLR: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2); needs at least 4 classes (``ValueError`` otherwise)."""
    _check_pair(logits, y)
    _check_pair(logits, target, "target")
    _need_classes(logits, 4, "dlr-targeted")
    z = logits.float()
    top = z.sort(dim=1, descending=True).values
    z_y = z.gather(1, y[:, None]).squeeze(1)
    z_t = z.gather(1, target[:, None]).squeeze(1)
    return -(z_y - z_t) / (top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + 1e-12)


def _need_classes(logits: torch.Tensor, k: int, loss: str) -> None:
    if logits.shape[1] < k:
        raise ValueError(f"the {loss} loss needs a model with at least {k} classes, this one has {logits.shape[1]} "
                         "(use loss='ce')")


def margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """z_y - max_{i != y} z_i: positive iff correctly classified, (B,)."""
    _check_pair(logits, y)
    z = logits.float()
    return z.gather(1, y[:, None]).squeeze(1) - z.scatter(1, y[:, None], float("-inf")).amax(1)


LOSSES: dict[str, tuple[Callable[..., torch.Tensor], bool]] = {
    "ce": (cross_entropy, False),
    "dlr": (dlr, False),
    "ce-targeted": (targeted_cross_entropy, True),
    "dlr-targeted": (targeted_dlr, True),
}
