"""Figures and widgets for the book. Nothing is imported or drawn until a function is used.

plane            2D matplotlib pictures of B_1, B_inf, their union, hull and inscribed l_p balls
solid            3D plotly view of the hull of the octahedron and the cube with the inscribed l_2 ball
panel            an ipywidgets panel: sliders for eps1, eps_inf, p, d; live radii and numerical check
sliders          plotly figures with sliders over precomputed frames (react in the static book)
plotly_display   show_plotly: plotly figures that render in JupyterLab and in the offline book
perturbations    real images next to their l_1 / l_2 / l_inf perturbations
study            the recorded study: E-AT's sampling, l_2 curves, tables by code revision (mean ± std)
robustness       bar charts of robustness reports, E-AT's P(l_1) over several runs
norm_shares      Figure 3 analogue: MAX's and MSD's per-norm shares per epoch
calibration      E-AT vs calibrated E-AT: union accuracy over seeds, P(l_1), the l_1 error estimates
"""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "lp_ball_boundary": "lpgeom.viz.plane",
    "plot_union_and_hull": "lpgeom.viz.plane",
    "draw_sets": "lpgeom.viz.plane",
    "hull_figure_3d": "lpgeom.viz.solid",
    "geometry_panel": "lpgeom.viz.panel",
    "panel_summary": "lpgeom.viz.panel",
    "plane_slider_figure": "lpgeom.viz.sliders",
    "radii_slider_figure": "lpgeom.viz.sliders",
    "check_radii_numerically": "lpgeom.viz.sliders",
    "show_plotly": "lpgeom.viz.plotly_display",
    "plotly_bundle": "lpgeom.viz.plotly_display",
    "plot_perturbations": "lpgeom.viz.perturbations",
    "plot_sampling_history": "lpgeom.viz.study",
    "plot_l2_curves": "lpgeom.viz.study",
    "side_by_side": "lpgeom.viz.study",
    "show_study_tables": "lpgeom.viz.study",
    "plot_norm_shares": "lpgeom.viz.norm_shares",
    "plot_calibrated_sampling": "lpgeom.viz.calibration",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'lpgeom.viz' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
