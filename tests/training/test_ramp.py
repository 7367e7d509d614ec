"""RAMP: logit pairing, the higher-loss point, gradient projection, and a resumable run with GP."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from lpgeom.training import TrainConfig, build_scheme, paper_recipe, read_metrics, scheme_spec, train
from lpgeom.training.ramp import RAMP, gradient_projection, higher_loss_points, logit_pairing_kl

from scheme_digests import threats, tiny_model


def softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_logit_pairing_matches_a_hand_computation():
    logits_inf = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.5], [1.0, 1.0, 4.0], [0.2, 0.1, 0.0]],
                              requires_grad=True)
    logits_1 = torch.tensor([[0.5, 0.5, 0.0], [1.0, 1.0, 1.0], [0.0, 2.0, 0.0], [3.0, -1.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 2, 2, 0])  # l_inf correct on examples 0, 2 and 3 (not 1)
    hand = 0.0
    for i in (0, 2, 3):
        p, q = softmax(logits_inf[i].tolist()), softmax(logits_1[i].tolist())
        hand += sum(pk * math.log(pk / qk) for pk, qk in zip(p, q))
    kl = logit_pairing_kl(logits_inf, logits_1, y)
    assert kl.item() == pytest.approx(hand / 3, rel=1e-6)
    kl.backward()  # nothing detached: both sides get gradients, the unselected example none
    assert logits_inf.grad[[0, 2, 3]].abs().sum() > 0 and logits_1.grad[[0, 2, 3]].abs().sum() > 0
    assert logits_inf.grad[1].abs().sum() == 0 and logits_1.grad[1].abs().sum() == 0


def test_logit_pairing_is_zero_when_no_linf_point_is_correct():
    kl = logit_pairing_kl(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert kl.item() == 0.0
    with pytest.raises(ValueError, match="must both be"):
        logit_pairing_kl(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))


def test_the_point_with_the_higher_loss_is_kept_ties_going_to_l1():
    x_inf, x_1 = torch.full((3, 1, 2, 2), 1.0), torch.full((3, 1, 2, 2), 2.0)
    x, took_inf = higher_loss_points(x_inf, torch.tensor([3.0, 1.0, 2.0]), x_1, torch.tensor([1.0, 3.0, 2.0]))
    assert took_inf.tolist() == [True, False, False]
    assert x[:, 0, 0, 0].tolist() == [1.0, 2.0, 2.0]


def test_gradient_projection_matches_a_hand_computation_on_a_tiny_model():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    old = {k: v.clone() for k, v in net.state_dict().items()}
    adv, nat = {k: v.clone() for k, v in old.items()}, {k: v.clone() for k, v in old.items()}
    adv["0.weight"] += torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    nat["0.weight"] += torch.tensor([[1.0, 1.0], [0.0, 0.0]])  # cos = 1 / (sqrt 2 sqrt 2) = 0.5 > 0
    adv["0.bias"] += torch.tensor([1.0, 0.0])
    nat["0.bias"] += torch.tensor([-1.0, 0.0])  # cos = -1: the clean update is dropped
    adv["1.running_mean"] += torch.tensor([2.0, 0.0])
    nat["1.running_mean"] += torch.tensor([2.0, 0.0])  # cos = 1: running statistics are fused too
    adv["1.num_batches_tracked"] += 7
    out = gradient_projection(old, nat, adv)
    torch.testing.assert_close(out["0.weight"], old["0.weight"] + 0.5 * 0.5 * torch.tensor([[1.0, 1.0], [0.0, 0.0]])
                               + 0.5 * torch.eye(2))
    torch.testing.assert_close(out["0.bias"], old["0.bias"] + 0.5 * torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(out["1.running_mean"], old["1.running_mean"] + torch.tensor([2.0, 0.0]))
    assert int(out["1.num_batches_tracked"]) == int(adv["1.num_batches_tracked"])
    torch.testing.assert_close(out["1.weight"], old["1.weight"])  # unchanged by both: unchanged


def test_recipes_hold_ramps_settings_and_the_scheme_refuses_bad_ones():
    assert paper_recipe("finetune").scheme_settings("ramp") == {"n_iter": 10, "ramp_lambda": 1.5,
                                                                "gradient_projection": False}
    assert paper_recipe("scratch").scheme_settings("ramp")["ramp_lambda"] == 5.0
    assert paper_recipe("scratch", large_model=True).scheme_settings("ramp")["ramp_lambda"] == 2.0
    imagenet = paper_recipe("finetune", "imagenet").scheme_settings("ramp")
    assert imagenet == {"n_iter": 5, "l1_steps": 15, "ramp_lambda": 3.0, "gradient_projection": False}
    assert scheme_spec("ramp").norms == ("L1", "Linf")
    scheme = build_scheme("ramp", threats(), n_iter=3, l1_steps=4, gradient_projection=True, ramp_lambda=2.0)
    assert scheme.describe() == {"scheme": "RAMP+GP", "eps": {"Linf": 0.1, "L1": 4.0}, "n_iter": {"default": 3, "L1": 4},
                                 "ramp_lambda": 2.0, "gradient_projection": True, "gp_beta": 0.5}
    with pytest.raises(ValueError, match="ramp_lambda"):
        RAMP(threats(), ramp_lambda=-1.0)
    with pytest.raises(TypeError, match="gradient_projection"):
        RAMP(threats(), gradient_projection=1)
    with pytest.raises(ValueError, match="without gradient projection cannot take"):
        RAMP(threats()).load_state_dict({"old.x": torch.zeros(1)})


def test_the_loss_is_cross_entropy_on_the_higher_loss_points_plus_lambda_kl():
    torch.manual_seed(0)
    model = tiny_model()
    x, y = torch.rand(8, 1, 12, 12), torch.randint(0, 10, (8,))
    from lpgeom.training import StepContext

    def loss_of(lam):
        torch.manual_seed(5)  # the same BatchNorm state and batch for both
        m = tiny_model()
        m.load_state_dict(model.state_dict())
        m.train()
        ctx = StepContext(0, 0, torch.Generator().manual_seed(0), m)
        return RAMP(threats(), n_iter=3, ramp_lambda=lam).training_loss(m, x, y, ctx)

    (l0, s0), (l2, s2) = loss_of(0.0), loss_of(2.0)
    assert (l2 - l0).item() == pytest.approx(2.0 * s2.extra["kl"].item(), rel=1e-5, abs=1e-6)
    assert s0.share["Linf"].item() + s0.share["L1"].item() == 1.0


def data():
    gen = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(48, 1, 12, 12, generator=gen), torch.randint(0, 10, (48,), generator=gen))


def run(run_dir, resume=False, **config):
    torch.manual_seed(1)
    model = tiny_model()
    scheme = build_scheme("ramp", threats(), n_iter=2, gradient_projection=True, ramp_lambda=5.0)
    settings = dict(epochs=2, batch_size=16, lr=0.05, milestones=(0.5,), seed=2, progress=False, log_every=1,
                    checkpoint_every=1, augment=True)
    return model, train(model, data(), scheme, TrainConfig(**{**settings, **config}), run_dir, resume=resume)


@pytest.mark.parametrize("stop", [1, 4])  # mid-epoch 0 (theta_old in the checkpoint), mid-epoch 1 (and momentum)
def test_a_ramp_run_with_gradient_projection_resumes_bit_identically(tmp_path, stop):
    full, result = run(tmp_path / "full")
    assert result.finished and all("kl" in r and "share_Linf" in r for r in read_metrics(tmp_path / "full", "step"))
    _, part = run(tmp_path / "part", stop_after_steps=stop)
    assert part.global_step == stop and not part.finished
    resumed, result = run(tmp_path / "part", resume=True)
    assert result.finished
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ"
