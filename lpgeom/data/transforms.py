"""The paper's CIFAR-10 augmentation (random crop with 4-pixel padding + horizontal flip) as batched tensor ops.

Running on the device (GPU) avoids the slow per-image PIL transforms.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["random_crop_flip"]


def random_crop_flip(x: torch.Tensor, padding: int = 4, flip: bool = True, generator: torch.Generator | None = None
                     ) -> torch.Tensor:
    """Random crop after zero padding, and random horizontal flip, per image.

    Parameters
    ----------
    x : torch.Tensor, shape (B, C, H, W)
    padding : int
    flip : bool
    generator : torch.Generator, optional
        On ``x``'s device, for reproducibility.

    Returns
    -------
    torch.Tensor, shape (B, C, H, W)
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"random_crop_flip needs a batch of images x of shape (B, C, H, W), got {shape}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"random_crop_flip padding must be an integer >= 0, got {padding!r}")
    b, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=x.device)
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])  # (B, H)
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])  # (B, W)
    if flip:
        flips = torch.rand(b, generator=generator, device=x.device) < 0.5
        cols = torch.where(flips[:, None], cols.flip(1), cols)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()
