"""3D view: the convex hull of the octahedron B_1 and the cube B_inf, with the inscribed l_2 ball."""
from __future__ import annotations

import itertools

import numpy as np

from ..geometry import hull_radius, union_radius
from ..geometry import check_radii

__all__ = ["hull_figure_3d"]


def _vertices(eps1: float, eps_inf: float) -> tuple[np.ndarray, np.ndarray]:
    octa = eps1 * np.vstack([np.eye(3), -np.eye(3)])
    cube = eps_inf * np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    return octa, cube


def _sphere(radius: float, n: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, n), np.linspace(0, np.pi, n))
    return radius * np.cos(u) * np.sin(v), radius * np.sin(u) * np.sin(v), radius * np.cos(v)


def _edges(points: np.ndarray, length: float) -> tuple[list, list, list]:
    xs, ys, zs = [], [], []
    for a, b in itertools.combinations(points, 2):
        if abs(np.linalg.norm(a - b) - length) < 1e-9:
            xs += [a[0], b[0], None]
            ys += [a[1], b[1], None]
            zs += [a[2], b[2], None]
    return xs, ys, zs


def hull_figure_3d(eps1: float = 1.8, eps_inf: float = 1.0, show_union_ball: bool = True):
    """Plotly figure of conv(B_1 ∪ B_inf) in R^3 with the largest l_2 balls inside.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < 3 * eps_inf``.
    show_union_ball : bool
        Also draw the (smaller) largest l_2 ball inside the union.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces named ``"hull"``, ``"octahedron B_1"``, ``"cube B_inf"``, ``"l2 ball in hull"``
        (and ``"l2 ball in union"``); deterministic.
    """
    import plotly.graph_objects as go
    from scipy.spatial import ConvexHull

    eps1, eps_inf, _ = check_radii(eps1, eps_inf, 3)
    octa, cube = _vertices(eps1, eps_inf)
    points = np.vstack([octa, cube])
    hull = ConvexHull(points)
    i, j, k = hull.simplices.T
    r_hull = hull_radius(eps1, eps_inf, 2, 3)
    fig = go.Figure()
    fig.add_trace(go.Mesh3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], i=i, j=j, k=k, opacity=0.25,
                            color="seagreen", name="hull", showlegend=True, flatshading=True))
    oct_edges = _edges(octa, eps1 * np.sqrt(2))
    fig.add_trace(go.Scatter3d(x=oct_edges[0], y=oct_edges[1], z=oct_edges[2], mode="lines",
                               line=dict(color="royalblue", width=4), name="octahedron B_1"))
    cube_edges = _edges(cube, 2 * eps_inf)
    fig.add_trace(go.Scatter3d(x=cube_edges[0], y=cube_edges[1], z=cube_edges[2], mode="lines",
                               line=dict(color="black", width=4), name="cube B_inf"))
    sx, sy, sz = _sphere(r_hull)
    fig.add_trace(go.Surface(x=sx, y=sy, z=sz, opacity=0.55, colorscale=[[0, "seagreen"], [1, "seagreen"]],
                             showscale=False, name="l2 ball in hull", showlegend=True))
    if show_union_ball:
        ux, uy, uz = _sphere(union_radius(eps1, eps_inf, 2, 3))
        fig.add_trace(go.Surface(x=ux, y=uy, z=uz, opacity=0.8, colorscale=[[0, "crimson"], [1, "crimson"]],
                                 showscale=False, name="l2 ball in union", showlegend=True))
    lim = 1.1 * max(eps1, eps_inf)
    axis = dict(range=[-lim, lim], showbackground=False)
    fig.update_layout(
        scene=dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="cube"),
        title=f"conv(B_1({eps1:g}) ∪ B_inf({eps_inf:g})) in R^3: inscribed l2 radius {r_hull:.3f}",
        margin=dict(l=0, r=0, t=40, b=0), height=480, legend=dict(x=0, y=1),
    )
    return fig
