import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

from lpgeom.geometry import hull_gauge, hull_radius, in_hull, in_union, union_radius

from strategies import geometry_settings


def _random_lp_sphere(rng, n, d, p, radius):
    """n random points with ||x||_p = radius (random directions, rescaled)."""
    x = rng.standard_normal((n, d)) * rng.exponential(1.0, (n, d))
    norms = np.abs(x).max(axis=1) if math.isinf(p) else (np.abs(x) ** p).sum(axis=1) ** (1 / p)
    return radius * x / norms[:, None]


def _qhull_membership(points, eps1, eps_inf, d):
    cube = eps_inf * np.array(np.meshgrid(*[[-1.0, 1.0]] * d)).reshape(d, -1).T
    cross = eps1 * np.vstack([np.eye(d), -np.eye(d)])
    hull = ConvexHull(np.vstack([cube, cross]))
    return np.all(points @ hull.equations[:, :-1].T + hull.equations[:, -1] <= 1e-9, axis=1)


@given(geometry_settings(), st.integers(0, 2**31 - 1))
@hsettings(max_examples=50, deadline=None)
def test_union_is_inside_hull(setting, seed):
    eps1, eps_inf, _, d = setting
    rng = np.random.default_rng(seed)
    pts = np.vstack([
        _random_lp_sphere(rng, 50, d, 1, eps1) * rng.uniform(0, 1, (50, 1)),
        _random_lp_sphere(rng, 50, d, math.inf, eps_inf) * rng.uniform(0, 1, (50, 1)),
    ])
    assert in_union(pts, eps1, eps_inf).all()
    assert in_hull(pts, eps1, eps_inf).all()


@given(geometry_settings(max_d=40), st.integers(0, 2**31 - 1))
@hsettings(max_examples=50, deadline=None)
def test_inscribed_balls_are_inside(setting, seed):
    eps1, eps_inf, p, d = setting
    rng = np.random.default_rng(seed)
    hull_pts = _random_lp_sphere(rng, 200, d, p, hull_radius(eps1, eps_inf, p, d))
    union_pts = _random_lp_sphere(rng, 200, d, p, union_radius(eps1, eps_inf, p, d))
    assert in_hull(hull_pts, eps1, eps_inf).all()
    assert in_union(union_pts, eps1, eps_inf).all()


@given(geometry_settings(max_d=4), st.integers(0, 2**31 - 1))
@hsettings(max_examples=50, deadline=None)
def test_membership_agrees_with_brute_force_in_2d_3d_4d(setting, seed):
    eps1, eps_inf, _, d = setting
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1.2, 1.2, (400, d)) * max(eps1, eps_inf)
    gauge = hull_gauge(pts, eps1, eps_inf)
    clear = np.abs(gauge - 1) > 1e-6  # leave out points within rounding of the boundary
    assert np.array_equal(in_hull(pts, eps1, eps_inf)[clear], _qhull_membership(pts, eps1, eps_inf, d)[clear])
    brute_union = (np.abs(pts).sum(1) <= eps1) | (np.abs(pts).max(1) <= eps_inf)
    assert np.array_equal(in_union(pts, eps1, eps_inf), brute_union)


@given(geometry_settings(max_d=30), st.integers(0, 2**31 - 1), st.floats(0.01, 100))
@hsettings(max_examples=50, deadline=None)
def test_gauge_is_positively_homogeneous_and_symmetric(setting, seed, scale):
    eps1, eps_inf, _, d = setting
    x = np.random.default_rng(seed).standard_normal((5, d))
    g = hull_gauge(x, eps1, eps_inf)
    np.testing.assert_allclose(hull_gauge(scale * x, eps1, eps_inf), scale * g, rtol=1e-10)
    np.testing.assert_allclose(hull_gauge(-x, eps1, eps_inf), g, rtol=1e-12)


@given(geometry_settings(max_d=30))
@hsettings(max_examples=50, deadline=None)
def test_gauge_is_one_on_extreme_points(setting):
    eps1, eps_inf, _, d = setting
    vertex_l1 = np.zeros(d)
    vertex_l1[d // 2] = -eps1
    vertex_cube = eps_inf * np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
    np.testing.assert_allclose(hull_gauge(np.stack([vertex_l1, vertex_cube]), eps1, eps_inf), [1.0, 1.0], rtol=1e-12)


def test_gauge_triangle_inequality_random():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 100, 50))
    g = lambda z: hull_gauge(z, 7.5, 0.4)  # noqa: E731
    assert np.all(g(x + y) <= g(x) + g(y) + 1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_and_numpy_agree(dtype):
    x = torch.randn(8, 3072, dtype=dtype)
    gt = hull_gauge(x, 12, 8 / 255)
    gn = hull_gauge(x.double().numpy(), 12, 8 / 255)
    assert isinstance(gt, torch.Tensor) and gt.dtype == torch.float64 and gt.shape == (8,)  # computed in float64
    np.testing.assert_allclose(gt.double().numpy(), gn, rtol=1e-5 if dtype == torch.float32 else 1e-12)
    assert torch.equal(in_hull(x, 12, 8 / 255), torch.from_numpy(np.asarray(in_hull(x.double().numpy(), 12, 8 / 255))))
    assert in_union(x, 12, 8 / 255).dtype == torch.bool


def test_single_point_returns_scalar():
    g = hull_gauge(np.array([1.0, 0.0, 0.0]), 2, 1)
    assert np.ndim(g) == 0 and float(g) == pytest.approx(0.5)
    assert bool(in_union(np.array([0.9, 0.9, 0.0]), 2, 1))
    assert not bool(in_union(np.array([1.1, 1.1, 0.0]), 2, 1))


def test_imagenet_size_batch_is_exact():
    x = torch.rand(32, 150528) * 0.02
    g = hull_gauge(x, 255, 4 / 255)
    k = int(255 // (4 / 255))
    alpha = 255 / (4 / 255) - k
    top = torch.sort(x.double().abs(), dim=1, descending=True).values
    expected = (top[:, :k].sum(1) + alpha * top[:, k]) / 255
    torch.testing.assert_close(g, expected)
