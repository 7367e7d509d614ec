"""Hostile arguments to the balls, the projections and the union: one clear sentence each, never a silent answer."""
import math

import numpy as np
import pytest
import torch
from sync_counter import SyncCounter

from lpgeom.threats import (L1Ball, L2Ball, LinfBall, LpBall, ThreatUnion, check_radii_fit, project_l1_box,
                            project_l2_box, project_linf_box)

BALLS = [LinfBall(8 / 255), L2Ball(0.5), L1Ball(12.0)]
PROJECTIONS = [project_l1_box, project_l2_box, project_linf_box]
BIG = 10**400


def _pair(b=2, d=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(b, d, generator=gen)
    return x + 0.3 * torch.randn(b, d, generator=gen), x


def _one_line(error):
    assert "\n" not in str(error.value) and len(str(error.value)) < 250
    return str(error.value)


# --- projections -------------------------------------------------------------------------------

@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("eps", [-1.0, math.nan, math.inf, -math.inf, BIG])
def test_projection_refuses_a_bad_number_radius(project, eps):
    """Was: a point returned for eps = -1, NaN, inf (the l_1 and l_2 ones left v unprojected); OverflowError for 10**400."""
    v, x = _pair()
    with pytest.raises(ValueError, match="eps must be a finite number >= 0") as error:
        project(v, x, eps)
    _one_line(error)


@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
def test_projection_with_radius_zero_returns_the_centre(project):
    v, x = _pair()
    torch.testing.assert_close(project(v, x, 0.0), x, atol=0, rtol=0)
    torch.testing.assert_close(project(v, x, torch.zeros(2)), x, atol=0, rtol=0)


@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case, error, message", [
    ("eps str", TypeError, "eps must be a number or a tensor, got str"),
    ("eps bool", TypeError, "eps must be a number or a tensor, got bool"),
    ("eps bool tensor", TypeError, "eps must be a number or a real tensor"),
    ("eps (3,)", ValueError, r"eps must be a number or a tensor of shape \(\) or \(2,\), got shape \(3,\)"),
    ("x other shape", ValueError, r"x must have the same shape as v, \(2, 3\), got \(2, 4\)"),
    ("x broadcast", ValueError, r"x must have the same shape as v, \(2, 3\), got \(1, 3\)"),
    ("int tensors", TypeError, "v must be a floating-point tensor, got dtype torch.int64"),
    ("bool tensors", TypeError, "v must be a floating-point tensor, got dtype torch.bool"),
    ("complex tensors", TypeError, "v must be a floating-point tensor, got dtype torch.complex64"),
    ("lists", TypeError, r"v must be a tensor of shape \(B, ...\), got list"),
    ("numpy", TypeError, r"v must be a tensor of shape \(B, ...\), got ndarray"),
    ("0-d", ValueError, "v must have a batch dimension"),
    ("no coordinates", ValueError, r"v must have at least one coordinate per example, got shape \(2, 0\)"),
])
def test_projection_bad_arguments_are_named(project, case, error, message):
    v, x = _pair()
    args = {
        "eps str": (v, x, "0.5"), "eps bool": (v, x, True), "eps bool tensor": (v, x, torch.ones(2, dtype=torch.bool)),
        "eps (3,)": (v, x, torch.ones(3)), "x other shape": (v, torch.rand(2, 4), 0.5),
        "x broadcast": (v, x[:1], 0.5), "int tensors": (v.long(), x.long(), 0.5),
        "bool tensors": (v > 0.5, x > 0.5, 0.5), "complex tensors": (v.to(torch.complex64), x.to(torch.complex64), 0.5),
        "lists": (v.tolist(), x.tolist(), 0.5), "numpy": (v.numpy(), x.numpy(), 0.5),
        "0-d": (v[0, 0], x[0, 0], 0.5), "no coordinates": (v[:, :0], x[:, :0], 0.5),
    }[case]
    with pytest.raises(error, match=message) as raised:
        project(*args)
    _one_line(raised)


@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
def test_projection_of_an_empty_batch_is_empty(project):
    """Was: a raw RuntimeError from reshape(0, -1) for the l_1 and l_2 projections."""
    out = project(torch.zeros(0, 3, 4, 4), torch.zeros(0, 3, 4, 4), 0.5)
    assert out.shape == (0, 3, 4, 4)


# --- balls ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_ball_methods_name_bad_tensors(ball):
    x = torch.rand(2, 3)
    for method, args, name in [(ball.norm, (), "delta"), (ball.steepest_ascent, (), "grad"),
                               (ball.random_start, (), "x")]:
        with pytest.raises(ValueError, match=f"{name} must have a batch dimension"):
            method(torch.tensor(0.5), *args)  # was: IndexError (norm, l_1 and l_2 rules, random starts)
        with pytest.raises(TypeError, match=f"{name} must be a floating-point tensor, got dtype torch.complex64"):
            method(x.to(torch.complex64), *args)  # was: the imaginary part silently dropped
        with pytest.raises(TypeError, match=f"{name} must be a floating-point tensor, got dtype torch.int64"):
            method((x * 10).long(), *args)  # was: random starts returned integer zeros
        with pytest.raises(TypeError, match=rf"{name} must be a tensor of shape \(B, ...\), got ndarray"):
            method(x.numpy(), *args)
    with pytest.raises(ValueError, match=r"x must have the same shape as grad, \(2, 3\), got \(2, 4\)"):
        ball.steepest_ascent(x, torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"x_adv must have the same shape as x, \(2, 4\), got \(2, 3\)"):
        ball.contains(x, torch.rand(2, 4))  # was: a raw RuntimeError
    for atol in (math.nan, -1.0):
        with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
            ball.contains(x, x, atol=atol)  # was: every point silently 'outside'
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int"):
        ball.random_start(x, generator=3)  # was: torch's multi-line message


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_ball_methods_take_an_empty_batch(ball):
    empty = torch.zeros(0, 3, 4, 4)
    assert ball.norm(empty).shape == (0,)
    assert ball.steepest_ascent(empty, empty).shape == empty.shape
    assert ball.random_start(empty).shape == empty.shape
    assert ball.project(empty, empty).shape == empty.shape
    assert ball.contains(empty, empty).shape == (0,)


@pytest.mark.parametrize("scale", [3e38, 1e-45, 1e-30, 1.0])
def test_l2_ascent_is_a_unit_vector_at_any_gradient_scale(scale):
    """Was: zeros for 3e38 entries (the norm overflowed) and a vector of norm 1.4e-33 for 1e-45 entries."""
    grad = torch.tensor([[scale, scale, 0.0], [scale, 0.0, 0.0]])
    direction = L2Ball(0.5).steepest_ascent(grad)
    torch.testing.assert_close(direction.norm(dim=1), torch.ones(2))
    assert L2Ball(0.5).steepest_ascent(torch.zeros(2, 3)).abs().sum() == 0  # no direction from a zero gradient


def test_norm_keeps_float64():
    """Was: every norm in float32, so a float64 delta of 1e-300 had norm 0."""
    delta = torch.tensor([[1e-300, 0.0]], dtype=torch.float64)
    for ball in (L1Ball(1.0), LinfBall(1.0)):
        assert ball.norm(delta).dtype == torch.float64 and ball.norm(delta).item() == 1e-300
    assert L2Ball(1.0).norm(torch.rand(2, 3)).dtype == torch.float32


@pytest.mark.parametrize("sparsity, error, message", [
    (0, ValueError, r"sparsity must be a finite number in \(0, 1\], got 0"),
    (-1, ValueError, "got -1"), (2, ValueError, "got 2"), (math.nan, ValueError, "got nan"),
    (True, TypeError, r"got True \(bool\)"), ("a", TypeError, r"got 'a' \(str\)"),
    (torch.ones(3), ValueError, r"shape \(\) or \(2,\), got shape \(3,\)"),
    (torch.ones(2, dtype=torch.long), TypeError, "floating-point tensor, got dtype torch.int64"),
])
def test_l1_sparsity_is_checked(sparsity, error, message):
    """Was: 0, -1, 2 and True silently accepted (one or every coordinate), NaN a raw index error."""
    with pytest.raises(error, match=message):
        L1Ball(12.0).steepest_ascent(torch.randn(2, 10), sparsity=sparsity)


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
@pytest.mark.parametrize("d, error", [(True, TypeError), (0, ValueError), (-3, ValueError), (2.5, ValueError),
                                      ("3072", TypeError), (None, TypeError), (math.nan, ValueError),
                                      (BIG, ValueError)])
def test_max_radius_needs_a_dimension(ball, d, error):
    """Was: 1.0 for True, 0.0 for 0, a complex number for -3, nan for NaN, an OverflowError for 10**400."""
    with pytest.raises(error, match="the dimension d must be"):
        ball.max_radius(d)
    assert ball.max_radius(3072) == {"Linf": 1.0, "L2": 3072 ** 0.5, "L1": 3072.0}[ball.name]


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
@pytest.mark.parametrize("n_iter, error", [(0, ValueError), (-1, ValueError), (True, TypeError), (2.5, TypeError),
                                           ("10", TypeError), (None, TypeError), (BIG, ValueError)])
def test_pgd_step_size_needs_a_count(ball, n_iter, error):
    """Was: ZeroDivisionError for 0, negative steps for -1, True taken as 1, OverflowError for 10**400."""
    with pytest.raises(error, match=r"n_iter must be an integer in \[1, 1000000000\]"):
        ball.pgd_step_size(n_iter)


@pytest.mark.parametrize("eps, error, message", [
    (np.bool_(True), TypeError, r"got True \(bool\)"),
    (BIG, ValueError, "beyond the float range"),
    (torch.tensor([0.5, 0.6]), TypeError, r"\(Tensor\)"),
    ("0.5", TypeError, r"got '0.5' \(str\)"),
])
def test_ball_radius_is_one_number(eps, error, message):
    """np.True_ was a ball of radius 1, 10**400 an OverflowError."""
    with pytest.raises(error, match="eps must be a finite number > 0, .*" + message):
        LpBall(2, eps)
    assert LpBall(2, torch.tensor(0.5)).eps == 0.5 and LpBall(2, np.float32(0.5)).eps == 0.5


def test_a_fixed_norm_ball_without_radius_says_how_to_build_it():
    with pytest.raises(ValueError, match=r"L1Ball needs a radius: L1Ball\(eps\)"):
        L1Ball()  # was: TypeError about LpBall.__new__'s missing argument 'p'


# --- union and radii checks ---------------------------------------------------------------------

def test_union_keys():
    union = ThreatUnion(BALLS)
    assert union["l1"] is BALLS[2] and union["inf"] is BALLS[0] and union[1] is BALLS[1]
    for key in (True, False, None, 1.0, BALLS[0], [1]):
        with pytest.raises(TypeError, match="a ThreatUnion is indexed by a ball name"):
            union[key]  # was: union[True] the l_2 ball; AttributeError for None, floats, balls, lists
    with pytest.raises(IndexError, match="position 5 is out of range for a union of 3 balls"):
        union[5]
    with pytest.raises(KeyError, match="no 'x' ball in this union; it has Linf, L2, L1"):
        union["x"]  # was: ValueError from parsing 'x' as a norm
    assert "L2" in union and BALLS[2] in union and "L3" not in union
    for key in (5, 1, True, None, 1.0, "x", "", [1]):
        assert key not in union  # was: True for 1 and True, IndexError for 5, errors for the others


@pytest.mark.parametrize("balls", [None, L2Ball(0.5), 3])
def test_union_of_a_non_iterable_is_refused(balls):
    with pytest.raises(TypeError, match=r"ThreatUnion takes an iterable of LpBall objects, .*ThreatUnion\(\[ball\]\)"):
        ThreatUnion(balls)


def test_check_radii_fit_checks_its_arguments():
    with pytest.raises(TypeError, match=r"balls must hold LpBall objects, got 0.5 \(float\)"):
        check_radii_fit([0.5], 10)  # was: AttributeError
    with pytest.raises(TypeError, match="balls must be an iterable of LpBall objects"):
        check_radii_fit(L2Ball(0.5), 10)
    with pytest.raises(TypeError, match=r"the dimension d must be an integer >= 1, got True \(a bool\)"):
        check_radii_fit([L2Ball(0.5)], True)  # was: silently accepted as d = 1
    check_radii_fit(ThreatUnion(BALLS), 3072)


# --- the checks read no tensor values: no host synchronisation per attack step -----------------------

@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_checks_do_not_synchronise(ball):
    x = torch.rand(4, 3, 8, 8)
    grad = torch.randn_like(x)
    with SyncCounter(forbid=True):
        ball.project(x + 0.1 * grad, x)
        ball.steepest_ascent(grad, x, torch.full((4,), 0.1))
        ball.contains(x, x)
        ball.norm(grad)
    with SyncCounter(forbid=True):
        project_l1_box(x + grad, x, torch.full((4,), 2.0))
        project_linf_box(x + grad, x, torch.full((4,), 0.1))


# --- values the checks cannot read (they would synchronise): undefined rows come back NaN ----------

@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
def test_undefined_rows_come_back_nan_not_outside_the_ball(project):
    """Was: l_1 returned the unprojected point for a NaN radius (||z - x||_1 = 23.6 for eps 1), and x = 1.5 gave
    outputs up to 1.5 (outside the box)."""
    v, x = _pair(b=4, d=64, seed=3)
    v = x + torch.randn_like(x)
    radii = torch.tensor([1.0, math.nan, -1.0, 1.0])
    x_bad = x.clone()
    x_bad[3, 5] = 1.5  # one centre outside the box
    z = project(v, x_bad, radii)
    assert torch.isnan(z[1:]).all(dim=1).tolist() == [True, True, True]
    assert not torch.isnan(z[0]).any()
    torch.testing.assert_close(z[0], project(v[:1], x[:1], 1.0)[0], atol=0, rtol=0)
    assert torch.isnan(project(v, torch.full_like(x, -0.5), 1.0)).all()
    assert torch.isnan(project(torch.full_like(v, math.nan), x, 1.0)).all()  # NaN in, NaN out


def test_undefined_rows_keep_the_layout():
    x = torch.rand(2, 3, 4, 4).contiguous(memory_format=torch.channels_last)
    for project in PROJECTIONS:
        z = project(x + 0.1, x, torch.tensor([0.5, math.nan]))
        assert z.is_contiguous(memory_format=torch.channels_last) and torch.isnan(z[1]).all()


def test_a_string_p_beyond_the_float_range_is_refused():
    with pytest.raises(ValueError, match=r"p must be a number >= 1 or 'inf', got '1e400', beyond the float range"):
        LpBall("1e400", 0.1)  # was: silently the l_inf ball
    assert LpBall("+inf", 0.1).name == "Linf" and LpBall("Infinity", 0.1).name == "Linf"


# --- float32 results lie in the ball exactly (measured in float64), not up to rounding ----------------

@pytest.mark.parametrize("eps", [1e-7, 1e-3, 0.3, 8 / 255])
@pytest.mark.parametrize("ball_type", [LinfBall, L2Ball], ids=["Linf", "L2"])
def test_float32_projections_and_starts_stay_inside_exactly(ball_type, eps):
    """Was: l_2 eps 1e-3 exceeded by 2e-4 relative and eps 1e-7 by 27% (x + step rounded away from x), l_inf eps 0.3
    by 4e-8 relative (float32(0.3) > 0.3), l_inf random starts at eps 1e-7 by 19%; then l_inf x +- eps rounded to
    nearest passed the radius by up to half an ulp of x (eps 1e-7: 19% again), now moved back in float32."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(16, 784, generator=gen)
    x[:4] = (x[:4] > 0.5).float()
    v = x + torch.randn(16, 784, generator=gen)
    ball = ball_type(eps)
    for z in (ball.project(v, x), ball.random_start(x, torch.Generator().manual_seed(1))):
        assert z.dtype == torch.float32
        distance = torch.linalg.vector_norm(z.double() - x.double(), ord=ball.p, dim=1)
        assert (distance <= eps).all(), float((distance.max() - eps) / eps)
        assert z.min() >= 0 and z.max() <= 1


@pytest.mark.parametrize("change, error, message", [
    ({"step_factor": -1.0}, ValueError, "step_factor must be a finite number > 0, got -1"),  # was: steps backwards
    ({"momentum": 2.0}, ValueError, r"momentum must be a finite number in \[0, 1\], got 2"),
    ({"first_check": 0.0}, ValueError, r"first_check must be a finite number in \(0, 1\], got 0"),  # was: never checks
    ({"sparsity_train": 0.0}, ValueError, r"sparsity_train must be a finite number in \(0, 1\]"),
    ({"sparsity_eval": float("nan")}, ValueError, "sparsity_eval must be a finite number"),
    ({"shrinking_checks": "yes"}, TypeError, "shrinking_checks must be True or False, got 'yes'"),
])
def test_apgd_rules_check_their_settings(change, error, message):
    import dataclasses

    from lpgeom.threats import SMOOTH_APGD

    with pytest.raises(error, match=message):
        dataclasses.replace(SMOOTH_APGD, **change)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_l1_projection_stays_inside_exactly(dtype):
    """Was: bfloat16 points up to ||z - x||_1 = 1.0037 for eps = 1 (rounding to bfloat16 after the float32 solve)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 16, 16, generator=gen).to(dtype)
    v = (x.float() + torch.randn(8, 3, 16, 16, generator=gen)).to(dtype)
    z = project_l1_box(v, x, 1.0)
    assert z.dtype == dtype
    assert ((z.double() - x.double()).flatten(1).abs().sum(1) <= 1.0).all()
