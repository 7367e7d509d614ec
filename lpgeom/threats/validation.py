"""Check that radii fit the data's scale (images in [0, 1])."""
from __future__ import annotations

from collections.abc import Iterable

from ..geometry import check_dimension
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
        Number of input coordinates (e.g. 3 * 32 * 32), at least 1.

    Raises
    ------
    TypeError
        ``balls`` not an iterable of LpBall objects.
    ValueError
        A radius that does not fit, or a bad ``d``.
    """
    if isinstance(balls, LpBall) or not isinstance(balls, Iterable):
        raise TypeError(f"balls must be an iterable of LpBall objects (a ThreatUnion, a list), got "
                        f"{type(balls).__name__}")
    balls = tuple(balls)
    for ball in balls:
        if not isinstance(ball, LpBall):
            raise TypeError(f"balls must hold LpBall objects, got {ball!r} ({type(ball).__name__})")
    d = check_dimension(d, minimum=1)
    for ball in balls:
        limit = ball.max_radius(d)
        if ball.eps >= limit:
            raise ValueError(f"the {ball.name} radius eps = {ball.eps:g} does not fit images in [0, 1]^{d}: at "
                             f"{limit:.4g} or more every image of the box is within reach (did you mean "
                             f"{ball.eps:g}/255?)")
