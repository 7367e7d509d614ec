"""The contract every exported attack keeps, for every norm: inputs refused with one clear sentence,
outputs in ball ∩ box, the model's modes restored, the result's fields, determinism with a generator,
and no host synchronisation inside the step loops."""
import math

import pytest
import torch
from sync_counter import SyncCounter
from torch import nn

from lpgeom.attacks import APGD, MSD, PGD, SLIDE, Attack, AttackResult
from lpgeom.threats import L1Ball, L2Ball, LinfBall, ThreatUnion

BALLS = {"Linf": LinfBall(4 / 255), "L2": L2Ball(0.3), "L1": L1Ball(4.0)}

# name -> (factory(ball, n_iter) or None where the attack does not take that ball)
ATTACKS = {
    "APGD-CE": lambda b, n: APGD(b, n_iter=n, random_start=True, seed=1),
    "APGD-T": lambda b, n: APGD(b, n_iter=n, loss="dlr-targeted", n_target_classes=2, random_start=True, seed=1),
    "PGD": lambda b, n: PGD(b, n_iter=n, random_start=True, seed=1),
    "SLIDE": lambda b, n: SLIDE(b, n_iter=n, random_start=True, seed=1) if b.apgd.adaptive_sparsity else None,
    "MSD": lambda b, n: MSD(ThreatUnion([b]), n_iter=n),
    "MSD-topk": lambda b, n: MSD(ThreatUnion([b]), n_iter=n, l1_step="topk"),
}
CASES = [(a, p) for a in ATTACKS for p in BALLS if ATTACKS[a](BALLS[p], 2) is not None]


class ModeRecorder(nn.Module):
    """Wraps a model; records the train flag of every forward pass, and of a BatchNorm submodule."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.norm, self.modes = model, nn.BatchNorm1d(10), []

    def forward(self, x):
        self.modes.append((self.training, self.norm.training))
        return self.model(x)


@pytest.mark.parametrize("attack_name, norm", CASES)
def test_contract(tiny, attack_name, norm):
    model, x, y = tiny
    ball = BALLS[norm]
    attack = ATTACKS[attack_name](ball, 4)
    assert isinstance(attack, Attack)
    recorder = ModeRecorder(model).train()
    recorder.model[0].eval()  # a submodule left in eval mode must come back in eval mode
    try:
        result = attack(recorder, x, y)
        # modes: eval mode inside, every submodule's mode restored afterwards
        assert recorder.modes and not any(m or n for m, n in recorder.modes)
        assert recorder.training and recorder.norm.training and model.training and not model[0].training
    finally:
        model.eval()
    # fields
    assert isinstance(result, AttackResult)
    assert result.x_adv.shape == x.shape and result.x_adv.dtype == x.dtype
    assert result.loss.shape == (len(x),) and result.loss.dtype == torch.float32
    assert result.fooled.dtype == torch.bool and result.robust_all_iterates.dtype == torch.bool
    assert not (result.robust_all_iterates & result.fooled).any()
    # feasibility: the best point and the fooling point lie in ball ∩ box
    assert ball.contains(result.x_adv, x, atol=1e-5).all()
    assert ball.contains(result.stats["x_fooling"], x, atol=1e-5).all()
    with torch.no_grad():
        wrong = model(result.stats["x_fooling"]).argmax(1) != y
    assert torch.equal(wrong, result.fooled), "fooled <=> the returned fooling point is misclassified"
    # determinism: same seed -> same result; a passed generator drives the randomness
    again = ATTACKS[attack_name](ball, 4)(model, x, y)
    assert torch.equal(again.x_adv, result.x_adv) and torch.equal(again.fooled, result.fooled)
    with_gen = [attack(model, x, y, generator=torch.Generator().manual_seed(11)).x_adv for _ in range(2)]
    assert torch.equal(with_gen[0], with_gen[1])


def test_a_passed_generator_changes_the_random_start(tiny):
    model, x, y = tiny
    attack = APGD(BALLS["L2"], n_iter=1, random_start=True, seed=0)
    a = attack(model, x, y, generator=torch.Generator().manual_seed(1)).x_adv
    b = attack(model, x, y, generator=torch.Generator().manual_seed(2)).x_adv
    assert not torch.equal(a, b)


def _bad_inputs(x, y):
    nan = x.clone()
    nan[0, 0, 0, 0] = math.nan
    return [
        ("outside the box", x * 1.5, y, ValueError, r"\[0, 1\]"),
        ("negative pixels", x - 0.5, y, ValueError, r"\[0, 1\]"),
        ("NaN pixel", nan, y, ValueError, "NaN"),
        ("label too large", x, torch.full_like(y, 10), ValueError, "10 classes"),
        ("negative label", x, y - 100, ValueError, ">= 0"),
        ("empty batch", x[:0], y[:0], ValueError, "empty batch"),
        ("integer images", (x * 255).to(torch.uint8), y, TypeError, "float32"),
        ("float labels", x, y.float(), TypeError, "integer class labels"),
        ("labels of another length", x, y[:3], ValueError, "shape"),
        ("not a tensor", x.numpy(), y, TypeError, "torch.Tensor"),
    ]


@pytest.mark.parametrize("attack_name, norm", CASES)
def test_bad_inputs_get_one_clear_sentence(tiny, attack_name, norm):
    model, x, y = tiny
    attack = ATTACKS[attack_name](BALLS[norm], 2)
    for what, bad_x, bad_y, error, message in _bad_inputs(x, y):
        with pytest.raises(error, match=message):
            attack(model, bad_x, bad_y)
        assert not model.training, what


class NaNAfter(nn.Module):
    """Returns NaN logits once called more than ``calls`` times (a model that breaks during the attack)."""

    def __init__(self, model: nn.Module, calls: int) -> None:
        super().__init__()
        self.model, self.calls, self.count = model, calls, 0

    def forward(self, x):
        self.count += 1
        out = self.model(x)
        return out * math.nan if self.count > self.calls else out


@pytest.mark.parametrize("attack_name, norm", CASES)
@pytest.mark.parametrize("calls", [0, 3])
def test_nan_logits_are_refused_not_reported_as_fooled(tiny, attack_name, norm, calls):
    model, x, y = tiny
    with pytest.raises(ValueError, match="NaN or infinite logits"):
        ATTACKS[attack_name](BALLS[norm], 4)(NaNAfter(model, calls), x, y)


@pytest.mark.parametrize("attack_name, norm", CASES)
def test_no_host_synchronisation_in_the_step_loop(tiny, attack_name, norm):
    """Calls that wait for the device (``.item()``, ``bool(t)``, ``.tolist()``, ``nonzero``, boolean-mask
    indexing, ...) are counted; their number must not grow with the number of steps."""
    model, x, y = tiny
    per_steps = {}
    for n_iter in (2, 9):
        with SyncCounter() as counter:
            ATTACKS[attack_name](BALLS[norm], n_iter)(model, x, y)
        per_steps[n_iter] = counter.count
    assert per_steps[2] == per_steps[9], f"host synchronisations grow with the steps: {per_steps}"
    assert per_steps[2] > 0, "the counter sees the checks made outside the loop"


def _model_for(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    import copy

    return copy.deepcopy(model).to(dtype)


@pytest.mark.parametrize("attack_name, norm", CASES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_outputs_lie_in_ball_and_box_in_every_floating_dtype(tiny, attack_name, norm, dtype):
    """Iterates are computed in float32 and rounded toward x: rounding to nearest in float16/bfloat16
    moved points out of the ball by up to one unit in the last place."""
    model, x, y = tiny
    ball = BALLS[norm]
    xd = x.to(dtype)
    result = ATTACKS[attack_name](ball, 4)(_model_for(model, dtype), xd, y)
    assert result.x_adv.dtype == dtype and result.stats["x_fooling"].dtype == dtype
    for point in (result.x_adv, result.stats["x_fooling"]):  # measured in float64: no rounding of the difference
        assert ball.contains(point.double(), xd.double(), atol=1e-5).all(), ball.norm(point.double() - xd.double()).max()
        assert point.min() >= 0 and point.max() <= 1


def _new_bad_inputs(model, x, y):
    class Tuple(nn.Module):
        def forward(self, v):
            return model(v), v

    class Detached(nn.Module):
        def forward(self, v):
            return model(v).detach()

    class Integer(nn.Module):
        def forward(self, v):
            return model(v).round().long()

    return [
        ("float16 images, float32 model", model, x.half(), y, TypeError, "torch.float16 but the model's parameters are torch.float32"),
        ("float64 images, float32 model", model, x.double(), y, TypeError, r"x.to\(torch.float32\)"),
        ("one channel for a three-channel model", model, x[:, :1], y, ValueError, "1 channels .* expects 3"),
        ("5-d images", model, x[..., None], y, ValueError, "5 dimensions"),
        ("a 0-d image", model, x[0, 0, 0, 0], y, ValueError, "at least 2 dimensions"),
        ("1-d images", model, x[:, 0, 0, 0], y, ValueError, "at least 2 dimensions"),
        ("images on the meta device", model, x.to("meta"), y.to("meta"), ValueError, "meta device"),
        ("labels on another device", model, x, y.to("meta"), ValueError, "y is on meta but x is on cpu"),
        ("0-d labels", model, x[:1], y[0], ValueError, r"y must have shape \(1,\)"),
        ("boolean labels", model, x, y > 4, TypeError, "torch.bool"),
        ("complex labels", model, x, y.to(torch.complex64), TypeError, "torch.complex64"),
        ("numpy labels", model, x, y.numpy(), TypeError, r"torch.from_numpy\(y\)"),
        ("a model returning a tuple", Tuple(), x, y, TypeError, "got tuple"),
        ("a model returning integer logits", Integer(), x, y, TypeError, "floating-point logits"),
        ("a model without input gradients", Detached(), x, y, ValueError, "no gradient with respect to x"),
        ("a model that is a function", lambda v: model(v), x, y, TypeError, "model must be a torch.nn.Module"),
    ]


@pytest.mark.parametrize("attack_name, norm", CASES)
def test_new_bad_inputs_get_one_clear_sentence_never_a_result(tiny, attack_name, norm):
    model, x, y = tiny
    attack = ATTACKS[attack_name](BALLS[norm], 2)
    for what, bad_model, bad_x, bad_y, error, message in _new_bad_inputs(model, x, y):
        with pytest.raises(error, match=message):
            attack(bad_model, bad_x, bad_y)
        assert not model.training, what


@pytest.mark.parametrize("attack_name, norm", CASES)
def test_inputs_torch_accepts_give_the_same_result(tiny, attack_name, norm):
    """A batch that requires grad, a channels_last batch and int8/uint8/int32 labels are attacked as the plain
    batch is: the same points, in ball ∩ box, and the caller's tensors untouched."""
    model, x, y = tiny
    ball = BALLS[norm]
    plain = ATTACKS[attack_name](ball, 3)(model, x, y)
    variants = {"requires_grad": (x.clone().requires_grad_(True), y),
                "channels_last": (x.contiguous(memory_format=torch.channels_last), y),
                "uint8 labels": (x, y.to(torch.uint8)), "int8 labels": (x, y.to(torch.int8)),
                "int32 labels": (x, y.int())}
    for what, (vx, vy) in variants.items():
        result = ATTACKS[attack_name](ball, 3)(model, vx, vy)
        assert torch.allclose(result.x_adv, plain.x_adv, atol=1e-6), what
        assert torch.equal(result.fooled, plain.fooled), what
        assert vx.grad is None, what
    kept = ATTACKS[attack_name](ball, 3)(model, variants["channels_last"][0], y).x_adv
    assert kept.is_contiguous(memory_format=torch.channels_last), "the batch's channels_last layout is kept"
    one = ATTACKS[attack_name](ball, 3)(model, x[:1], y[:1])
    assert one.x_adv.shape == x[:1].shape and ball.contains(one.x_adv, x[:1]).all()
