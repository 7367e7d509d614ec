import math
import pickle

import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from lpgeom.threats import (SMOOTH_APGD, SPARSE_APGD, L1Ball, L2Ball, LinfBall, LpBall, ThreatUnion, check_radii_fit,
                            cifar10_threats, imagenet_threats, mng_ac_threats, project_l1_box)


@pytest.mark.parametrize("p, cls", [(1, L1Ball), ("L1", L1Ball), (2, L2Ball), ("inf", LinfBall), (math.inf, LinfBall)])
def test_dispatch_to_subclass(p, cls):
    ball = LpBall(p, 0.5)
    assert type(ball) is cls and ball.eps == 0.5


def test_general_p_measures_but_does_not_project():
    ball = LpBall(3.5, 1.0)
    assert type(ball) is LpBall and ball.name == "L3.5"
    x = torch.zeros(2, 4)
    torch.testing.assert_close(ball.norm(torch.ones(2, 4)), torch.full((2,), 4 ** (1 / 3.5)))
    with pytest.raises(NotImplementedError, match="L3.5"):
        ball.project(x, x)
    with pytest.raises(NotImplementedError, match="L3.5"):
        ball.random_start(x)
    with pytest.raises(ValueError, match="AutoAttack"):
        ball.autoattack_norm  # noqa: B018


@pytest.mark.parametrize("args, message", [((0.5, 1), "p must be >= 1"), ((2, 0), "eps must be a finite number > 0"),
                                           ((2, -1), "eps must be a finite number > 0"), ((2, math.nan), "eps must be a finite number > 0"),
                                           ((2, None), "needs a radius"), (("two", 1), "p must be a number")])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        LpBall(*args)


def test_immutable_hashable_picklable():
    ball = LpBall(1, 12)
    with pytest.raises(AttributeError, match="immutable"):
        ball.eps = 3
    assert {ball, LpBall(1, 12.0)} == {ball}
    assert pickle.loads(pickle.dumps(ball)) == ball
    assert ball.with_eps(6) == L1Ball(6) and repr(ball) == "L1Ball(eps=12)"


@given(st.sampled_from([1, 2, math.inf]), st.floats(0.01, 20), st.integers(1, 6), st.integers(0, 1000))
@hsettings(max_examples=40, deadline=None)
def test_random_start_and_steepest_ascent(p, eps, batch, seed):
    ball = LpBall(p, eps if p != math.inf else eps / 40)
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, 6, 6, generator=gen)
    z = ball.random_start(x, generator=gen)
    assert ball.contains(z, x).all()
    g = torch.randn(batch, 3, 6, 6, generator=gen)
    step = ball.steepest_ascent(g)
    torch.testing.assert_close(ball.norm(step), torch.ones(batch), atol=1e-5, rtol=0)
    assert ((step * g).flatten(1).sum(1) > 0).all()


def test_l1_steepest_ascent_keeps_top_k():
    g = torch.tensor([[0.1, -3.0, 2.0, 0.5, -0.2, 0.0, 1.0, 0.3, -0.4, 0.6]])
    step = L1Ball(1.0).steepest_ascent(g, sparsity=0.2)  # k = 2
    torch.testing.assert_close(step, torch.tensor([[0, -0.5, 0.5, 0, 0, 0, 0, 0, 0, 0]]))


def test_presets_and_union():
    c = cifar10_threats()
    assert c.names == ("Linf", "L2", "L1") and len(c) == 3
    assert c["L1"].eps == 12 and c["inf"].eps == pytest.approx(8 / 255) and c[1] == L2Ball(0.5)
    assert "L2" in c and "L3" not in c
    assert imagenet_threats()["L1"].eps == 255 and mng_ac_threats()["L2"].eps == pytest.approx(80 / 255)
    with pytest.raises(KeyError, match="has Linf, L2, L1"):
        c["L3"]
    with pytest.raises(ValueError, match="one ball per norm"):
        ThreatUnion([L1Ball(1), L1Ball(2)])
    with pytest.raises(ValueError, match="at least one"):
        ThreatUnion([])


@pytest.mark.parametrize("p", [1.5, 3.0, 7.0])
def test_general_steepest_ascent_is_the_dual_norm_maximiser(p):
    """<g, v> = ||g||_q at ||v||_p = 1 (Hoelder's bound is attained), and no random unit vector does better."""
    ball = LpBall(p, 1.0)
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(4, 30, generator=gen)
    v = ball.steepest_ascent(g, x=torch.rand(4, 30), sparsity=0.3)  # one signature; x, sparsity ignored here
    q = p / (p - 1)
    torch.testing.assert_close(ball.norm(v), torch.ones(4))
    torch.testing.assert_close((v * g).sum(1), torch.linalg.vector_norm(g, ord=q, dim=1), rtol=1e-5, atol=1e-5)
    others = torch.randn(200, 30, generator=gen)
    others = others / ball.norm(others)[:, None]
    assert ((others @ g.T) <= (v * g).sum(1) + 1e-5).all()


def test_random_starts_follow_autoattack_rules():
    x = torch.full((3, 1, 10, 10), 0.5)
    gen = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    linf = LinfBall(0.1).random_start(x, gen())
    torch.testing.assert_close((linf - x).flatten(1).abs().amax(1), torch.full((3,), 0.1))  # on the sphere
    t = 2 * torch.rand(x.shape, generator=gen()) - 1
    torch.testing.assert_close(linf, x + 0.1 * t / t.flatten(1).abs().amax(1).reshape(-1, 1, 1, 1))
    l2 = L2Ball(1.0).random_start(x, gen())
    torch.testing.assert_close(L2Ball(1.0).norm(l2 - x), torch.ones(3))
    l1 = L1Ball(3.0).random_start(x, gen())
    torch.testing.assert_close(l1, project_l1_box(x + torch.randn(x.shape, generator=gen()), x, 3.0))
    torch.testing.assert_close(L1Ball(3.0).norm(l1 - x), torch.full((3,), 3.0))  # Gaussian is far outside: surface
    near_edge = torch.zeros(2, 50)  # l_inf and l_2 starts are clipped to the box
    for ball in (LinfBall(0.3), L2Ball(2.0), L1Ball(5.0)):
        assert ball.contains(ball.random_start(near_edge, gen()), near_edge).all()


def test_l1_steepest_ascent_box_aware_with_x_and_per_example_sparsity():
    g = torch.tensor([[5.0, -4.0, 3.0, 1.0], [5.0, -4.0, 3.0, 1.0]])
    x = torch.tensor([[1.0, 0.5, 0.5, 0.5], [0.5, 0.0, 0.5, 0.5]])  # the box forbids coordinate 0, resp. 1
    step = L1Ball(1.0).steepest_ascent(g, x=x, sparsity=torch.tensor([0.5, 0.25]))
    torch.testing.assert_close(step, torch.tensor([[0.0, -0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    torch.testing.assert_close(L1Ball(1.0).steepest_ascent(g, sparsity=0.5)[0], torch.tensor([0.5, -0.5, 0.0, 0.0]))


def test_per_norm_rules_live_on_the_ball():
    linf, l2, l1 = LinfBall(0.1), L2Ball(1.0), L1Ball(12.0)
    assert (linf.pgd_step_size(10), l2.pgd_step_size(10), l1.pgd_step_size(10)) == (0.025, 1 / 3, 3.0)
    assert linf.apgd is SMOOTH_APGD and l2.apgd is SMOOTH_APGD and l1.apgd is SPARSE_APGD
    assert (SPARSE_APGD.step_factor, SPARSE_APGD.momentum, SPARSE_APGD.first_check) == (1.0, 0.0, 0.04)
    assert (SMOOTH_APGD.step_factor, SMOOTH_APGD.new_step_weight, SMOOTH_APGD.first_check) == (2.0, 0.75, 0.22)
    assert SPARSE_APGD.new_step_weight == 1.0 and SPARSE_APGD.adaptive_sparsity and SMOOTH_APGD.shrinking_checks and not SPARSE_APGD.shrinking_checks
    assert [b.autoattack_norm for b in (linf, l2, l1)] == ["Linf", "L2", "L1"]
    assert [b.autoattack_target_classes for b in (linf, l2, l1)] == [9, 9, 5]
    assert (linf.max_radius(784), l2.max_radius(784), l1.max_radius(784), LpBall(4, 1).max_radius(16)) == (1.0, 28.0, 784.0, 2.0)


@pytest.mark.parametrize("ball, message", [(LinfBall(8.0), "Linf radius eps = 8"), (L2Ball(28.0), "L2 radius"),
                                           (L1Ball(784.0), "L1 radius"), (LpBall(3, 10.0), "L3 radius")])
def test_check_radii_fit_reads_the_ball(ball, message):
    with pytest.raises(ValueError, match=message):
        check_radii_fit([ball], 784)
    check_radii_fit([ball.with_eps(0.99 * ball.max_radius(784))], 784)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_contains_judges_half_precision_points_by_their_exact_difference(dtype):
    """x_adv - x rounded in float16 read a point exactly on the l_1 sphere as outside (11.988 for 11.986).

    Coordinates moved from near 0 to 1: their differences need more digits than float16 has.
    """
    x = torch.full((1, 16), 0.00115966796875, dtype=dtype)
    x_adv = torch.ones(1, 16, dtype=dtype)
    x_adv[0, 12:] = x[0, 12:]
    exact = float((x_adv.double() - x.double()).abs().sum())
    assert L1Ball(exact).contains(x_adv, x, atol=0.0).item()
    assert not L1Ball(exact * (1 - 1e-6)).contains(x_adv, x, atol=0.0).item()
    assert L1Ball(exact).norm(x_adv - x).dtype == torch.float32  # norm itself measures the difference it is given


def test_a_union_of_something_else_than_balls_is_a_type_error():
    """As for a union given a single ball or a number, and as check_radii_fit says (it was a ValueError)."""
    with pytest.raises(TypeError, match=r"ThreatUnion takes LpBall objects, got 0.5 \(float\)"):
        ThreatUnion([LinfBall(0.1), 0.5])
