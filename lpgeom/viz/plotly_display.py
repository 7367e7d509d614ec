"""Show plotly figures so that they render in JupyterLab AND in the offline built book.

Executed outside a browser, plotly emits only ``application/vnd.plotly.v1+json``,
which JupyterLab renders but the book builder skips. :func:`show_plotly` displays both
that JSON and an HTML ``<div>`` with a fixed id (the book loads a local plotly.js), so
outputs are stable under nbval and identical between runs.
"""
from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["show_plotly", "plotly_bundle"]

_DIV_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def plotly_bundle(fig: Any, div_id: str) -> dict[str, Any]:
    """The MIME bundle :func:`show_plotly` displays.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    div_id : str
        HTML id of the figure's div: a letter followed by letters, digits, ``-`` or ``_``;
        unique within a page.

    Returns
    -------
    dict
        ``{"application/vnd.plotly.v1+json": ..., "text/html": ...}``.
    """
    import plotly.io as pio

    if not isinstance(div_id, str) or not _DIV_ID.match(div_id):
        raise ValueError(f"div_id must start with a letter and hold only letters, digits, '-' or '_', got {div_id!r}")
    if not hasattr(fig, "to_plotly_json"):
        raise ValueError(f"expected a plotly Figure, got {type(fig).__name__}")
    spec = json.loads(pio.to_json(fig, validate=True, remove_uids=True))
    # auto_play=False: a figure with frames (slider figures) shows its first state and waits for the reader
    html = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, auto_play=False,
                       config={"displaylogo": False, "responsive": True})
    return {"application/vnd.plotly.v1+json": {**spec, "config": {"displaylogo": False}}, "text/html": html}


def show_plotly(fig: Any, div_id: str) -> None:
    """Display a plotly figure for JupyterLab and for the static book (see :func:`plotly_bundle`)."""
    from IPython.display import display

    display(plotly_bundle(fig, div_id), raw=True)
