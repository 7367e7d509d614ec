import math

import numpy as np
import pytest
import torch

from lpgeom.geometry import hull_gauge, hull_radius, in_hull, in_union, union_radius, verify_radius
from lpgeom.geometry import parse_p

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


# --- dtypes: computed in float64 whatever comes in (issue 13) ---------------------------------

@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8])
def test_integer_input_is_exact(dtype):
    info = np.iinfo(dtype)
    extreme = int(info.min) if info.min < 0 else int(info.max)  # abs(-128) overflows in int8 itself
    x = np.array([[extreme, extreme, 0, 0, 0], [extreme, 0, 0, 0, 0]], dtype=dtype)
    m = abs(extreme)
    # eps_inf = m/2, eps1 = 1.5 m: row 0 (l_1 = 2m, l_inf = m) is outside, row 1 (l_1 = m) inside
    assert in_union(x, 1.5 * m, m / 2).tolist() == [False, True]
    assert hull_gauge(x, 1.5 * m, m / 2).tolist() == pytest.approx([2 / 1.5, 1 / 1.5])


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16])
def test_integer_tensors_are_exact(dtype):
    x = torch.tensor([[-128, 0, 0, 0, 0], [-100, -100, 0, 0, 0]], dtype=dtype)
    # row 0: l_1 = 128 <= 150 -> inside; row 1: l_1 = 200 > 150 and l_inf = 100 > 64 -> outside
    assert in_union(x, 150, 64).tolist() == [True, False]
    assert hull_gauge(x, 150, 64).tolist() == pytest.approx([128 / 150, 200 / 150])


def test_float16_sums_do_not_overflow():
    x = np.array([30000, 30000, 30000, 0, 0], dtype=np.float16)  # l_1 = 90000 > float16 max 65504
    assert not bool(in_union(x, 80000, 20000))
    assert float(hull_gauge(x, 80000, 20000)) == pytest.approx(90000 / 80000)
    t = torch.tensor([30000.0, 30000, 30000, 0, 0], dtype=torch.float16)
    assert not bool(in_union(t, 80000, 20000))
    assert float(hull_gauge(t, 80000, 20000)) == pytest.approx(90000 / 80000)
    assert hull_gauge(t, 80000, 20000).dtype == torch.float64


@pytest.mark.parametrize("fn", [hull_gauge, in_hull, in_union])
def test_complex_and_non_numeric_input_is_refused(fn):
    with pytest.raises(TypeError, match="real"):
        fn(np.array([1 + 1j, 0, 0, 0]), 2, 1)
    with pytest.raises(TypeError, match="real"):
        fn(torch.tensor([1 + 1j, 0, 0, 0]), 2, 1)
    with pytest.raises(TypeError, match="real numbers"):
        fn(np.array(["a", "b", "c"]), 2, 1)


@pytest.mark.parametrize("fn", [in_hull, in_union])
@pytest.mark.parametrize("tol", [math.nan, -1e-3, math.inf])
def test_bad_tolerance_is_refused(fn, tol):
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        fn(np.zeros(4), 2, 1, tol=tol)


def test_verify_radius_refuses_huge_dimension_at_once():
    import time

    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"d=1000000000 is too large .*hull_radius and union_radius"):
        verify_radius(12, 8 / 255, 2, 10**9)
    assert time.perf_counter() - started < 1.0  # refused before allocating anything


def test_qhull_near_degenerate_radii_gives_no_raw_qhull_error():
    from lpgeom.geometry import hull_radius_qhull

    eps1, eps_inf, d = 1.6130161135458918, 1.6130161135458592, 8  # raised QhullError QH6347 before
    report = verify_radius(eps1, eps_inf, 3.0, d)
    assert report.passed, str(report)
    try:
        value = hull_radius_qhull(eps1, eps_inf, 3.0, d)
    except ValueError as error:
        assert "qhull cannot build the hull" in str(error)
    else:
        assert value == pytest.approx(hull_radius(eps1, eps_inf, 3.0, d), rel=1e-7)
