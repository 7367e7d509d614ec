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
