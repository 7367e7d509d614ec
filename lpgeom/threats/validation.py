"""Check that radii fit the data's scale (images in [0, 1])."""
from __future__ import annotations

from collections.abc import Iterable

from .balls import LpBall

__all__ = ["check_radii_fit"]


def check_radii_fit(balls: Iterable[LpBall], d: int) -> None:
    """Raise ``ValueError`` if a radius cannot make sense for inputs in [0, 1]^d.

    A radius at least ``ball.max_radius(d)`` (l_inf 1, l_2 sqrt(d), l_1 d) lets the
    adversary reach every image of the box: usually a radius on the 0-255 scale (8 instead
    of 8/255).

    Parameters
    ----------
    balls : iterable of LpBall
    d : int
        Number of input coordinates (e.g. 3 * 32 * 32).
    """
    for ball in balls:
        limit = ball.max_radius(d)
        if ball.eps >= limit:
            raise ValueError(f"the {ball.name} radius eps = {ball.eps:g} does not fit images in [0, 1]^{d}: at "
                             f"{limit:.4g} or more every image of the box is within reach (did you mean "
                             f"{ball.eps:g}/255?)")
