"""Model soups: weighted averages of state dicts, architecture and parent checks, BatchNorm re-estimation."""
import pytest
import torch
from torch import nn

from lpgeom.models import (average_states, check_same_parent, interpolate_states, recompute_batchnorm, soup_state)


def net(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
        model[1].num_batches_tracked.fill_(seed + 1)
    return model


def test_interpolation_is_the_weighted_average_of_every_floating_entry_buffers_included():
    a, b = net(0).state_dict(), net(1).state_dict()
    mid = interpolate_states(a, b, 0.25)
    for key in a:
        if a[key].is_floating_point():
            torch.testing.assert_close(mid[key], 0.75 * a[key] + 0.25 * b[key])
    torch.testing.assert_close(mid["1.running_var"], 0.75 * a["1.running_var"] + 0.25 * b["1.running_var"])
    assert int(mid["1.num_batches_tracked"]) == 1  # integer entries: the first model's
    assert all(torch.equal(interpolate_states(a, b, 0.0)[k], a[k]) for k in a)
    assert all(torch.equal(interpolate_states(a, b, 1.0)[k], b[k]) for k in a if b[k].is_floating_point())
    three = average_states([a, b, net(2).state_dict()])
    torch.testing.assert_close(three["3.weight"], (a["3.weight"] + b["3.weight"] + net(2).state_dict()["3.weight"]) / 3)


def test_other_architectures_and_bad_weights_are_refused():
    a = net(0).state_dict()
    wider = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(3 * 4 * 4, 3)).state_dict()
    with pytest.raises(ValueError, match="model 1's 0.weight is .*another architecture"):
        soup_state([a, wider], [0.5, 0.5])
    other_keys = nn.Sequential(nn.Conv2d(1, 2, 3)).state_dict()
    with pytest.raises(ValueError, match="other state-dict keys"):
        soup_state([a, other_keys], [0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        soup_state([a, a], [0.5, 0.6])
    with pytest.raises(ValueError, match=">= 0"):
        soup_state([a, a], [1.5, -0.5])
    with pytest.raises(ValueError, match="alpha must be"):
        interpolate_states(a, a, 1.5)
    with pytest.raises(TypeError, match="state dict"):
        soup_state([a, net(1)], [0.5, 0.5])


def test_models_of_different_parents_are_refused():
    assert check_same_parent(["abc", "abc"]) is True
    assert check_same_parent(["abc", None]) is False  # unknown: nothing to refuse
    with pytest.raises(ValueError, match="B was fine-tuned from another parent"):
        check_same_parent(["aaaa", "bbbb"], names=["A", "B"])


def test_batchnorm_statistics_are_re_estimated_on_data():
    model = net(0).eval()
    x = torch.rand(64, 1, 6, 6)
    assert recompute_batchnorm(model, x.split(16)) == 1
    assert not model.training and model[1].momentum == 0.1  # modes and momentum restored
    features = model[0](x)
    torch.testing.assert_close(model[1].running_mean, features.mean((0, 2, 3)), rtol=1e-5, atol=1e-6)
    assert recompute_batchnorm(nn.Linear(2, 2), []) == 0
    with pytest.raises(ValueError, match="at least one batch"):
        recompute_batchnorm(net(0), [])
