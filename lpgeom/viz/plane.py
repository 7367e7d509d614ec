"""2D pictures of B_1, B_inf, their union, their convex hull and the largest l_p balls inside.

Reproduces the paper's Figure 2 for any radii and any p.
"""
from __future__ import annotations

import math

import numpy as np

from ..geometry import hull_radius, union_radius
from ..geometry import check_radii, parse_p
from ..utils import check_integer, check_real

__all__ = ["lp_ball_boundary", "draw_sets", "plot_union_and_hull", "PANELS"]

PANELS = ("balls", "union", "hull", "hull ball")
COLORS = {"l1": "tab:blue", "linf": "black", "union": "tab:red", "hull": "tab:green"}


def lp_ball_boundary(p: float | str, radius: float, n: int = 721) -> tuple[np.ndarray, np.ndarray]:
    """Points on the 2D l_p sphere of a radius.

    Parameters
    ----------
    p : float or str
        ``1 <= p <= inf``.
    radius : float
    n : int
        Number of points (closed curve: the last equals the first).

    Returns
    -------
    xs, ys : numpy.ndarray, shape (n,)
    """
    p = parse_p(p)
    radius = check_real(radius, "radius", 0)
    n = check_integer(n, "n (points of a closed curve)", 2)
    theta = np.linspace(0, 2 * np.pi, n)
    c, s = np.cos(theta), np.sin(theta)
    # the corners of l_1 and l_inf balls are hit exactly by including the axis/diagonal angles
    big = np.maximum(np.abs(c), np.abs(s))
    if math.isinf(p):
        norm = big
    else:  # scaled by the larger coordinate: |c|^p + |s|^p underflows to 0 for large p
        norm = big * ((np.abs(c) / big) ** p + (np.abs(s) / big) ** p) ** (1 / p)
    return radius * c / norm, radius * s / norm


def _hull_polygon(eps1: float, eps_inf: float) -> np.ndarray:
    from scipy.spatial import ConvexHull

    pts = np.array([[eps1, 0], [-eps1, 0], [0, eps1], [0, -eps1],
                    [eps_inf, eps_inf], [eps_inf, -eps_inf], [-eps_inf, eps_inf], [-eps_inf, -eps_inf]], float)
    hull = ConvexHull(pts)
    return pts[hull.vertices]


def draw_sets(ax, eps1: float, eps_inf: float, p: float | str = 2, panel: str = "hull ball") -> dict[str, float]:
    """Draw one panel of the picture on a matplotlib axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < 2 * eps_inf`` (non-degenerate in 2D).
    p : float or str
        Norm of the inscribed ball.
    panel : {"balls", "union", "hull", "hull ball"}
        What to show: the two balls; the largest l_p ball in the union; the hull; the
        largest l_p ball in the hull (with the union's for comparison).

    Returns
    -------
    dict
        The radii drawn: ``{"union": r_U, "hull": r_C}``.
    """
    if not callable(getattr(ax, "plot", None)) or not callable(getattr(ax, "fill", None)):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. plt.subplots()[1]), got {type(ax).__name__}")
    if panel not in PANELS:
        raise ValueError(f"panel must be one of {PANELS}, got {panel!r}")
    eps1, eps_inf, _ = check_radii(eps1, eps_inf, 2)
    p = parse_p(p)
    r_union, r_hull = union_radius(eps1, eps_inf, p, 2), hull_radius(eps1, eps_inf, p, 2)
    name = "∞" if math.isinf(p) else f"{p:g}"
    ax.plot(*lp_ball_boundary(1, eps1), color=COLORS["l1"], lw=1.5, label=f"$B_1$ ({eps1:g})")
    ax.plot(*lp_ball_boundary(math.inf, eps_inf), color=COLORS["linf"], lw=1.5, label=f"$B_\\infty$ ({eps_inf:g})")
    if panel in ("hull", "hull ball"):
        poly = _hull_polygon(eps1, eps_inf)
        ax.fill(poly[:, 0], poly[:, 1], color=COLORS["hull"], alpha=0.2, label="convex hull $C$")
    if panel == "union":
        ax.fill(*lp_ball_boundary(1, eps1), color=COLORS["l1"], alpha=0.12)
        ax.fill(*lp_ball_boundary(math.inf, eps_inf), color=COLORS["l1"], alpha=0.12, label="union $U$")
    if panel in ("union", "hull ball"):
        ax.plot(*lp_ball_boundary(p, r_union), color=COLORS["union"], lw=2,
                ls="--" if panel == "hull ball" else "-", label=f"largest $\\ell_{{{name}}}$ ball in $U$: {r_union:.3g}")
    if panel == "hull ball":
        ax.plot(*lp_ball_boundary(p, r_hull), color=COLORS["hull"], lw=2.5,
                label=f"largest $\\ell_{{{name}}}$ ball in $C$: {r_hull:.3g}")
    lim = 1.15 * max(eps1, eps_inf)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), fontsize=9, frameon=False)
    return {"union": r_union, "hull": r_hull}


def plot_union_and_hull(eps1: float = 1.5, eps_inf: float = 1.0, p: float | str = 2, panels: tuple[str, ...] = PANELS):
    """The paper's Figure 2: the balls, the union's inscribed ball, the hull, the hull's inscribed ball.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < 2 * eps_inf``.
    p : float or str
        Norm of the inscribed balls (the paper draws p = 2).
    panels : tuple of str
        Which panels to draw, from ``PANELS``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = tuple(panels) if not isinstance(panels, str) else (panels,)
    if not panels or any(panel not in PANELS for panel in panels):
        raise ValueError(f"panels must be one or more of {', '.join(PANELS)}, got {panels!r}")
    import matplotlib.pyplot as plt

    # at most two panels per row: four in a row were shown at half size in the book's column
    ncols = min(2, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 4.9 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        draw_sets(ax, eps1, eps_inf, p, panel)
        ax.set_title(panel)
    fig.tight_layout()
    return fig
