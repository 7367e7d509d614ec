import math

import numpy as np
import pytest

from lpgeom.geometry import hull_gauge, hull_radius, in_hull, in_union, union_radius, verify_radius
from lpgeom.geometry._validation import parse_p

RADII = [union_radius, hull_radius, verify_radius]


@pytest.mark.parametrize("fn", RADII)
@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 1, 2, 10), "eps1 must be positive"),
        ((-3, 1, 2, 10), "eps1 must be positive"),
        ((3, 0, 2, 10), "eps_inf must be positive"),
        ((math.inf, 1, 2, 10), "eps1 must be finite"),
        ((3, math.nan, 2, 10), "eps_inf must be finite"),
        ((3, 1, 0.5, 10), "p must be >= 1"),
        ((3, 1, math.nan, 10), "NaN"),
        ((3, 1, "two", 10), "p must be a number"),
        ((3, 1, 2, 1), "d must be >= 2"),
        ((3, 1, 2, 2.5), "integer"),
        ((1, 1, 2, 10), "B_1\\(eps1\\) is contained in B_inf"),
        ((0.5, 1, 2, 10), "B_1\\(eps1\\) is contained in B_inf"),
        ((10, 1, 2, 10), "B_inf\\(eps_inf\\) is contained in B_1"),
        ((50, 1, 2, 10), "B_inf\\(eps_inf\\) is contained in B_1"),
    ],
)
def test_bad_input_is_named(fn, args, message):
    with pytest.raises(ValueError, match=message):
        fn(*args)


@pytest.mark.parametrize("fn", [hull_gauge, in_hull, in_union])
def test_membership_validates(fn):
    with pytest.raises(ValueError, match="contained in"):
        fn(np.ones((2, 4)), 20, 1)  # 20 >= d*eps_inf = 4
    with pytest.raises(ValueError, match="NaN or infinite"):
        fn(np.array([[1.0, np.nan, 0, 0]]), 2, 1)
    with pytest.raises(ValueError, match="shape"):
        fn(np.ones((2, 2, 2)), 2, 1)
    with pytest.raises(ValueError, match="d must be >= 2"):
        fn(np.ones((3, 1)), 2, 1)


@pytest.mark.parametrize("text, value", [("inf", math.inf), ("Linf", math.inf), ("L2", 2.0), ("1.5", 1.5), (3, 3.0)])
def test_parse_p_accepts_common_spellings(text, value):
    assert parse_p(text) == value


def test_verify_radius_rejects_bad_delta():
    with pytest.raises(ValueError, match="delta"):
        verify_radius(12, 8 / 255, 2, 3072, delta=2)
