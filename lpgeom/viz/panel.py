"""An ipywidgets panel: inputs for eps1 and eps_inf, sliders for p and d; the 2D picture and the radii, live.

For a live kernel (JupyterLab); the static book shows :mod:`lpgeom.viz.sliders` figures,
which react without one. The radii are typed (exact text inputs, not sliders, whose steps
would round 12 to 11.995); a preset sets them exactly. When the book build executes the
panel (``LPGEOM_STATIC_BOOK=1``, set by ``scripts/build_book.sh``), no kernel will answer its
controls on the page, so they are built disabled under a one-line note saying so. The pure logic (:func:`panel_summary`) is separate from the
widgets so it can be tested and reused; ipywidgets and matplotlib are imported only when
the panel is built.
"""
from __future__ import annotations

import io
import math
import os

from ..geometry import verify_radius

__all__ = ["panel_summary", "geometry_panel", "P_CHOICES", "D_CHOICES", "PRESETS", "STATIC_NOTE"]

P_CHOICES = (1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 8.0, math.inf)
D_CHOICES = (2, 3, 10, 100, 784, 3072, 150528)
PRESETS = {
    "CIFAR-10 (12, 8/255, 3072)": (12.0, 8 / 255, 3072),
    "ImageNet (255, 4/255, 150528)": (255.0, 4 / 255, 150528),
    "the plane (1.5, 1, 2)": (1.5, 1.0, 2),
}
"""Exact settings the panel's preset menu sets (the paper's CIFAR-10 and ImageNet radii)."""

STATIC_NOTE = "Static page: the controls are disabled. Run this notebook (JupyterLab, a hub or Colab) to use the panel."
"""The line shown above the panel's disabled controls in the static book."""


def panel_summary(eps1: float, eps_inf: float, p: float, d: int) -> str:
    """HTML with the closed-form radii next to the numerical check, or the reason there is none.

    Parameters
    ----------
    eps1, eps_inf : float
    p : float
    d : int

    Returns
    -------
    str
        An HTML fragment: a table (union and hull radius, closed form and numerical,
        relative gap, PASS/FAIL), or the ``ValueError`` message for invalid settings.
        At d = 150528 the LPs take about 20 s.
    """
    try:
        report = verify_radius(eps1, eps_inf, p, d, n_starts=1)
    except ValueError as err:
        return f"<p style='color:#b00'><b>No such setting:</b> {err}</p>"
    return report._repr_html_()


def _picture_png(eps1: float, eps_inf: float, p: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plane import plot_union_and_hull

    fig = plot_union_and_hull(eps1, eps_inf, p, panels=("union", "hull ball"))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def geometry_panel(eps1: float = 1.5, eps_inf: float = 1.0, p: float = 2.0, d: int = 2):
    """Build the interactive panel.

    Parameters
    ----------
    eps1, eps_inf, p, d :
        Initial values (``p`` from ``P_CHOICES``, ``d`` from ``D_CHOICES``). The radii are
        exact number inputs (eps1 in [0.1, 1000], eps_inf in [0.001, 10]); the preset menu
        sets the paper's exact radii (:data:`PRESETS`).

    Returns
    -------
    ipywidgets.VBox
        Preset menu, radius inputs and p/d sliders, the 2D picture (only when
        ``eps_inf < eps1 < 2 eps_inf``; hidden otherwise) and the radii table for the chosen
        ``d``. Under ``LPGEOM_STATIC_BOOK=1`` every control is disabled and a first child,
        an HTML line (:data:`STATIC_NOTE`), says so.
    """
    import ipywidgets as W

    if p not in P_CHOICES:
        raise ValueError(f"p must be one of the panel's norms {', '.join(f'{v:g}' for v in P_CHOICES)}, got {p!r}")
    if d not in D_CHOICES or isinstance(d, bool):
        raise ValueError(f"d must be one of the panel's dimensions {', '.join(map(str, D_CHOICES))}, got {d!r}")
    for name, value, low, high in (("eps1", eps1, 0.1, 1000), ("eps_inf", eps_inf, 0.001, 10)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{name} must be a number in [{low:g}, {high:g}] (the panel's range), got {value!r}")
    style = {"description_width": "70px"}
    preset = W.Dropdown(options=["(your values)", *PRESETS], value="(your values)", description="preset", style=style)
    # typed, exact values: a slider's step would quantise them (a log slider gave 11.995 for 12)
    s_eps1 = W.BoundedFloatText(value=eps1, min=0.1, max=1000, step=None, description="eps1", style=style,
                                layout=W.Layout(width="230px"))
    s_inf = W.BoundedFloatText(value=eps_inf, min=0.001, max=10, step=None, description="eps_inf", style=style,
                               layout=W.Layout(width="230px"))
    s_p = W.SelectionSlider(options=[("∞" if math.isinf(v) else f"{v:g}", v) for v in P_CHOICES],
                            value=p, description="p", style=style)
    s_d = W.SelectionSlider(options=list(D_CHOICES), value=d, description="d", style=style)
    image = W.Image(format="png", layout=W.Layout(width="720px", display="none"))
    note = W.HTML()
    table = W.HTML()

    def redraw(_=None) -> None:
        e1, ei, pv, dv = s_eps1.value, s_inf.value, s_p.value, s_d.value
        table.value = panel_summary(e1, ei, pv, dv)
        if ei < e1 < 2 * ei:
            image.value = _picture_png(e1, ei, pv)
            image.layout.display = None
            note.value = "<i>Picture: the same radii in R<sup>2</sup>. Table: dimension d.</i>"
        else:  # hide the image rather than show an empty one (a broken-image icon)
            image.layout.display = "none"
            note.value = ("<i>The 2D picture needs eps_inf &lt; eps1 &lt; 2·eps_inf "
                          "(otherwise one ball contains the other in R<sup>2</sup>); the table is for d.</i>")

    def apply_preset(change) -> None:
        if change["new"] in PRESETS:
            e1, ei, dv = PRESETS[change["new"]]
            for s in (s_eps1, s_inf, s_d):  # set all three, then compute once
                s.unobserve(redraw, names="value")
            s_eps1.value, s_inf.value, s_d.value = e1, ei, dv
            for s in (s_eps1, s_inf, s_d):
                s.observe(redraw, names="value")
            redraw()

    for s in (s_eps1, s_inf, s_p, s_d):
        s.observe(redraw, names="value")
    preset.observe(apply_preset, names="value")
    redraw()
    controls = [preset, W.HBox([W.VBox([s_eps1, s_inf]), W.VBox([s_p, s_d])])]
    if os.environ.get("LPGEOM_STATIC_BOOK") == "1":  # the book build: no kernel behind the page
        for widget in (preset, s_eps1, s_inf, s_p, s_d):
            widget.disabled = True
        controls.insert(0, W.HTML(f"<p class='lpgeom-static-note'><b>{STATIC_NOTE}</b></p>"))
    panel = W.VBox([*controls, image, note, table])
    panel.add_class("lpgeom-panel")
    return panel
