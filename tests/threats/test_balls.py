import math
import pickle

import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from lpgeom.threats import L1Ball, L2Ball, LinfBall, LpBall, ThreatUnion, cifar10_threats, imagenet_threats, mng_ac_threats


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
    with pytest.raises(ValueError, match="AutoAttack"):
        ball.autoattack_norm  # noqa: B018


@pytest.mark.parametrize("args, message", [((0.5, 1), "p must be >= 1"), ((2, 0), "eps must be positive"),
                                           ((2, -1), "eps must be positive"), ((2, math.nan), "eps must be positive"),
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
