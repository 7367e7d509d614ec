"""Inputs the evaluation cannot take get one clear error; a float64 model works on every method."""
import warnings

import pytest
import torch
from torch import nn

from lpgeom.data import sample_images
from lpgeom.evaluation import METHODS, evaluate_robustness
from lpgeom.threats import LpBall


class InPlace(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op = op
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))

    def forward(self, x):
        self.op(x)
        return self.net(x)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", [lambda x: x.mul_(0.5), lambda x: x.clamp_(0.1, 0.9), lambda x: torch.relu_(x.sub_(0.5))],
                         ids=["mul_", "clamp_", "sub_relu_"])
def test_a_model_that_changes_its_input_in_place_is_named(method, op):
    x, y = sample_images("cifar10")
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="modifies its input in place"):
        evaluate_robustness(InPlace(op).eval(), x[:4], y[:4], [LpBall("inf", 0.01)], method=method, n_iter=2)


@pytest.mark.parametrize("method", METHODS)
def test_a_float64_model_is_evaluated_by_every_method(method):
    x, y = sample_images("cifar10")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).double().eval()
    x = x[:6].double()
    with torch.no_grad():
        y = model(x).argmax(1)  # every point correct: every point is attacked
    balls = [LpBall("inf", 0.02), LpBall(2, 0.5), LpBall(1, 5.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate_robustness(model, x, y, balls, method=method, n_iter=5)
        single = evaluate_robustness(model.float(), x.float(), y, balls, method=method, n_iter=5)
    assert report.clean_accuracy == 1.0 and not report.flagged, report.sanity
    # the same attacks on the same model in float32 break the same points (the casts move points by a rounding)
    for name in ("Linf", "L2", "L1"):
        assert abs(report.robust_accuracy[name] - single.robust_accuracy[name]) <= 1 / 6 + 1e-9
