"""Every evaluation method runs the gradient-masking sanity checks, and a flagged model's robust accuracy is never
shown without the flag (report, JSON, table, row, HTML)."""
import warnings

import pytest
import torch
from torch import nn

from lpgeom.data import sample_images
from lpgeom.evaluation import FLAG, METHODS, RobustnessReport, SanityVerdict, evaluate_robustness
from lpgeom.threats import LpBall


@pytest.fixture(scope="module")
def linear():
    """An affine classifier fitted to the 20 real CIFAR-10 sample images (a few seconds)."""
    x, y = sample_images("cifar10")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x[:10], y[:10]


class Quantised(nn.Module):
    """The audit's case: input quantisation, a non-differentiable step in the forward (zero gradient everywhere)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(torch.round(x * 8) / 8)


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class ReversedGradient(nn.Module):
    """Obfuscated gradients the zero-gradient check cannot see: non-zero, but pointing the wrong way."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(_Reverse.apply(x))


class Softmax(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x).softmax(1)


class Noisy(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x) + 0.5 * torch.randn(len(x), 10)


def evaluate(model, x, y, method, eps=0.25, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_robustness(model.eval(), x, y, [LpBall("inf", eps)], method=method, n_iter=10, **kw)


def failed(report):
    return {name for name, check in report.sanity["checks"].items() if check["passed"] is False}


@pytest.mark.parametrize("method", METHODS)
def test_input_quantisation_is_flagged_by_every_method(linear, method):
    model, x, y = linear
    report = evaluate(Quantised(model), x, y, method)
    assert report.flagged and {"zero_gradients", "cross_check"} <= failed(report)
    assert report.row()["model"].endswith(FLAG)
    assert report.robust_accuracy["Linf"] < 0.5  # what Square broke counts (the gradient attacks alone: ~100%)
    plain = evaluate(model, x, y, method)
    assert not plain.flagged, plain.sanity
    assert plain.sanity["checks"]["zero_gradients"]["passed"] is True


@pytest.mark.parametrize("method", ["autoattack", "autoattack-standard"])
def test_pyautoattacks_zero_gradient_warning_is_kept(linear, method):
    model, x, y = linear
    report = evaluate(Quantised(model), x, y, method)
    assert any("zero gradient" in w and w.startswith("pyautoattack") for w in report.warnings), report.warnings
    assert "pyautoattack" in failed(report)
    assert "zero gradient" in report.sanity["checks"]["pyautoattack"]["detail"]


def test_the_gradient_free_cross_check_finds_what_the_gradients_hide(linear):
    model, x, y = linear
    report = evaluate(ReversedGradient(model), x, y, "apgd", eps=0.25)  # lpgeom's APGD starts at x: it only descends
    assert report.sanity["checks"]["zero_gradients"]["passed"] is True  # the gradient is there, just useless
    assert "cross_check" in failed(report) and report.flagged
    # the points Square broke count: the reported accuracy is not the gradient attacks' 100%
    assert report.robust_accuracy["Linf"] < 1.0


def test_softmax_outputs_and_randomness_are_flagged(linear):
    model, x, y = linear
    assert "probabilities" in failed(evaluate(Softmax(model), x, y, "apgd", eps=0.01))
    torch.manual_seed(0)
    assert "randomness" in failed(evaluate(Noisy(model), x, y, "apgd", eps=0.01))


def test_a_norm_without_a_gradient_free_attack_says_so(linear):
    from lpgeom.evaluation import square_points
    from lpgeom.evaluation.robustness import _cross_check

    model, x, y = linear
    ball = LpBall(3, 0.05)
    assert square_points(model, x, y, ball) is None
    verdict = SanityVerdict()
    _cross_check("apgd", model, x, y, ball, torch.ones(len(x), dtype=torch.bool), len(x), {}, 0, 10, "cpu", verdict)
    check = verdict.checks["cross_check"]
    assert check["passed"] is None and "no gradient-free cross-check" in check["detail"] and not verdict.flagged


@pytest.mark.parametrize("norm", [2, 1])  # its l_inf version takes any size (checked below)
def test_images_too_small_for_square_are_evaluated_and_say_why_not_cross_checked(norm):
    """pyautoattack's Square divides by zero below 5x5 pixels (the hostile round's E01): no crash, a stated skip."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))
    x = torch.rand(8, 1, 4, 4)
    y = model(x).argmax(1)  # every point correct; a tiny radius leaves some robust for the cross-check
    report = evaluate_robustness(model, x, y, [LpBall(norm, 1e-4)], method="apgd", n_iter=5)
    check = report.sanity["checks"]["cross_check"]
    assert check["passed"] is None and "5x5" in check["detail"], check
    with pytest.raises(ValueError, match="at least 5x5"):
        evaluate_robustness(model, x, y, [LpBall(norm, 0.05)], method="autoattack-standard", n_iter=5)
    linf = evaluate_robustness(model, x, y, [LpBall("inf", 1e-4)], method="apgd", n_iter=5)
    assert linf.sanity["checks"]["cross_check"]["passed"] is not None  # Square's l_inf ran on 4x4 images


def test_the_flag_travels_into_json_table_html_and_warnings(linear, tmp_path):
    model, x, y = linear
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = evaluate_robustness(Quantised(model).eval(), x, y, [LpBall("inf", 0.25)], method="apgd", n_iter=5)
    assert any("FLAGGED" in str(w.message) for w in caught)
    back = RobustnessReport.from_json(report.to_json(tmp_path / "r.json"))
    assert back.flagged and back.sanity == report.sanity
    text = back.table()
    assert "FLAGGED" in text and FLAG in text and "linf (eps 0.25)" in text and "radii: Linf 0.25" in text
    assert "FLAGGED" in back._repr_html_()
    assert FLAG in back.to_frame().index[0]
    report.to_csv(tmp_path / "r.csv")
    assert FLAG in (tmp_path / "r.csv").read_text()


def test_an_old_report_without_checks_says_not_run(linear):
    model, x, y = linear
    report = evaluate(model, x, y, "apgd", eps=0.01)
    old = RobustnessReport(**{**report.to_dict(), "sanity": {}})
    assert not old.flagged and "not run" in old.table()


def test_verdict_merges_per_norm_outcomes():
    verdict = SanityVerdict()
    verdict.record("cross_check", True, "L2: broke 0")
    verdict.record("cross_check", False, "Linf: broke 3")
    verdict.record("cross_check", None, "L3: none")
    assert verdict.flagged and verdict.checks["cross_check"]["passed"] is False
    assert "Linf: broke 3" in verdict.summary() and "L2: broke 0" in verdict.summary()
    assert SanityVerdict.from_dict(verdict.to_dict()).checks == verdict.checks
    with pytest.raises(ValueError, match="checks"):
        SanityVerdict.from_dict({"flagged": True})


def test_robustness_curves_run_the_checks_and_count_what_square_breaks(linear):
    from lpgeom.evaluation import robustness_curve

    model, x, y = linear
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = robustness_curve(Quantised(model).eval(), x, y, LpBall("inf", 0.1), [0.05, 0.25], n_iter=5)
    assert curve.flagged and {"zero_gradients", "cross_check"} <= {
        k for k, c in curve.sanity["checks"].items() if c["passed"] is False}
    assert curve.accuracy[-1] < 0.5 and any("FLAGGED" in str(w.message) for w in caught)
    assert FLAG in curve.plot().get_legend_handles_labels()[1][0]
    plain = robustness_curve(model, x, y, LpBall("inf", 0.1), [0.01], n_iter=5)
    assert not plain.flagged and plain.sanity["checks"]["zero_gradients"]["passed"] is True
