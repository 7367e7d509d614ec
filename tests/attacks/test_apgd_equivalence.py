"""lpgeom's APGD follows AutoAttack's reference step by step (pyautoattack's ``APGDAttack``).

At equal seeds on the CPU both draw the same random start, so the trajectories can be
compared directly: l_inf up to one float32 ulp (its losses bit for bit), l_1 up to the last bits of the two exact projections,
l_2 up to lpgeom's exact l_2 ∩ box projection (AutoAttack rescales and clips).
A larger comparison on 1000 points of models that mask gradients is
``benchmarks/bench_apgd_equivalence.py``.
"""
import pytest
import torch

from lpgeom.attacks import APGD
from lpgeom.threats import LpBall

autopgd = pytest.importorskip("pyautoattack.autopgd_base")


def reference_run(model, x, y, ball, n_iter, seed, random_start):
    ref = autopgd.APGDAttack(model, n_iter=n_iter, norm=ball.autoattack_norm, eps=ball.eps, seed=seed, loss="ce",
                             device="cpu")
    ref.init_hyperparam(x)
    torch.manual_seed(seed)
    x_best, robust, loss_best, _ = ref.attack_single_run(x, y, x_init=None if random_start else x.clone())
    return x_best, robust, loss_best


@pytest.mark.parametrize("random_start", [False, True])
@pytest.mark.parametrize("seed", [0, 3])
def test_linf_trajectory_is_the_reference(tiny, random_start, seed):
    """From x: the same losses and verdicts bit for bit, iterates within one float32 ulp (lpgeom rounds the
    radius down to float32 so that eps's own rounding never enlarges the ball); from a random start up to
    one float32 ulp of the start (eps * t / max|t|)."""
    model, x, y = tiny
    ball = LpBall("inf", 3 / 255)
    x_best, robust, loss_best = reference_run(model, x, y, ball, 20, seed, random_start)
    ours = APGD(ball, n_iter=20, random_start=random_start, seed=seed)(model, x, y)
    if random_start:
        torch.testing.assert_close(ours.x_adv, x_best, atol=1e-7, rtol=0)
        torch.testing.assert_close(ours.loss, loss_best, atol=1e-6, rtol=0)
    else:
        torch.testing.assert_close(ours.x_adv, x_best, atol=6e-8, rtol=0)
        assert torch.equal(ours.loss, loss_best)
    assert torch.equal(~ours.fooled, robust)


@pytest.mark.parametrize("seed", [0, 1])
def test_l1_trajectory_follows_the_reference(tiny, seed, monkeypatch):
    """Same start, steps, sparsity adaptation and checkpoints. AutoAttack's support count also sees the ~1e-8
    rounding residues its l_1 iterates carry; lpgeom counts the true support (documented in lpgeom.attacks.apgd),
    so the reference here counts coordinates above 1e-6."""
    model, x, y = tiny
    ball = LpBall(1, 3.0)
    monkeypatch.setattr(autopgd, "L0_norm", lambda t: (t.abs() > 1e-6).view(t.shape[0], -1).sum(-1))
    x_best, robust, loss_best = reference_run(model, x, y, ball, 12, seed, True)
    ours = APGD(ball, n_iter=12, random_start=True, seed=seed)(model, x, y)
    same = (ours.x_adv - x_best).flatten(1).abs().amax(1) < 1e-4  # the two exact projections differ by ~1e-5
    assert same.float().mean() >= 0.9, f"only {int(same.sum())}/{len(x)} trajectories match the reference"
    torch.testing.assert_close(ours.loss, loss_best, atol=1e-4, rtol=1e-4)
    assert torch.equal(~ours.fooled, robust)


def test_l2_trajectory_is_close_to_the_reference(tiny):
    model, x, y = tiny
    ball = LpBall(2, 0.3)
    x_best, robust, loss_best = reference_run(model, x, y, ball, 20, 0, True)
    ours = APGD(ball, n_iter=20, random_start=True, seed=0)(model, x, y)
    torch.testing.assert_close(ours.loss, loss_best, atol=1e-3, rtol=1e-3)
    assert (ours.x_adv - x_best).abs().max() < 1e-3
