"""Adding an l_p ball is one subclass: a toy l_4 ball defined here works with APGD, PGD, MSD and the
evaluation without edits anywhere else (issue 15's done-when)."""
import pytest
import torch

from lpgeom.attacks import APGD, MSD, PGD
from lpgeom.evaluation import evaluate_robustness
from lpgeom.threats import LpBall, ThreatUnion


@pytest.fixture
def l4_ball_class(monkeypatch):
    """Registers ``L4Ball`` for this test only (the registry is restored afterwards)."""
    monkeypatch.setattr(LpBall, "_registry", dict(LpBall._registry))

    class L4Ball(LpBall, norm=4.0):
        """The l_4 ball ∩ box. Projection: radial scaling onto the ball, then the box clip (clipping
        only shrinks |delta_i|, so the point stays in the ball: feasible, not the closest point)."""

        __slots__ = ()

        def project(self, x_adv, x):
            delta = (x_adv - x).float()
            scale = (self.eps / self.norm(delta).clamp_min(1e-12)).clamp(max=1.0)
            return (x.float() + delta * scale.reshape(-1, *[1] * (x.ndim - 1))).clamp(0, 1).to(x.dtype)

    return L4Ball


def test_a_new_ball_works_with_the_attacks_and_the_evaluation(tiny, l4_ball_class):
    model, x, y = tiny
    ball = LpBall(4, 0.6)
    assert type(ball) is l4_ball_class and ball.name == "L4"
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean()
    union = ThreatUnion([ball, LpBall("inf", 2 / 255)])
    for attack, balls in [(APGD(ball, n_iter=10, random_start=True, seed=0), [ball]),
                          (APGD(ball, n_iter=5, loss="dlr-targeted"), [ball]), (PGD(ball, n_iter=10), [ball]),
                          (MSD(union, n_iter=5), list(union))]:
        result = attack(model, x, y)
        assert torch.stack([b.contains(result.x_adv, x) for b in balls]).any(0).all()
        assert (~result.fooled).float().mean() <= clean
    strong = APGD(ball.with_eps(3.0), n_iter=20)(model, x, y)
    assert strong.fooled.float().mean() > 0.5, "the generic l_p ascent attacks: a large l_4 ball fools most points"
    with pytest.warns(UserWarning):  # 20 iterations: the evaluation warns they are fine for monitoring only
        report = evaluate_robustness(model, x, y, [ball], method="apgd")
    assert 0 <= report.robust_accuracy["L4"] <= report.clean_accuracy
    assert report.per_point["L4"].shape == (len(x),)
