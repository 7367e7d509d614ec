import math

import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from torch import nn

from lpgeom.attacks import APGD, MSD, PGD, SLIDE, checkpoint_schedule
from lpgeom.attacks.losses import cross_entropy, dlr, margin, targeted_dlr
from lpgeom.threats import LpBall, ThreatUnion

EPS = {1.0: 3.0, 2.0: 0.3, math.inf: 2 / 255}


@given(st.sampled_from([1.0, 2.0, math.inf]), st.integers(1, 6), st.floats(0.2, 3.0), st.booleans(), st.integers(0, 50))
@hsettings(max_examples=25, deadline=None)
def test_apgd_points_stay_in_ball_and_box(tiny, p, batch, scale, random_start, seed):
    model, x, y = tiny
    ball = LpBall(p, EPS[p] * scale)
    r = APGD(ball, n_iter=5, random_start=random_start, seed=seed)(model, x[:batch], y[:batch])
    assert ball.contains(r.x_adv, x[:batch], atol=1e-5).all()
    assert ball.contains(r.stats["x_fooling"], x[:batch], atol=1e-5).all()
    assert r.x_adv.shape == x[:batch].shape and r.loss.shape == (batch,)


@pytest.mark.parametrize("attack", [lambda b: PGD(b, 5), lambda b: APGD(b, 5, loss="dlr")])
@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_pgd_and_dlr_stay_inside(tiny, attack, p):
    model, x, y = tiny
    ball = LpBall(p, EPS[p])
    assert ball.contains(attack(ball)(model, x, y).x_adv, x, atol=1e-5).all()


def test_slide_and_msd_stay_inside_and_msd_counts_norms(tiny):
    model, x, y = tiny
    ball = LpBall(1, 3.0)
    assert ball.contains(SLIDE(ball, 5)(model, x, y).x_adv, x, atol=1e-5).all()
    threats = ThreatUnion([LpBall("inf", 2 / 255), LpBall(2, 0.3), LpBall(1, 3.0)])
    r = MSD(threats, n_iter=4)(model, x, y)
    assert all(isinstance(c, torch.Tensor) and c.ndim == 0 for c in r.stats["chosen"].values())
    assert int(sum(r.stats["chosen"].values())) == 4 * len(x)
    inside = torch.stack([b.contains(r.x_adv, x, atol=1e-5) for b in threats])  # (3, B)
    assert inside.any(0).all(), "every MSD point lies in at least one ball of the union"
    holder = r.stats["ball"]
    assert ((holder >= -1) & (holder < 3)).all()
    at_start = holder == -1
    assert torch.equal(r.x_adv[at_start], x[at_start])
    moved = ~at_start
    assert inside[holder[moved], moved.nonzero().squeeze(1)].all(), "stats['ball'] names a ball holding x_adv"


@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_best_loss_never_worse_than_start_and_robust_flags(tiny, p):
    model, x, y = tiny
    with torch.no_grad():
        start = cross_entropy(model(x), y)
        correct = model(x).argmax(1) == y
    r = APGD(LpBall(p, EPS[p]), n_iter=8)(model, x, y)
    assert (r.loss >= start - 1e-6).all()
    with torch.no_grad():
        torch.testing.assert_close(cross_entropy(model(r.x_adv), y), r.loss, atol=1e-4, rtol=1e-4)
        fooled_at_point = model(r.stats["x_fooling"]).argmax(1) != y
    assert torch.equal(fooled_at_point, r.fooled)
    assert not (r.robust_all_iterates & ~correct).any()  # misclassified at the start: never robust at every iterate
    assert torch.equal(r.robust_all_iterates, ~r.fooled)


def test_reproducible_with_a_seed_and_mode_restored(tiny):
    model, x, y = tiny
    model.train()
    a = APGD(LpBall(2, 0.3), n_iter=5, random_start=True, seed=3)(model, x, y)
    assert model.training, "the model's train mode must be restored"
    model.eval()
    b = APGD(LpBall(2, 0.3), n_iter=5, random_start=True, seed=3)(model, x, y)
    assert torch.equal(a.x_adv, b.x_adv)


def test_robust_accuracy_decreases_with_eps_and_is_below_clean(tiny):
    model, x, y = tiny
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
    for p, grid in [(math.inf, [0.5 / 255, 4 / 255, 32 / 255]), (2, [0.05, 0.5, 4.0]), (1, [0.5, 60.0, 200.0])]:
        accs = [APGD(LpBall(p, e), n_iter=10)(model, x, y).robust_accuracy for e in grid]
        assert accs[0] <= clean and all(a >= b for a, b in zip(accs, accs[1:])), (p, accs)
        assert accs[-1] < clean


def test_apgd_at_least_as_strong_as_pgd_on_average(tiny):
    model, x, y = tiny
    diffs = [APGD(LpBall(p, EPS[p]), 10)(model, x, y).robust_accuracy - PGD(LpBall(p, EPS[p]), 10)(model, x, y).robust_accuracy
             for p in (1.0, 2.0, math.inf)]
    assert sum(diffs) <= 0.05


def test_targeted_dlr_runs_over_top_classes(tiny):
    model, x, y = tiny
    r = APGD(LpBall("inf", 2 / 255), n_iter=5, loss="dlr-targeted", n_target_classes=3)(model, x, y)
    assert r.x_adv.shape == x.shape


def test_checkpoint_schedule_matches_the_reference_description():
    assert checkpoint_schedule(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoint_schedule(10) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert checkpoint_schedule(100, shrinking=False) == [22, 44, 66, 88]
    l1 = LpBall(1, 1.0).apgd  # APGD-l_1: every max(int(0.04 n), 1) iterations, not shrinking
    assert checkpoint_schedule(100, l1.first_check, l1.shrinking_checks) == list(range(4, 101, 4))
    assert checkpoint_schedule(10, l1.first_check, l1.shrinking_checks) == list(range(1, 11))


def test_losses():
    z = torch.tensor([[3.0, 1.0, 0.0, -1.0], [0.0, 2.0, 1.0, 0.5]])
    y = torch.tensor([0, 0])
    assert margin(z, y).tolist() == [2.0, -2.0]
    assert (dlr(z, y)[0] < 0) and (dlr(z, y)[1] > 0)
    assert targeted_dlr(z, y, torch.tensor([1, 1])).shape == (2,)


@pytest.mark.parametrize("make, message", [
    (lambda: APGD(LpBall(3, 1.0)), "L3 ball has none"),
    (lambda: APGD(LpBall(2, 1.0), loss="hinge"), "unknown loss"), (lambda: APGD(LpBall(2, 1.0), n_iter=0), r"integer in \[1, "),
    (lambda: PGD(LpBall(2, 1.0), loss="dlr-targeted"), "untargeted"), (lambda: PGD(LpBall(2, 1.0), step_size=-1), "step_size"),
    (lambda: SLIDE(LpBall(2, 1.0)), "L1Ball"), (lambda: SLIDE(LpBall(1, 1.0), percentile=100), "percentile"),
    (lambda: MSD(ThreatUnion([LpBall(3, 1.0)])), "L3 ball has none"),
    (lambda: MSD(ThreatUnion([LpBall(2, 1.0)]), l1_step="maini"), "l1_step"),
    (lambda: MSD(ThreatUnion([LpBall(2, 1.0)]), step_sizes={"L1": 1.0}), "not in the union"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: APGD("Linf", 10), r"APGD needs an LpBall threat model, got 'Linf' \(str\)"),
    (lambda: PGD(0.1), r"PGD needs an LpBall threat model, got 0.1 \(float\)"),
    (lambda: MSD([LpBall(2, 1.0)]), r"MSD needs a ThreatUnion of balls, got \[L2Ball\(eps=1\)\] \(list\)"),
])
def test_a_threat_model_of_the_wrong_kind_is_a_type_error(make, message):
    """A string or a list where a ball or a union belongs is the wrong kind of value: TypeError, as the settings'
    checks and ThreatUnion say (it was a ValueError)."""
    with pytest.raises(TypeError, match=message):
        make()


def _percentile_slide_direction(grad, x_cur, percentile=99.0):
    """SLIDE's step as lpgeom computed it before the rules moved onto the ball (torch.quantile threshold)."""
    g = grad.clone()
    g[((g > 0) & (x_cur >= 1)) | ((g < 0) & (x_cur <= 0))] = 0
    flat = g.flatten(1)
    thresh = torch.quantile(flat.abs().float(), percentile / 100.0, dim=1, keepdim=True)
    keep = (flat.abs() >= thresh) & (flat != 0)
    return (flat.sign() * keep / keep.sum(1, keepdim=True).clamp_min(1)).reshape(grad.shape)


@pytest.mark.parametrize("shape", [(6, 1, 28, 28), (6, 3, 32, 32)])
def test_slide_step_is_unchanged_on_the_study_shapes(shape):
    """SLIDE = the l_1 ball's box-aware sparse ascent at sparsity 0.01: the same coordinates as the 99th-percentile
    rule on Fashion-MNIST and CIFAR-10 shapes, so recorded MAX/AVG/SAT training does not move."""
    gen = torch.Generator().manual_seed(0)
    grad = torch.randn(shape, generator=gen)
    x_cur = torch.rand(shape, generator=gen).round_() * (torch.rand(shape, generator=gen) < 0.3)  # many pixels at 0 or 1
    x_cur = torch.where(x_cur == 0, torch.rand(shape, generator=gen) * (torch.rand(shape, generator=gen) < 0.5), x_cur)
    slide = SLIDE(LpBall(1, 1.0))
    assert torch.equal(slide.direction(grad, x_cur), _percentile_slide_direction(grad, x_cur))


def test_x_fooling_is_x_adv_where_no_run_fooled(tiny):
    """AttackResult's contract: ``stats["x_fooling"]`` is ``x_adv`` where not fooled. Over several runs
    (restarts) it was the first run's best point while ``x_adv`` came from a later run."""
    model, x, y = tiny
    result = APGD(LpBall(2, 0.2), n_iter=5, n_restarts=3, random_start=True, seed=1)(model, x, y)
    kept = ~result.fooled
    assert kept.any()
    assert torch.equal(result.stats["x_fooling"][kept], result.x_adv[kept])
