"""The attack losses and APGD's checkpoint schedule refuse malformed arguments in one sentence."""
import pytest
import torch

from lpgeom.attacks import checkpoint_schedule
from lpgeom.attacks.losses import cross_entropy, dlr, margin, targeted_dlr


@pytest.mark.parametrize("loss", [cross_entropy, dlr, margin])
def test_losses_refuse_labels_of_the_wrong_shape_or_dtype(loss):
    logits = torch.randn(4, 10)
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        loss(logits, torch.zeros(4, 1, dtype=torch.long))
    with pytest.raises(TypeError, match="integer class indices"):
        loss(logits, torch.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(B, K\)"):
        loss(torch.randn(4), torch.zeros(4, dtype=torch.long))


def test_targeted_dlr_checks_its_targets_and_agrees_with_the_formula():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0, 0.0]])
    y, t = torch.tensor([0]), torch.tensor([1])
    assert targeted_dlr(logits, y, t).item() == pytest.approx(-(4 - 3) / (4 - 0.5 * (2 + 1)))
    with pytest.raises(TypeError, match="target"):
        targeted_dlr(logits, y, torch.tensor([1.0]))


@pytest.mark.parametrize("kwargs, error", [(dict(n_iter=0), ValueError), (dict(n_iter=True), TypeError),
                                           (dict(n_iter=10, first_check=2.0), ValueError),
                                           (dict(n_iter=10, first_check=float("nan")), ValueError),
                                           (dict(n_iter=10, first_check=0), ValueError)])
def test_checkpoint_schedule_refuses_what_gives_no_schedule(kwargs, error):
    with pytest.raises(error, match="checkpoint_schedule"):
        checkpoint_schedule(**kwargs)


def test_settings_refuse_integers_beyond_the_float_range_in_one_sentence():
    from lpgeom.attacks.settings import check_positive

    with pytest.raises(ValueError, match="step_size must be a finite number > 0"):
        check_positive(10**400, "step_size")
