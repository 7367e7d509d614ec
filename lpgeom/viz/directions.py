"""Steepest-ascent directions of the l_1, l_2 and l_inf unit balls in the plane (attacks chapter)."""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["plot_steepest_ascent_2d"]

LABELS = {"Linf": "l_inf", "L2": "l_2", "L1": "l_1"}


def plot_steepest_ascent_2d(grad: Sequence[float] = (2.0, 1.0)):
    """The three unit balls in 2D, a gradient g, and for each ball the point v maximising <g, v>.

    Parameters
    ----------
    grad : pair of float
        The gradient g (not both zero).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per norm: the unit ball, the level line <g, v> = max through the maximiser,
        and the maximiser (l_inf: ``sign(g)``, a corner; l_2: ``g / norm_2(g)``; l_1: the axis of the
        largest ``abs(g_i)``).
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from ..threats import LpBall

    g = np.asarray(grad, dtype=float)
    if g.shape != (2,) or not np.isfinite(g).all() or not np.any(g):
        raise ValueError(f"grad must be two finite numbers, not both zero; got {grad!r}")
    t = np.linspace(0, 2 * np.pi, 400)
    c, s = np.cos(t), np.sin(t)
    batch = torch.from_numpy(g).unsqueeze(0)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4))
    for ax, (name, p) in zip(axes, (("Linf", "inf"), ("L2", 2), ("L1", 1))):
        q = float(p) if p != "inf" else np.inf
        r = 1 / (np.abs(c) ** q + np.abs(s) ** q) ** (1 / q) if np.isfinite(q) else 1 / np.maximum(np.abs(c), np.abs(s))
        ax.fill(r * c, r * s, color="#cfe3f7", ec="#2b6cb0", lw=1.5)
        # l_1: sparsity 1/2 keeps one of the two coordinates, the exact steepest ascent of the l_1 ball
        kwargs = {"sparsity": 0.5} if name == "L1" else {}
        v = LpBall(p, 1.0).steepest_ascent(batch, **kwargs)[0].numpy()
        top = float(g @ v)
        line = np.linspace(-1.6, 1.6, 2)
        if abs(g[1]) > 1e-12:
            ax.plot(line, (top - g[0] * line) / g[1], color="0.5", ls="--", lw=1)
        else:
            ax.axvline(top / g[0], color="0.5", ls="--", lw=1)
        ax.annotate("", xy=0.6 * g / np.linalg.norm(g), xytext=(0, 0), arrowprops=dict(arrowstyle="->", color="#c05621"))
        ax.text(*(0.65 * g / np.linalg.norm(g)), " g", color="#c05621")
        ax.plot(*v, "o", color="#2f855a", ms=7)
        ax.set_title(f"{LABELS[name]}: v = ({v[0]:.2f}, {v[1]:.2f}), <g,v> = {top:.2f}",
                     fontsize=9)
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.6, 1.6)
        ax.set_aspect("equal")
        ax.axhline(0, color="0.85", lw=0.8)
        ax.axvline(0, color="0.85", lw=0.8)
    fig.tight_layout()
    return fig
