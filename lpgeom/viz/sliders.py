"""Plotly figures with sliders over precomputed frames: they react in the static, offline book.

Each frame shows the closed forms (Proposition 3.1, Theorem 3.1) next to an independent
numerical value: the hull's radius from LP gauges (random start + gauge ascent, HiGHS; see
:mod:`lpgeom.geometry.linear_programme`) and the union's from its convex programme (a
certified bracket, :func:`lpgeom.geometry.union_radius_bracket`). Everything is computed
when the figure is built; moving a slider only swaps precomputed data, so no kernel is
needed.

* :func:`plane_slider_figure`: the paper's Figure 2 in the plane, a slider over ``p``.
* :func:`radii_slider_figure`: both radii as functions of ``p``, a slider over settings
  (eps_1, eps_inf and d varied around the paper's CIFAR-10 and ImageNet settings).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..geometry import check_radii, hull_radius, parse_p, union_radius
from ..geometry.linear_programme import hull_gauge_lp, search_hull_radius
from ..geometry.verification import hull_worst_point, union_radius_bracket
from .plane import _hull_polygon, lp_ball_boundary

__all__ = [
    "RadiusCheck", "check_radii_numerically", "Setting", "PAPER_SETTINGS", "P_GRID",
    "plane_slider_figure", "radii_slider_figure",
]

P_GRID = (1.0, 1.25, 1.5, 2.0, 3.0, 4.0, math.inf)
LP_SEARCH_MAX_DIMENSION = 3072
"""Above this d the hull is checked by one LP (the gauge of the closed form's worst point,
about 5-10 s at d = 150528 on 2 CPU cores) at p = 2 only, instead of a search at every p."""


@dataclass(frozen=True)
class Setting:
    """A named choice of radii and dimension."""

    label: str
    eps1: float
    eps_inf: float
    d: int


PAPER_SETTINGS = (
    Setting("CIFAR-10", 12.0, 8 / 255, 3072),
    Setting("ImageNet", 255.0, 4 / 255, 150528),
    Setting("ε₁=4", 4.0, 8 / 255, 3072),
    Setting("ε₁=8", 8.0, 8 / 255, 3072),
    Setting("ε₁=20", 20.0, 8 / 255, 3072),
    Setting("ε₁=40", 40.0, 8 / 255, 3072),
    Setting("ε∞=2/255", 12.0, 2 / 255, 3072),
    Setting("ε∞=4/255", 12.0, 4 / 255, 3072),
    Setting("ε∞=16/255", 12.0, 16 / 255, 3072),
    Setting("d=784", 12.0, 8 / 255, 784),
    Setting("d=150528", 12.0, 8 / 255, 150528),
)
"""Around CIFAR-10 (eps_1 = 12, eps_inf = 8/255, d = 3072): one parameter changed at a time;
and ImageNet (255, 4/255, 150528)."""


@dataclass(frozen=True)
class RadiusCheck:
    """Closed forms and independent numerical values of both radii for one (eps1, eps_inf, p, d).

    Attributes
    ----------
    union_closed, hull_closed : float
        Proposition 3.1 and Theorem 3.1.
    union_numeric : float
        From the union's convex programme (upper end of its certified bracket).
    hull_numeric : float or None
        From LP gauges: the search's radius (d <= ``LP_SEARCH_MAX_DIMENSION``), or the norm of
        the closed form's worst point divided by its LP gauge (larger d, p = 2 only); None
        where no LP was run.
    hull_method : str
        ``"LP search"``, ``"LP at the worst point"`` or ``"none"``.
    n_lp : int
        Linear programmes solved.
    """

    eps1: float
    eps_inf: float
    p: float
    d: int
    union_closed: float
    union_numeric: float
    hull_closed: float
    hull_numeric: float | None
    hull_method: str
    n_lp: int

    @property
    def union_gap(self) -> float:
        """Relative gap between the closed form and the convex programme."""
        return abs(self.union_numeric - self.union_closed) / self.union_closed

    @property
    def hull_gap(self) -> float | None:
        """Relative gap between the closed form and the LP value (None without LP)."""
        if self.hull_numeric is None:
            return None
        return abs(self.hull_numeric - self.hull_closed) / self.hull_closed


def check_radii_numerically(eps1: float, eps_inf: float, p: float | str, d: int, *, lp: bool = True) -> RadiusCheck:
    """Both radii by their closed forms and by the independent methods (see the module docstring).

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < d * eps_inf``.
    p : float or str
        The norm.
    d : int
        Dimension.
    lp : bool
        Run the hull's LPs (False: the union's programme only).

    Returns
    -------
    RadiusCheck
    """
    eps1, eps_inf, d = check_radii(eps1, eps_inf, d)
    p = parse_p(p)
    hull_closed = hull_radius(eps1, eps_inf, p, d)
    hull_numeric, method, n_lp = None, "none", 0
    if lp and d <= LP_SEARCH_MAX_DIMENSION:
        found = search_hull_radius(eps1, eps_inf, p, d, n_starts=1, max_steps=3)
        hull_numeric, method, n_lp = found.radius, "LP search", found.n_lp
    elif lp and p == 2:
        gauge = hull_gauge_lp(hull_worst_point(eps1, eps_inf, p, d), eps1, eps_inf).value
        hull_numeric, method, n_lp = hull_closed / gauge, "LP at the worst point", 1
    return RadiusCheck(
        eps1=eps1, eps_inf=eps_inf, p=p, d=d,
        union_closed=union_radius(eps1, eps_inf, p, d), union_numeric=union_radius_bracket(eps1, eps_inf, p, d)[1],
        hull_closed=hull_closed, hull_numeric=hull_numeric, hull_method=method, n_lp=n_lp,
    )


def _p_label(p: float) -> str:
    return "∞" if math.isinf(p) else f"{p:g}"


def _check_line(checks: list[RadiusCheck]) -> str:
    """One line of text: the largest gaps over a frame's checks."""
    union_gap = max(c.union_gap for c in checks)
    hull = [c for c in checks if c.hull_gap is not None]
    text = f"check: union vs convex programme, max rel. gap {union_gap:.0e}"
    if hull:
        methods = sorted({c.hull_method for c in hull})
        ps = ", ".join(_p_label(c.p) for c in hull)
        n_lp = sum(c.n_lp for c in hull)
        text += (f"; hull vs {' / '.join(methods)} ({n_lp} LP{'s' if n_lp > 1 else ''}, p = {ps}), "
                 f"max rel. gap {max(c.hull_gap for c in hull):.0e}")
    return text


def _xy(curve: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    return {"x": np.round(curve[0], 5), "y": np.round(curve[1], 5)}


def _slider(labels: list[str], prefix: str, active: int = 0) -> dict:
    steps = [
        {"label": label, "method": "animate",
         "args": [[label], {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}]}
        for label in labels
    ]
    return {"active": active, "currentvalue": {"prefix": prefix}, "pad": {"t": 40}, "steps": steps}


def radii_slider_figure(settings: tuple[Setting, ...] = PAPER_SETTINGS, ps: tuple[float, ...] = P_GRID):
    """Union and hull radii against p, one frame per setting, closed forms next to numerics.

    Parameters
    ----------
    settings : tuple of Setting
        One slider step each (the first is shown first).
    ps : tuple of float
        The norms on the x axis.

    Returns
    -------
    plotly.graph_objects.Figure
        Four traces (union and hull: closed-form lines, numerical markers) and one frame
        per setting, named by its label; the annotation under the plot holds the frame's
        check line.
    """
    import plotly.graph_objects as go

    if not settings:
        raise ValueError("settings must hold at least one Setting")
    labels = [_p_label(parse_p(p)) for p in ps]
    frames = []
    for s in settings:
        checks = [check_radii_numerically(s.eps1, s.eps_inf, p, s.d) for p in ps]
        hull_num = [c.hull_numeric for c in checks]
        data = [
            go.Scatter(x=labels, y=[c.union_closed for c in checks], mode="lines", name="union, Prop. 3.1",
                       line={"color": "#d62728"}),
            go.Scatter(x=labels, y=[c.union_numeric for c in checks], mode="markers", name="union, convex programme",
                       marker={"symbol": "x", "size": 10, "color": "#d62728"}),
            go.Scatter(x=labels, y=[c.hull_closed for c in checks], mode="lines", name="hull, Thm. 3.1",
                       line={"color": "#2ca02c"}),
            go.Scatter(x=labels, y=hull_num, mode="markers", name="hull, LP gauges",
                       marker={"symbol": "circle-open", "size": 12, "color": "#2ca02c", "line": {"width": 2}}),
        ]
        title = f"{s.label}: ε₁ = {s.eps1:g}, ε∞ = {s.eps_inf * 255:g}/255, d = {s.d}"
        annotation = {"text": _check_line(checks), "xref": "paper", "yref": "paper", "x": 0, "y": -0.22,
                      "showarrow": False, "xanchor": "left", "font": {"size": 11}}
        frames.append(go.Frame(name=s.label, data=data, layout={"title": {"text": title}, "annotations": [annotation]}))
    fig = go.Figure(data=frames[0].data, frames=frames, layout=frames[0].layout)
    fig.update_layout(
        xaxis_title="p", yaxis_title="radius of the largest l_p ball inside (log scale)", yaxis_type="log",
        sliders=[_slider([s.label for s in settings], "setting: ")], height=560, margin={"b": 150},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def plane_slider_figure(eps1: float = 1.5, eps_inf: float = 1.0, ps: tuple[float, ...] = P_GRID):
    """The paper's Figure 2 in the plane (d = 2), one frame per p.

    Parameters
    ----------
    eps1, eps_inf : float
        Radii with ``eps_inf < eps1 < 2 * eps_inf``.
    ps : tuple of float
        The norms of the inscribed balls, one slider step each.

    Returns
    -------
    plotly.graph_objects.Figure
        The two balls and the hull (fixed), the largest l_p balls inside the union and the
        hull (changing per frame), and the frame's check line.
    """
    ps = tuple(ps)
    if not ps:
        raise ValueError("ps must hold at least one norm p (one slider step each), got none")
    import plotly.graph_objects as go

    eps1, eps_inf, _ = check_radii(eps1, eps_inf, 2)
    poly = _hull_polygon(eps1, eps_inf)
    poly = np.vstack([poly, poly[:1]])
    fixed = [
        go.Scatter(x=poly[:, 0], y=poly[:, 1], fill="toself", fillcolor="rgba(44,160,44,0.15)", mode="lines",
                   line={"color": "rgba(44,160,44,0.5)"}, name="convex hull C"),
        go.Scatter(**_xy(lp_ball_boundary(1, eps1, n=181)), mode="lines", line={"color": "#1f77b4"}, name=f"B₁({eps1:g})"),
        go.Scatter(**_xy(lp_ball_boundary(math.inf, eps_inf, n=181)), mode="lines", line={"color": "black"},
                   name=f"B∞({eps_inf:g})"),
    ]
    frames = []
    for p in ps:
        p = parse_p(p)
        check = check_radii_numerically(eps1, eps_inf, p, 2)
        moving = [
            go.Scatter(**_xy(lp_ball_boundary(p, check.union_closed, n=181)), mode="lines", line={"color": "#d62728", "dash": "dash"},
                       name=f"largest l_p ball in the union: {check.union_closed:.4f}"),
            go.Scatter(**_xy(lp_ball_boundary(p, check.hull_closed, n=181)), mode="lines",
                       line={"color": "#2ca02c", "width": 3},
                       name=f"largest l_p ball in the hull: {check.hull_closed:.4f}"),
        ]
        text = (f"p = {_p_label(p)}: union {check.union_closed:.6f} (convex programme {check.union_numeric:.6f}), "
                f"hull {check.hull_closed:.6f} (LP search {check.hull_numeric:.6f})")
        annotation = {"text": text, "xref": "paper", "yref": "paper", "x": 0, "y": -0.16, "showarrow": False,
                      "xanchor": "left", "font": {"size": 11}}
        frames.append(go.Frame(name=_p_label(p), data=fixed + moving, layout={"annotations": [annotation]}))
    lim = 1.15 * eps1
    fig = go.Figure(data=frames[0].data, frames=frames, layout=frames[0].layout)
    fig.update_layout(
        xaxis={"range": [-lim, lim], "zeroline": True}, yaxis={"range": [-lim, lim], "scaleanchor": "x"},
        sliders=[_slider([f.name for f in frames], "p = ", active=ps.index(2.0) if 2.0 in ps else 0)],
        height=620, width=620, margin={"b": 150}, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    if 2.0 in ps:  # show p = 2 (the paper's figure) first
        first = frames[list(ps).index(2.0)]
        fig.update(data=first.data)
        fig.update_layout(annotations=first.layout.annotations)
    return fig
