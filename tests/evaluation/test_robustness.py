import json
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
    assert (tmp_path / "r.csv").read_text().startswith("model,n_points,clean,linf,l2,l1,union")


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


class Quantised(nn.Module):
    """An affine classifier of the image rounded to quarters: zero input gradient everywhere (masks gradients)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return self.linear((torch.round(x * 4) / 4).flatten(1))


@pytest.fixture(scope="module")
def masked_model():
    x, y = sample_images("cifar10")
    model = Quantised()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y


def test_standard_autoattack_is_never_weaker_than_the_two_apgds_and_sees_through_masking(masked_model):
    """Same seed, same batches: its APGD-CE and APGD-T are the paper evaluation's, so every point the two APGDs
    break it breaks too; on a model without input gradients only its black-box Square finds more."""
    model, x, y = masked_model
    ball = [LpBall("inf", 0.1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paper = evaluate_robustness(model, x, y, ball, method="autoattack", n_iter=10)
        rng = torch.random.get_rng_state()
        full = evaluate_robustness(model, x, y, ball, method="autoattack-standard", n_iter=10)
        assert torch.equal(rng, torch.random.get_rng_state()), "the caller's random state must be left alone"
        again = evaluate_robustness(model, x, y, ball, method="autoattack-standard", n_iter=10)
    assert paper.clean_accuracy == 1.0 and paper.union_accuracy == 1.0, "zero gradients: the APGDs find nothing"
    assert not (full.per_point["Linf"] & ~paper.per_point["Linf"]).any(), "a point the two APGDs broke came back"
    assert full.union_accuracy < paper.union_accuracy
    assert torch.equal(full.per_point["union"], again.per_point["union"]), "seeded: the same points again"
    assert full.method == "autoattack-standard" and full.n_target_classes is None
    assert list(full.attack_log["Linf"]) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert full.attack_log["Linf"]["square"] < full.attack_log["Linf"]["fab-t"] == 1.0
    assert any("zero gradient" in w for w in full.warnings) and any("Square" in w for w in full.warnings)
    assert len(full.warnings) == len(set(full.warnings))
    assert RobustnessReport(**full.to_dict()).attack_log == full.attack_log


def test_standard_autoattack_decides_robustness_by_running_the_model_on_points_in_the_ball(masked_model, monkeypatch):
    """A point returned outside ball ∩ box, or one that does not fool the model, never counts as broken."""
    import lpgeom.evaluation.robustness as robustness

    model, x, y = masked_model

    def lying(model, x, y, ball, **kwargs):  # claims everything broken: far outside the ball, or unchanged
        x_adv = x.clone()
        x_adv[: len(x) // 2] = (1 - x[: len(x) // 2])
        return x_adv, [], {"square": 0.0}

    monkeypatch.setattr(robustness, "standard_autoattack_points", lying)
    with pytest.warns(UserWarning, match="left ball ∩ box: counted as not attacked"):
        report = evaluate_robustness(model, x, y, [LpBall("inf", 0.1)], method="autoattack-standard", n_iter=100)
    assert report.robust_accuracy["Linf"] == 1.0


@pytest.mark.parametrize("kwargs, error, message", [
    ({"x_dtype": torch.int64}, TypeError, "x must be float16, bfloat16, float32 or float64"),
    ({"y_dtype": torch.float32}, TypeError, "y must hold integer class labels"),
    ({"n_iter": 0}, ValueError, r"n_iter must be an integer in \[1, 1000000000\], got 0"),
    ({"batch_size": 2.5}, TypeError, r"batch_size must be an integer >= 1, got 2.5 \(float\)"),
    ({"batch_size": True}, TypeError, "batch_size must be an integer >= 1, got True"),
    ({"threats": "Linf"}, TypeError, "threats must be a ThreatUnion"),
    ({"threats": [LpBall("inf", 0.1), LpBall("inf", 0.2)]}, ValueError, "each norm once"),
    ({"model": lambda x: x}, TypeError, "model must be a torch.nn.Module"),
    ({"name": None}, TypeError, "name must be a str"),
])
def test_bad_options_and_dtypes_get_one_clear_error(trained_linear, kwargs, error, message):
    model, x, y = trained_linear
    x = x.to(kwargs.pop("x_dtype", x.dtype))
    y = y.to(kwargs.pop("y_dtype", y.dtype))
    model = kwargs.pop("model", model)
    threats = kwargs.pop("threats", SMALL)
    with pytest.raises(error, match=message):
        evaluate_robustness(model, x, y, threats, method="apgd", **kwargs)


def test_nan_logits_are_refused(trained_linear):
    _, x, y = trained_linear
    model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 10))
    with torch.no_grad():
        model[1].bias[3] = float("nan")
    with pytest.raises(ValueError, match="finite logits"):
        evaluate_robustness(model, x, y, SMALL, method="apgd")


@pytest.mark.parametrize("grid, kwargs, error, message", [
    ([0.1, float("nan")], {}, ValueError, "finite positive radii"),
    ([], {}, ValueError, "finite positive radii"),
    (["a"], {}, TypeError, "eps_grid must be a sequence of numbers"),
    ([0.1], {"n_iter": 0}, ValueError, r"n_iter must be an integer in \[1, "),
    ([0.1], {"ball": "L2"}, TypeError, "ball must be an LpBall"),
    ([0.1], {"x": "scale"}, ValueError, "0-255 pixels"),
])
def test_curve_refuses_bad_input(trained_linear, grid, kwargs, error, message):
    model, x, y = trained_linear
    ball = kwargs.pop("ball", LpBall(2, 1.0))
    x = x * 255 if kwargs.pop("x", None) == "scale" else x
    with pytest.raises(error, match=message):
        robustness_curve(model, x, y, ball, grid, **kwargs)


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
    for method in ("apgd", "autoattack-standard"):
        with pytest.raises(ValueError, match=f"applies to method='autoattack' only, got method='{method}'"):
            evaluate_robustness(model, x[:4], y[:4], SMALL, method=method, n_target_classes=2)
    with pytest.raises(ValueError, match=r"n_target_classes must be an integer in \[1, "):
        evaluate_robustness(model, x, y, SMALL, method="autoattack", n_target_classes=0)


class IntegerLogits(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return self.linear(x.flatten(1)).round().long()


class DetachedLogits(IntegerLogits):
    def forward(self, x):
        return self.linear(x.flatten(1)).detach()


class TupleOutput(IntegerLogits):
    def forward(self, x):
        return self.linear(x.flatten(1)), x


@pytest.mark.parametrize("method", ["apgd", "autoattack"])
@pytest.mark.parametrize("model, error, message", [
    (IntegerLogits(), TypeError, "floating-point logits, got dtype torch.int64"),
    (DetachedLogits(), ValueError, "no gradient with respect to x.*not reported robust"),
    (TupleOutput(), TypeError, "tensor of logits.*got tuple"),
])
def test_models_an_attack_cannot_test_are_refused_never_reported_robust(trained_linear, model, error, message, method):
    _, x, y = trained_linear
    with pytest.raises(error, match=message):
        evaluate_robustness(model, x, y, SMALL, method=method, n_iter=2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_images_of_another_dtype_than_the_model_get_a_clear_type_error(trained_linear, dtype):
    model, x, y = trained_linear
    with pytest.raises(TypeError, match=rf"x has dtype {dtype} but the model's parameters are torch.float32.*x.to"):
        evaluate_robustness(model, x.to(dtype), y, SMALL, method="apgd", n_iter=2)


def test_a_cifar_model_on_fashion_mnist_images_gets_a_clear_value_error(trained_linear):
    model, _, _ = trained_linear
    x, y = sample_images("fashion_mnist")
    with pytest.raises(ValueError, match=r"784 values.*expects 3072.*CIFAR-10 \(3x32x32\) on Fashion-MNIST"):
        evaluate_robustness(model, x, y, [LpBall("inf", 0.1)], method="apgd", n_iter=2)


@pytest.mark.parametrize("device, message", [
    ("foo", r"device 'foo' is not a device; give cpu, cuda or cuda:N"),
    (3.5, r"device 3.5 is not a device \(float\)"),
    ("meta", "device meta: lpgeom runs on cpu, cuda or cuda:N"),
    pytest.param("cuda", "CUDA is not available", marks=pytest.mark.skipif(torch.cuda.is_available(), reason="GPU")),
])
def test_unusable_devices_are_refused_naming_the_value(trained_linear, device, message):
    model, x, y = trained_linear
    with pytest.raises(ValueError, match=message):
        evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=2, device=device)


def test_numpy_images_get_the_conversion_in_the_message(trained_linear):
    model, x, y = trained_linear
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor.*got numpy.ndarray \(convert it with torch.from_numpy\(x\)\)"):
        evaluate_robustness(model, x.numpy(), y, SMALL, method="apgd", n_iter=2)


def few_class_model(k):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, k)).eval()
    x = torch.rand(6, 3, 2, 2)
    with torch.no_grad():
        return model, x, model(x).argmax(1)


@pytest.mark.parametrize("k, method", [(2, "apgd"), (3, "autoattack"), (3, "autoattack-standard")])
def test_too_few_classes_for_the_methods_dlr_loss_is_refused(k, method):
    model, x, y = few_class_model(k)
    with pytest.raises(ValueError, match=f"method='{method}' needs a model with at least .* this one has {k}"):
        evaluate_robustness(model, x, y, [LpBall("inf", 0.05)], method=method, n_iter=2)


@pytest.mark.parametrize("method", ["autoattack", "autoattack-standard"])
def test_autoattack_runs_on_a_model_with_fewer_than_ten_classes(method):
    """The standard 9 target classes are capped at the model's other classes (pyautoattack alone fails)."""
    model, x, y = few_class_model(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate_robustness(model, x, y, [LpBall("inf", 0.05)], method=method, n_iter=2)
    assert report.clean_accuracy == 1.0


def test_more_target_classes_than_the_model_has_are_refused(trained_linear):
    model, x, y = trained_linear
    with pytest.raises(ValueError, match="n_target_classes=10 but the model has 10 classes: at most 9"):
        evaluate_robustness(model, x, y, SMALL, method="autoattack", n_iter=2, n_target_classes=10)


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**64, ValueError), (None, TypeError), (True, TypeError)])
def test_seeds_outside_what_the_generators_take_are_refused(trained_linear, seed, error):
    model, x, y = trained_linear
    with pytest.raises(error, match="seed"):
        evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=2, seed=seed)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_points_are_not_mistaken_for_points_outside_the_ball(trained_linear, dtype):
    """A float16/bfloat16 difference rounds: measured in the batch's dtype, points on the sphere read as
    outside and were counted as not attacked (robust accuracy overestimated)."""
    model, x, y = trained_linear
    low = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).to(dtype)
    low.load_state_dict(model.state_dict())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = evaluate_robustness(low, x.to(dtype), y, SMALL, method="apgd", n_iter=5)
    assert not any("left ball" in str(w.message) for w in caught), [str(w.message) for w in caught]
    assert not any("left ball" in w for w in report.warnings)


def test_the_public_autoattack_helpers_check_their_inputs(trained_linear):
    from lpgeom.evaluation import autoattack_points

    model, x, y = trained_linear
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        autoattack_points(model, x * 2, y, LpBall("inf", 0.1), n_iter=1)
    with pytest.raises(TypeError, match="torch.float64 but the model's parameters are torch.float32"):
        autoattack_points(model, x.double(), y, LpBall("inf", 0.1), n_iter=1)


def test_standard_autoattack_keeps_its_target_counts_on_a_ten_class_model(trained_linear, monkeypatch):
    """Capping the targets at K - 1 changes nothing for 10 classes: FAB-T keeps 9 targets for l_1 too, APGD-T 5."""
    import pyautoattack

    seen = {}

    def spy(self, x, y, **kwargs):  # records the settings, attacks nothing
        seen[self.norm] = (self.apgd_targeted.n_target_classes, self.fab.n_target_classes)
        return x, None

    monkeypatch.setattr(pyautoattack.AutoAttack, "run_standard_evaluation", spy)
    model, x, y = trained_linear
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate_robustness(model, x[:2], y[:2], SMALL, method="autoattack-standard", n_iter=1)
    assert seen == {"Linf": (9, 9), "L2": (9, 9), "L1": (5, 9)}


def test_apgd_points_returns_x_itself_where_no_point_fools(trained_linear):
    """As documented: the fooling point, else ``x`` (it returned the last attack's highest-loss point)."""
    from lpgeom.evaluation import apgd_points

    model, x, y = trained_linear
    ball = LpBall(2, 0.1)
    out = apgd_points(model, x, y, ball, n_iter=5)
    with torch.no_grad():
        fooled = model(out).argmax(1) != y
    assert (~fooled).any()
    assert torch.equal(out[~fooled], x[~fooled])
    assert ball.contains(out, x).all()


def test_robustness_curve_checks_every_radius_of_its_grid(trained_linear):
    """Only the smallest radius was checked: a grid ending at l_inf 8 (the 0-255 scale) was accepted."""
    model, x, y = trained_linear
    with pytest.raises(ValueError, match="Linf radius eps = 8 does not fit"):
        robustness_curve(model, x, y, LpBall("inf", 1 / 255), [1 / 255, 8.0], n_iter=1)


def test_evaluation_options_take_numpy_integers_as_the_attacks_do(trained_linear, tmp_path):
    """n_iter=np.int64(2) or batch_size=np.int64(10) (a value from a numpy grid) were refused as 'not an int',
    while APGD takes them: one check for counts. The report holds them as Python ints (JSON)."""
    import numpy as np

    model, x, y = trained_linear
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate_robustness(model, x[:4], y[:4], [LpBall("inf", 0.01)], method="autoattack", n_iter=np.int64(2),
                                     batch_size=np.int64(3), seed=np.int64(0), n_target_classes=np.int64(2))
    assert (report.n_iter, report.seed, report.n_target_classes) == (2, 0, 2)
    assert all(type(v) is int for v in (report.n_iter, report.seed, report.n_target_classes))
    report.to_json(tmp_path / "report.json")


def test_gradient_masking_warnings_takes_only_what_it_uses(trained_linear):
    """Its n_restarts parameter was never read (evaluate_robustness passed 1): gone."""
    from lpgeom.evaluation import gradient_masking_warnings

    model, x, _ = trained_linear
    assert gradient_masking_warnings(model, x, 100) == []
    softmax = nn.Sequential(model, nn.Softmax(dim=1))
    assert [w.split(" (")[0] for w in gradient_masking_warnings(softmax, x, 10)] == [
        "the model outputs probabilities", "only 10 attack iterations: fine for monitoring, too few for a reported evaluation"]


def test_robustness_curve_refuses_a_two_class_model_before_attacking():
    """Its APGD-DLR needs 3 classes: the loss's own error came after the CE attacks had run and told the
    caller to 'use loss=ce', an option robustness_curve does not have."""
    model, x, y = few_class_model(2)
    with pytest.raises(ValueError, match=r"robustness_curve attacks with APGD-CE and APGD-DLR, which needs a model "
                                         r"with at least 3 classes; this one has 2$"):
        robustness_curve(model, x, y, LpBall(2, 0.5), [0.1], n_iter=1)


@pytest.mark.parametrize("change, error", [(lambda x, y: (x * 255, y), ValueError), (lambda x, y: (x[:0], y[:0]), ValueError),
                                           (lambda x, y: (x.half(), y.float()), TypeError),
                                           (lambda x, y: (x, y - 1), ValueError)])
def test_evaluation_and_attacks_refuse_bad_images_and_labels_in_the_same_words(trained_linear, change, error):
    """One check of images and labels: evaluate_robustness said 'images must lie in [0, 1] ...' where APGD said
    'x must lie in [0, 1] ...' (and only one of them gave the 0-255 hint), 'x is empty (N = 0)' where APGD said
    'x is an empty batch'."""
    from lpgeom.attacks import APGD

    model, x, y = trained_linear
    x, y = change(x, y)
    with pytest.raises(error) as by_attack:
        APGD(LpBall(2, 0.1), n_iter=1)(model, x, y)
    with pytest.raises(error) as by_evaluation:
        evaluate_robustness(model, x, y, SMALL, method="apgd", n_iter=1)
    assert str(by_evaluation.value) == str(by_attack.value)


@pytest.mark.parametrize("helper", ["apgd_points", "autoattack_points"])
def test_the_public_point_helpers_run_the_model_in_eval_mode_and_leave_it_as_it_was(trained_linear, helper):
    """apgd_points' own 'still correct?' checks, and pyautoattack (which never calls eval()), ran a train-mode
    model as it was: BatchNorm used batch statistics and updated its running ones."""
    from lpgeom import evaluation

    model, x, y = trained_linear
    net = nn.Sequential(nn.BatchNorm2d(3), model).train()
    before = net[0].running_mean.clone()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(evaluation, helper)(net, x[:8], y[:8], LpBall("inf", 1 / 255), n_iter=1)
    assert torch.equal(net[0].running_mean, before) and net.training and net[0].training


def test_autoattack_on_the_cpu_restores_the_current_cuda_devices_random_state(trained_linear, monkeypatch):
    """pyautoattack calls torch.cuda.random.manual_seed on any device, which reseeds the *current* CUDA device:
    on a machine with CUDA an evaluation on the CPU (or on another GPU) must restore that device's state too."""
    import contextlib

    from lpgeom.evaluation import robustness

    model, x, y = trained_linear
    forked = []
    real_fork = torch.random.fork_rng

    @contextlib.contextmanager
    def recording_fork(devices=None, **kwargs):
        forked.append(list(devices))
        with real_fork(devices=[], **kwargs):  # this machine has no CUDA state to save
            yield

    monkeypatch.setattr(torch.random, "fork_rng", recording_fork)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        robustness.autoattack_points(model, x[:2], y[:2], LpBall("inf", 1 / 255), n_iter=2, device="cpu")
    assert forked == [[1]], "the current CUDA device's random state was not saved and restored"
    assert robustness._reseeded_cuda_devices("cuda") == [1]
    assert robustness._reseeded_cuda_devices("cuda:0") == [0, 1]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert robustness._reseeded_cuda_devices("cpu") == []


def test_progress_bar_counts_every_attack_of_every_norm_and_turns_off(trained_linear, capsys):
    """evaluate_robustness shows a tqdm bar (with ETA) on stderr, one step per attack per norm (issue 26)."""
    model, x, y = trained_linear
    evaluate_robustness(model, x[:4], y[:4], SMALL, method="apgd", n_iter=2, progress=True, name="lin")
    out, err = capsys.readouterr()
    assert out == "" and "lin: apgd" in err and "6/6" in err  # APGD-CE and APGD-DLR for 3 norms
    evaluate_robustness(model, x[:4], y[:4], SMALL, method="apgd", n_iter=2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_autoattack_bar_follows_pyautoattacks_attacks(trained_linear, capsys):
    from lpgeom.evaluation import autoattack_points

    model, x, y = trained_linear
    autoattack_points(model, x[:4], y[:4], LpBall("inf", 1 / 255), n_iter=2, progress=True)
    err = capsys.readouterr().err
    assert "AutoAttack Linf" in err and "2/2" in err


def test_files_hold_fractions_at_the_evaluations_resolution(tmp_path):
    """Tables for people in percent, files for programs in fractions without float32 noise (issue 26)."""
    import json

    from lpgeom.evaluation.report import resolution_digits

    flags = torch.tensor([True] * 3 + [False] * 12)
    report = RobustnessReport(model="m", n_points=15, clean_accuracy=float(flags.float().mean()),
                              robust_accuracy={"Linf": float(torch.tensor(0.2, dtype=torch.float32))},
                              union_accuracy=0.2000000029802322, eps={"Linf": 0.1}, method="apgd", n_iter=1, seed=0)
    assert resolution_digits(15) == 3 and resolution_digits(1000) == 4 and resolution_digits(1) == 1
    report.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[1] == "m,15,0.2,0.2,0.2"
    data = json.loads(report.to_json(tmp_path / "r.json").read_text())
    assert data["clean_accuracy"] == 0.2 and data["robust_accuracy"] == {"Linf": 0.2}
    assert report.to_frame()["clean"].iloc[0] == pytest.approx(20.0)


def test_a_report_file_of_another_shape_or_an_impossible_one_is_refused_by_name(tmp_path):
    """Hostile round E17/E18: an extra key was a raw TypeError, a union above a per-norm accuracy loaded as is."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))
    x = torch.rand(4, 3, 8, 8)
    report = evaluate_robustness(model, x, model(x).argmax(1), SMALL, method="apgd", n_iter=2)
    path = report.to_json(tmp_path / "r.json")
    good = json.loads(path.read_text())
    impossible = dict(robust_accuracy={k: 0.0 for k in good["robust_accuracy"]}, union_accuracy=0.5)
    for change, match in [(dict(extra_field=1), "unknown field"), (impossible, "impossible report")]:
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(ValueError, match=match):
            RobustnessReport.from_json(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds a list"):
        RobustnessReport.from_json(path)
