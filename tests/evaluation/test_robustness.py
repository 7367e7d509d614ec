import warnings

import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from torch import nn

from lpgeom.data import sample_images
from lpgeom.evaluation import RobustnessReport, evaluate_robustness, robustness_curve
from lpgeom.threats import LpBall, ThreatUnion


def linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))


@pytest.fixture(scope="module")
def trained_linear():
    """An affine classifier trained for a few seconds on the 20 real CIFAR-10 images (it fits them)."""
    x, y = sample_images("cifar10")
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y


SMALL = ThreatUnion([LpBall("inf", 1 / 255), LpBall(2, 0.1), LpBall(1, 1.0)])


def test_union_is_pointwise_and(trained_linear):
    model, x, y = trained_linear
    report = evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=10)
    flags = report.per_point
    expected = flags["clean"] & flags["Linf"] & flags["L2"] & flags["L1"]
    assert torch.equal(flags["union"], expected)
    assert report.union_accuracy <= min(report.robust_accuracy.values()) <= report.clean_accuracy
    assert report.clean_accuracy == 1.0


def test_autoattack_path_end_to_end(trained_linear):
    model, x, y = trained_linear
    report = evaluate_robustness(model, x[:6], y[:6], [LpBall("inf", 2 / 255), LpBall(1, 2.0)], method="autoattack", n_iter=10)
    assert report.method == "autoattack" and set(report.robust_accuracy) == {"Linf", "L1"}
    assert 0 <= report.union_accuracy <= report.clean_accuracy


def test_apgd_matches_exact_robustness_of_an_affine_model_in_linf():
    """For an affine binary-margin model the l_inf robustness is exact: margin_j > eps * ||w_y - w_j||_1 for all j."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).eval()
    x = 0.4 + 0.2 * torch.rand(64, 3, 2, 2)  # far from the box edges: the box is inactive for small eps
    with torch.no_grad():
        y = model(x).argmax(1)
    eps = 0.03
    w, b = model[1].weight, model[1].bias
    logits = model(x)
    margins = logits.gather(1, y[:, None]) - logits
    dual = (w[y][:, None, :] - w[None, :, :]).abs().sum(-1)  # ||w_y - w_j||_1, (N, K)
    exact = ((margins > eps * dual) | (torch.arange(4)[None] == y[:, None])).all(1)
    report = evaluate_robustness(model, x, y, [LpBall("inf", eps)], method="apgd", n_iter=20)
    assert torch.equal(report.per_point["Linf"], exact)


def test_curve_is_non_increasing(trained_linear):
    model, x, y = trained_linear
    curve = robustness_curve(model, x, y, LpBall(2, 1.0), [0.05, 0.5, 2.0, 5.0], n_iter=10)
    assert all(a >= b for a, b in zip(curve.accuracy, curve.accuracy[1:]))
    assert curve.accuracy[-1] < curve.accuracy[0]
    assert list(curve.to_frame().columns) == ["eps", "robust_accuracy", "norm"]


def test_report_round_trips(trained_linear, tmp_path):
    model, x, y = trained_linear
    report = evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=5, name="linear")
    path = report.to_json(tmp_path / "r.json")
    back = RobustnessReport.from_json(path)
    assert back.row() == report.row() and torch.equal(back.per_point["union"], report.per_point["union"])
    assert list(report.to_frame().columns) == ["clean", "linf", "l2", "l1", "union"]
    assert "<table" in report._repr_html_()
    report.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().startswith("model,clean,linf,l2,l1,union")


@pytest.mark.parametrize("make, message", [
    (lambda x, y: (x * 255, y), "0-255 pixels"),
    (lambda x, y: (x.masked_fill(x > 0.99, float("nan")), y), "NaN"),
    (lambda x, y: (x, y[:-1]), "y must have shape"),
    (lambda x, y: (x, y + 10), "labels must be in \\[0, 9\\]"),
    (lambda x, y: (x[:0], y[:0]), "empty"),
    (lambda x, y: (x[0], y), "images"),
])
def test_bad_input(trained_linear, make, message):
    model, x, y = trained_linear
    bx, by = make(x.clone(), y.clone())
    with pytest.raises(ValueError, match=message):
        evaluate_robustness(model, bx, by, SMALL, method="apgd")


def test_eps_on_the_wrong_scale_and_unknown_method(trained_linear):
    model, x, y = trained_linear
    with pytest.raises(ValueError, match="did you mean 8/255"):
        evaluate_robustness(model, x, y, [LpBall("inf", 8)], method="apgd")
    with pytest.raises(ValueError, match="unknown method"):
        evaluate_robustness(model, x, y, SMALL, method="fab")


def test_train_mode_model_is_evaluated_in_eval_mode_and_restored(trained_linear):
    _, x, y = trained_linear
    model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 10), nn.Dropout(0.5))
    model.train()
    with pytest.warns(UserWarning, match="train mode"):
        report = evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=5)
    assert model.training and any("train mode" in w for w in report.warnings)


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=30))
@hsettings(max_examples=30, deadline=None)
def test_union_accuracy_from_flags_is_the_and(rows):
    flags = torch.tensor(rows)
    union = flags.all(1)
    assert float(union.float().mean()) <= float(flags.float().mean(0).min())


def test_fewer_target_classes_are_recorded_and_validated(trained_linear):
    model, x, y = trained_linear
    report = evaluate_robustness(model, x[:4], y[:4], [LpBall("inf", 2 / 255)], method="autoattack", n_iter=5,
                                 n_target_classes=2)
    assert report.n_target_classes == 2 and "2 target classes" in report._repr_html_()
    assert RobustnessReport(**{k: v for k, v in report.to_dict().items()}).n_target_classes == 2
    assert evaluate_robustness(model, x[:4], y[:4], [LpBall("inf", 2 / 255)], method="apgd", n_iter=2,
                               n_target_classes=2).n_target_classes is None, "lpgeom's APGD mode has no targets"
    with pytest.raises(ValueError, match="n_target_classes must be at least 1"):
        evaluate_robustness(model, x, y, SMALL, method="autoattack", n_target_classes=0)
