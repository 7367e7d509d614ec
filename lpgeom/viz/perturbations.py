"""Real images next to their perturbed versions and the perturbations themselves."""
from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["plot_perturbations"]


def _to_image(t: torch.Tensor):
    t = t.detach().float().cpu()
    return t[0].numpy() if t.shape[0] == 1 else t.permute(1, 2, 0).numpy()


def plot_perturbations(x: torch.Tensor, perturbed: Mapping[str, torch.Tensor], titles: Mapping[str, str] | None = None,
                       amplify: bool = True):
    """Grid: for each image, the original, each perturbed version, and the magnitude of the perturbation.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C, H, W) in [0, 1]
        Original images (N rows in the grid).
    perturbed : mapping name -> torch.Tensor of shape (N, C, H, W)
        Perturbed images, e.g. ``{"Linf": ..., "L2": ..., "L1": ...}``.
    titles : mapping name -> str, optional
        Column titles (default: the names).
    amplify : bool
        Show the perturbation magnitude rescaled to [0, 1] per image (else as is).

    Returns
    -------
    matplotlib.figure.Figure
        With a colour bar for the magnitude columns (scaled per image when ``amplify``).
    """
    import matplotlib.pyplot as plt

    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    for name, xp in perturbed.items():
        if xp.shape != x.shape:
            raise ValueError(f"perturbed[{name!r}] has shape {tuple(xp.shape)}, expected {tuple(x.shape)}")
    titles = dict(titles or {})
    n, cols = x.shape[0], 1 + 2 * len(perturbed)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.7 * n), squeeze=False)
    gray = "gray" if x.shape[1] == 1 else None
    for i in range(n):
        axes[i, 0].imshow(_to_image(x[i]), cmap=gray, vmin=0, vmax=1)
        for j, (name, xp) in enumerate(perturbed.items()):
            axes[i, 1 + 2 * j].imshow(_to_image(xp[i]), cmap=gray, vmin=0, vmax=1)
            mag = (xp[i] - x[i]).abs().amax(0, keepdim=True)
            if amplify:
                mag = mag / mag.max().clamp_min(1e-12)
            axes[i, 2 + 2 * j].imshow(_to_image(mag), cmap="magma", vmin=0, vmax=1)
            if i == 0:
                axes[i, 1 + 2 * j].set_title(titles.get(name, name), fontsize=11)
                axes[i, 2 + 2 * j].set_title(f"|δ| ({name})", fontsize=11)
        if i == 0:
            axes[i, 0].set_title("original", fontsize=11)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    # the colour of the |delta| columns encodes a value: its scale, beside the grid
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), "magma"), ax=axes.ravel().tolist(), shrink=0.8,
                       pad=0.02)
    bar.set_label("|δ| / max |δ| of the image" if amplify else "|δ| (max over channels)", fontsize=11)
    bar.ax.tick_params(labelsize=11)
    return fig
