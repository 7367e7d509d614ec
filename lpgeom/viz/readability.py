"""How large a matplotlib figure's text is as the built book displays it.

The notebooks' inline backend saves a figure at ``figure.dpi`` (100) pixels per inch; the book shows
the picture at its natural width, or scaled down to the text column when it is wider. Text of
``s`` points is then ``s / 72 * dpi * min(1, column / (width_in * dpi))`` CSS pixels high.
"""
from __future__ import annotations

__all__ = ["BOOK_COLUMN_PX", "MIN_TEXT_PX", "smallest_text_px"]

BOOK_COLUMN_PX = 720
"""Width of the built book's text column, CSS px (sphinx-book-theme in a 1300 px window, both sidebars shown)."""

MIN_TEXT_PX = 9.0
"""Smallest text the book's figures may show, CSS px as displayed."""


def smallest_text_px(fig, column_px: float = BOOK_COLUMN_PX, dpi: float = 100.0) -> tuple[float, str]:
    """The smallest visible text of ``fig`` as displayed in a column ``column_px`` wide.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    column_px : float
        Width available to the picture, CSS px.
    dpi : float
        Pixels per inch at which the picture is saved (the inline backend's ``figure.dpi``).

    Returns
    -------
    (float, str)
        The size in CSS px and the text it belongs to.

    Raises
    ------
    ValueError
        If the figure shows no text.
    """
    from matplotlib.text import Text

    fig.canvas.draw()  # ticks and legends exist once drawn
    scale = dpi / 72 * min(1.0, column_px / (fig.get_figwidth() * dpi))
    sizes = [(t.get_fontsize() * scale, t.get_text()) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and _shown(t)]
    if not sizes:
        raise ValueError("fig shows no text")
    return min(sizes)


def _shown(text) -> bool:
    """False for texts matplotlib keeps but does not draw (a hidden axis's tick labels, an empty offset)."""
    artist = text
    while artist is not None:
        if not artist.get_visible():
            return False
        artist = getattr(artist, "axes", None) if artist is text else None
    return True
