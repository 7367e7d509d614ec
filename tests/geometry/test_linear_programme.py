"""The LP route to Theorem 3.1 and the convex programme for Proposition 3.1, against the closed forms."""
import math

import numpy as np
import pytest

from lpgeom.geometry import hull_gauge, hull_radius, union_radius
from lpgeom.geometry.linear_programme import hull_gauge_lp, lp_norm, norming_point, search_hull_radius
from lpgeom.geometry.verification import hull_worst_point, union_radius_bracket

CIFAR = (12, 8 / 255, 3072)
IMAGENET = (255, 4 / 255, 150528)


@pytest.mark.parametrize("eps1, eps_inf, d", [CIFAR, (2.5, 1, 5), (7.3, 0.4, 40)])
def test_lp_gauge_equals_the_knapsack_formula(eps1, eps_inf, d):
    rng = np.random.default_rng(1)
    for x in (rng.standard_normal(d), rng.laplace(size=d) * 3, np.abs(rng.standard_normal(d)) ** 4):
        solved = hull_gauge_lp(x, eps1, eps_inf)
        assert solved.value == pytest.approx(float(hull_gauge(x, eps1, eps_inf)), rel=1e-9)
        u = solved.subgradient  # in the polar, and it attains the gauge
        assert np.abs(u).max() <= (1 + 1e-9) / eps1 and np.abs(u).sum() <= (1 + 1e-9) / eps_inf
        assert float(u @ x) == pytest.approx(solved.value, rel=1e-9)


@pytest.mark.parametrize("p", [1, 1.2, 2, 3.5, math.inf])
def test_lp_search_finds_theorem_3_1_at_cifar10_size(p):
    found = search_hull_radius(*CIFAR[:2], p, CIFAR[2], n_starts=1)
    assert found.radius == pytest.approx(hull_radius(*CIFAR[:2], p, CIFAR[2]), rel=1e-9)
    assert found.random_radius > found.radius  # random points alone are far from the worst direction
    assert lp_norm(found.boundary_point, p) == pytest.approx(found.radius, rel=1e-12)


@pytest.mark.parametrize("p", [1, 2, 4, math.inf])
def test_worst_point_lies_on_the_boundary_by_lp(p):
    x = hull_worst_point(*CIFAR[:2], p, CIFAR[2])
    assert lp_norm(x, p) == pytest.approx(hull_radius(*CIFAR[:2], p, CIFAR[2]), rel=1e-12)
    assert hull_gauge_lp(x, *CIFAR[:2]).value == pytest.approx(1.0, abs=1e-9)
    assert hull_gauge_lp(1.001 * x, *CIFAR[:2]).value == pytest.approx(1.001, abs=1e-9)


@pytest.mark.slow
def test_lp_at_imagenet_size():
    eps1, eps_inf, d = IMAGENET
    x = hull_worst_point(eps1, eps_inf, 2, d)
    assert hull_gauge_lp(x, eps1, eps_inf).value == pytest.approx(1.0, abs=1e-9)
    found = search_hull_radius(eps1, eps_inf, 2, d, n_starts=1, max_steps=2)
    assert found.radius == pytest.approx(hull_radius(eps1, eps_inf, 2, d), rel=1e-9)


@pytest.mark.parametrize("eps1, eps_inf, d", [CIFAR, IMAGENET, (2.5, 1, 3), (1.01, 1, 2)])
@pytest.mark.parametrize("p", [1, 1.0001, 1.5, 2, 7, 60, math.inf])
def test_union_bracket_contains_proposition_3_1(eps1, eps_inf, d, p):
    lower, upper, x = union_radius_bracket(eps1, eps_inf, p, d)
    closed = union_radius(eps1, eps_inf, p, d)
    assert lower <= upper * (1 + 1e-15)
    assert lower * (1 - 1e-9) <= closed <= upper * (1 + 1e-9)
    assert (upper - lower) <= 1e-9 * closed
    assert x.min() >= 0 and x.max() >= eps_inf * (1 - 1e-12) and x.sum() >= eps1 * (1 - 1e-12)  # outside the open union


def test_norming_point_attains_hoelder():
    u = np.random.default_rng(0).standard_normal(50)
    for p in (1, 1.5, 2, 6, math.inf):
        y = norming_point(u, p)
        q = math.inf if p == 1 else (1 if math.isinf(p) else p / (p - 1))
        assert lp_norm(y, p) == pytest.approx(1.0, rel=1e-12)
        assert float(u @ y) == pytest.approx(lp_norm(u, q), rel=1e-12)


def test_gauge_lp_validates():
    with pytest.raises(ValueError, match="NaN or infinite"):
        hull_gauge_lp(np.array([1.0, np.nan, 0.0]), 2, 1)
    with pytest.raises(ValueError, match=r"one point of shape \(d,\)"):
        hull_gauge_lp(np.ones((2, 3)), 2, 1)
    with pytest.raises(ValueError, match="contained in"):
        hull_gauge_lp(np.ones(3), 5, 1)
