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
        ((0, 1, 2, 10), "eps1 must be a finite number > 0, got 0"),
        ((-3, 1, 2, 10), "eps1 must be a finite number > 0, got -3"),
        ((3, 0, 2, 10), "eps_inf must be a finite number > 0, got 0"),
        ((math.inf, 1, 2, 10), "eps1 must be a finite number > 0, got inf"),
        ((3, math.nan, 2, 10), "eps_inf must be a finite number > 0, got nan"),
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


# --- hostile round 2 and 3 (issue 13): huge integers, bools, meta tensors, seeds, dtypes ----------

BIG = 10**400  # a Python integer beyond the float range


@pytest.mark.parametrize("call, message", [
    (lambda: hull_radius(12, 8 / 255, 2, BIG), r"d must be at most 2\*\*63 - 1 .*an integer of 401 digits"),
    (lambda: union_radius(12, 8 / 255, 2, 2**63), r"d must be at most 2\*\*63 - 1"),
    (lambda: hull_radius(BIG, 8 / 255, 2, 3072), "eps1 must be a finite number > 0, .*beyond the float range"),
    (lambda: union_radius(12, BIG, 2, 3072), "eps_inf must be a finite number > 0"),
    (lambda: hull_radius(12, 8 / 255, BIG, 3072), r"p must be a number >= 1 or 'inf'.*beyond the float range"),
    (lambda: in_hull(np.zeros(4), 2, 1, tol=BIG), "tol must be a finite number >= 0, .*beyond the float range"),
    (lambda: verify_radius(1.5, 1, 2, 3, delta=BIG), r"delta must be a finite number in \(0, 1\)"),
])
def test_integers_beyond_the_float_range_get_one_sentence(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value) and len(str(error.value)) < 250


@pytest.mark.parametrize("call", [
    lambda d: hull_radius(1.5, 1, 2, d), lambda d: union_radius(1.5, 1, 2, d), lambda d: verify_radius(1.5, 1, 2, d),
    lambda d: __import__("lpgeom.geometry", fromlist=["x"]).hull_worst_point(1.5, 1, 2, d),
    lambda d: __import__("lpgeom.geometry", fromlist=["x"]).hull_radius_qhull(1.5, 1, 2, d),
    lambda d: __import__("lpgeom.geometry", fromlist=["x"]).check_dimension(d),
])
@pytest.mark.parametrize("flag", [True, np.bool_(True), False])
def test_a_bool_is_not_a_dimension(call, flag):
    """A bool is a value of the wrong kind (TypeError), as for every count (ARCHITECTURE: one rule per kind)."""
    with pytest.raises(TypeError, match="the dimension d must be an integer >= 2, got .*True|False"):
        call(flag)


@pytest.mark.parametrize("bad, error", [("3072", TypeError), (None, TypeError), ([2], TypeError), (2.5, ValueError),
                                        (float("nan"), ValueError), (1, ValueError)])
def test_dimension_of_the_wrong_kind_is_a_type_error_out_of_range_a_value_error(bad, error):
    from lpgeom.geometry import check_dimension

    with pytest.raises(error, match="the dimension d must be"):
        check_dimension(bad)
    assert check_dimension(3072.0) == 3072


@pytest.mark.parametrize("bad, error", [(None, TypeError), (True, TypeError), ([2], TypeError), ("two", ValueError),
                                        (0.5, ValueError), (float("nan"), ValueError)])
def test_p_of_the_wrong_kind_is_a_type_error_out_of_range_a_value_error(bad, error):
    with pytest.raises(error, match="p must be"):
        parse_p(bad)


@pytest.mark.parametrize("fn", [hull_gauge, in_hull, in_union])
def test_meta_sparse_and_masked_input_is_refused(fn):
    with pytest.raises(ValueError, match="x is a meta tensor, which holds no values"):
        fn(torch.zeros(2, 3, device="meta"), 1.5, 1)
    with pytest.raises(TypeError, match="x must be a dense tensor, got layout torch.sparse_coo"):
        fn(torch.zeros(2, 3).to_sparse(), 1.5, 1)
    with pytest.raises(TypeError, match="x is a masked array"):
        fn(np.ma.masked_array([[5.0, 0, 0]], mask=[[1, 0, 0]]), 1.5, 1)
    with pytest.raises(TypeError, match="got dtype timedelta64"):
        fn(np.array([[1, 2, 3]], dtype="timedelta64[s]"), 1.5, 1)
    with pytest.raises(TypeError, match=r"got an entry '0.5' \(str\)"):
        fn(np.array([[1, "0.5", 0]], dtype=object), 1.5, 1)


def test_gauge_lp_refuses_what_the_knapsack_refuses():
    from lpgeom.geometry import hull_gauge_lp

    with pytest.raises(ValueError, match="meta tensor"):
        hull_gauge_lp(torch.zeros(3, device="meta"), 1.5, 1)
    with pytest.raises(TypeError, match="complex"):
        hull_gauge_lp(np.array([1j, 0, 0]), 1.5, 1)  # was: the imaginary part silently dropped
    with pytest.raises(TypeError, match="dtype <U1"):
        hull_gauge_lp(["1", "0", "0"], 1.5, 1)  # was: strings parsed as numbers


def test_python_integers_beyond_int64_are_computed():
    big = 2**70
    assert in_hull([[big, 0, 0]], 1.5 * big, big).tolist() == [True]
    assert in_union(np.array([[big, 0, 0]], dtype=object), 1.5 * big, big).tolist() == [True]
    assert hull_gauge([[big, big, 0]], 1.5 * big, big)[0] == pytest.approx(1.0, rel=1e-15)  # B + 0.5 B = eps1


def test_entries_near_the_float_limit_do_not_overflow():
    from lpgeom.geometry import hull_gauge_lp

    x = np.full((1, 3), 1.5e308)
    # k = 1, alpha = 0.7: gauge = (1.5e308 + 0.7 * 1.5e308) / 1.7e308 = 1.5 (the plain sum overflows)
    assert hull_gauge(x, 1.7e308, 1e308)[0] == pytest.approx(1.5, rel=1e-14)
    assert hull_gauge(torch.from_numpy(x), 1.7e308, 1e308)[0].item() == pytest.approx(1.5, rel=1e-14)
    assert hull_gauge_lp(x[0], 1.7e308, 1e308).value == pytest.approx(1.5, rel=1e-9)
    assert in_union(x, 1.7e308, 1.6e308).tolist() == [True]  # l_inf 1.5e308 <= 1.6e308; l_1 overflows
    tiny = np.array([5e-324, 0, 0])  # the smallest subnormal: scaled exactly, no underflow to 0
    assert hull_gauge(tiny, 3e-323, 2e-323) > 0


def test_verify_seeds_and_starts_are_checked():
    from lpgeom.geometry import hull_radius_numeric

    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        verify_radius(1.5, 1, 2, 3, seed=-1)
    with pytest.raises(TypeError, match=r"seed must be an integer >= 0, got 'a' \(str\)"):
        verify_radius(1.5, 1, 2, 3, seed="a")
    with pytest.raises(TypeError, match=r"seed must be an integer >= 0, got True \(bool\)"):
        verify_radius(1.5, 1, 2, 3, seed=True)
    with pytest.raises(ValueError, match="n_starts must be an integer >= 1, got 0"):
        hull_radius_numeric(1.5, 1, 2, 3, n_starts=0)  # was: (inf, None)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        hull_radius_numeric(1.5, 1, 2, 3, seed=-1)
    assert verify_radius(1.5, 1, 2, 3, n_starts=np.int64(2), seed=np.int64(3), delta=np.float32(1e-3)).passed


def test_worst_point_beyond_memory_is_refused_before_allocating():
    import time

    from lpgeom.geometry import hull_worst_point

    started = time.perf_counter()
    with pytest.raises(ValueError, match="too large for an explicit point"):
        hull_worst_point(12, 8 / 255, 2, 10**12)  # was: a raw MemoryError for 7.3 TiB
    assert time.perf_counter() - started < 1.0


# --- tolerance by dtype: the docstrings say what the behaviour does -------------------------------

TOLERANCES = {np.float64: 1e-9, np.float32: 1e-5, np.float16: 2e-3, torch.bfloat16: 1e-2, np.int64: 1e-9}


@pytest.mark.parametrize("dtype, tol", TOLERANCES.items(), ids=lambda v: str(v))
def test_default_tolerance_is_what_the_docstrings_say(dtype, tol):
    import lpgeom.geometry.membership as membership

    written = f"{tol:.0e}".replace("e-0", "e-")  # 1e-9, 2e-3, as the docstrings write them
    assert written in membership.__doc__
    for fn in (in_hull, in_union):
        assert written in fn.__doc__
    assert "1e-4 beyond it as outside" not in membership.__doc__  # the old promise float16 cannot keep
    eps1, eps_inf, d = 60.0, 8.0, 16  # k = 7, alpha = 0.5

    def as_dtype(x):
        return torch.from_numpy(x).to(dtype) if isinstance(dtype, torch.dtype) else x.astype(dtype)

    exact = np.array([8.0] * 8 + [0.0] * 8)  # 7 * 8 + 0.5 * 8 = 60: gauge exactly 1 in every dtype
    assert bool(in_hull(as_dtype(exact), eps1, eps_inf, tol=0)) and bool(in_hull(as_dtype(exact), eps1, eps_inf))
    if tol > 1e-9:  # a float dtype: a boundary point rounded to it still counts as inside by default
        v = np.random.default_rng(0).uniform(0.5, 9.0, d)
        assert bool(in_hull(as_dtype(v / float(hull_gauge(v, eps1, eps_inf))), eps1, eps_inf))
    coarse = np.zeros(d)
    coarse[0] = eps1 * (1 + 1.5 * tol) if tol > 1e-9 else eps1 + 1
    rounded = as_dtype(coarse)
    assert float(hull_gauge(rounded, eps1, eps_inf)) - 1 > tol  # beyond the tolerance, also after rounding
    assert not bool(in_hull(rounded, eps1, eps_inf)) and not bool(in_union(rounded, eps1, eps_inf))


def test_explicit_tolerance_judges_the_exact_values_of_float16_input():
    x = np.full((1, 100), 700, dtype=np.float16)  # 700 is exact in float16; l_inf 700 > 699 by 0.14%
    assert in_union(x, 6e4, 699).tolist() == [True]  # within float16's default 2e-3, as documented
    assert in_union(x, 6e4, 699, tol=0).tolist() == [False]
    assert in_union(x, 6e4, 699, tol=1e-4).tolist() == [False]
    assert in_hull(torch.from_numpy(x), 6e4, 699, tol=0).tolist() == [False]


def test_ratio_within_rounding_below_d_gives_the_l1_gauge():
    """eps1/eps_inf within 1e-12 below d is counted as d; was: gauge 0 (numpy), a raw RuntimeError (torch)."""
    eps1, far = 3 * (1 - 1e-13), np.array([[100.0, 100.0, 100.0], [0.5, 0.5, 0.5]])
    assert hull_gauge(far, eps1, 1.0) == pytest.approx([100.0, 0.5], rel=1e-12)  # ||x||_1 / eps1
    assert hull_gauge(torch.from_numpy(far), eps1, 1.0).tolist() == pytest.approx([100.0, 0.5], rel=1e-12)
    assert in_hull(far, eps1, 1.0).tolist() == [False, True]
    assert verify_radius(eps1, 1.0, 2, 3).passed


def test_check_integer_takes_an_explicit_upper_bound_beyond_int64():
    """An explicit ``high`` is the bound (torch's seeds reach 2**64 - 1); only ``high=None`` means int64's range."""
    from lpgeom.geometry import check_integer

    assert check_integer(2**64 - 1, "seed", 0, 2**64 - 1) == 2**64 - 1
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 18446744073709551615\], got 18446744073709551616"):
        check_integer(2**64, "seed", 0, 2**64 - 1)
    with pytest.raises(ValueError, match="at most 2\\*\\*63 - 1"):
        check_integer(2**63, "d", 1)


@pytest.mark.parametrize("fn", RADII)
@pytest.mark.parametrize("args, name", [(("12", 1, 2, 10), "eps1"), ((12, True, 2, 10), "eps_inf"),
                                        ((12, None, 2, 10), "eps_inf")])
def test_radii_that_are_not_numbers_are_a_type_error_as_everywhere_else(fn, args, name):
    """check_radii raised ValueError for a string radius while check_real, LpBall and the attacks raise
    TypeError for the wrong kind of value (the module's own stated rule)."""
    with pytest.raises(TypeError, match=f"{name} must be a finite number > 0, got"):
        fn(*args)
