"""Check that radii fit the data's scale (images in [0, 1])."""
from __future__ import annotations

import math
from collections.abc import Iterable

from .balls import LpBall

__all__ = ["check_radii_fit"]


def check_radii_fit(balls: Iterable[LpBall], d: int) -> None:
    """Raise ``ValueError`` if a radius cannot make sense for inputs in [0, 1]^d.

    l_inf >= 1, l_2 >= sqrt(d) or l_1 >= d would let the adversary reach every image of the
    box: usually a radius on the 0-255 scale (8 instead of 8/255).
    """
    for ball in balls:
        if math.isinf(ball.p) and ball.eps >= 1:
            raise ValueError(f"eps_inf = {ball.eps:g} does not fit images in [0, 1] (did you mean {ball.eps:g}/255?)")
        if ball.p == 2 and ball.eps >= math.sqrt(d):
            raise ValueError(f"eps_2 = {ball.eps:g} is at least the diameter sqrt(d) = {math.sqrt(d):.3g} of the image box")
        if ball.p == 1 and ball.eps >= d:
            raise ValueError(f"eps_1 = {ball.eps:g} is at least d = {d}: every image in the box is within reach")
