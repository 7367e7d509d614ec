"""Every attack hyperparameter out of range is refused at construction (or, where it depends on the model,
at the call) with one sentence naming the argument and the value; none is accepted silently."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from lpgeom.attacks import APGD, MSD, PGD, SLIDE
from lpgeom.threats import L1Ball, L2Ball, LinfBall, LpBall, ThreatUnion

LINF, L2, L1 = LinfBall(0.1), L2Ball(0.5), L1Ball(5.0)
UNION = ThreatUnion([LINF, L2, L1])
HUGE = 10**400

BAD = [
    # step sizes: <= 0, non-finite, not a number
    (lambda: PGD(L2, step_size=0.0), ValueError, "step_size must be a finite number > 0, got 0.0"),
    (lambda: PGD(L2, step_size=-1), ValueError, "step_size must be a finite number > 0, got -1"),
    (lambda: PGD(L2, step_size=math.nan), ValueError, "step_size.*nan"),
    (lambda: PGD(L2, step_size=math.inf), ValueError, "step_size.*inf"),
    (lambda: PGD(L2, step_size="big"), TypeError, "step_size must be a finite number > 0, got 'big'"),
    (lambda: SLIDE(L1, step_size=True), TypeError, "step_size.*True"),
    (lambda: MSD(UNION, step_sizes={"Linf": -1.0}), ValueError, r"step_sizes\['Linf'\] must be a finite number > 0"),
    (lambda: MSD(UNION, step_sizes={"L1": 0}), ValueError, r"step_sizes\['L1'\].*got 0"),
    (lambda: MSD(UNION, step_sizes={"L2": math.nan}), ValueError, r"step_sizes\['L2'\].*nan"),
    (lambda: MSD(UNION, step_sizes={"L2": math.inf}), ValueError, r"step_sizes\['L2'\].*inf"),
    (lambda: MSD(UNION, step_sizes=[1.0]), TypeError, "step_sizes must be a dict"),
    # counts
    (lambda: APGD(L2, n_iter=0), ValueError, r"n_iter must be an integer in \[1, "),
    (lambda: APGD(L2, n_iter=True), TypeError, "n_iter.*True"),
    (lambda: APGD(L2, n_iter=2.0), TypeError, "n_iter.*2.0"),
    (lambda: APGD(L2, n_iter=HUGE), ValueError, "n_iter must be an integer in"),
    (lambda: PGD(L2, n_iter=-1), ValueError, "n_iter"),
    (lambda: MSD(UNION, n_iter=False), TypeError, "n_iter"),
    (lambda: APGD(L2, n_restarts=0), ValueError, "n_restarts must be an integer"),
    (lambda: APGD(L2, n_restarts=-2), ValueError, "n_restarts"),
    (lambda: APGD(L2, loss="dlr-targeted", n_target_classes=0), ValueError, "n_target_classes must be an integer"),
    # sparsity outside (0, 1]
    (lambda: APGD(L1, sparsity=0.0), ValueError, r"sparsity must be a finite number in \(0, 1\], got 0.0"),
    (lambda: APGD(L1, sparsity=1.5), ValueError, "sparsity.*1.5"),
    (lambda: APGD(L1, sparsity=math.nan), ValueError, "sparsity.*nan"),
    (lambda: PGD(L1, sparsity=-0.1), ValueError, "sparsity"),
    (lambda: PGD(L1, sparsity=True), TypeError, "sparsity.*True"),
    # flags and seeds
    (lambda: APGD(L2, random_start="no"), TypeError, "random_start must be True or False, got 'no'"),
    (lambda: PGD(L2, random_start=1), TypeError, "random_start"),
    (lambda: APGD(L2, seed=-1), ValueError, r"seed must be None or an integer in \[0, 2\*\*64 - 1\], got -1"),
    (lambda: APGD(L2, seed=2**64), ValueError, "seed"),
    (lambda: PGD(L2, seed=True), TypeError, "seed.*True"),
    (lambda: MSD(UNION, seed=1.5), TypeError, "seed.*1.5"),
    # MSD's top-k range
    (lambda: MSD(UNION, l1_step="topk", k_range=(True, 5)), ValueError, "k_range"),
    (lambda: MSD(UNION, l1_step="topk", k_range=(0, 5)), ValueError, "k_range"),
]


@pytest.mark.parametrize("make, error, message", BAD)
def test_out_of_range_hyperparameters_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numpy_numbers_are_accepted_where_python_numbers_are():
    attack = APGD(L1, n_iter=np.int64(3), sparsity=np.float32(0.1), seed=np.uint64(2**63))
    assert attack.n_iter == 3 and isinstance(attack.n_iter, int) and attack.seed == 2**63
    assert PGD(L2, step_size=np.float64(0.1)).step_size == pytest.approx(0.1)


class BadRuleBall(L2Ball):
    """An l_2 ball whose APGD rule has a momentum and a first checkpoint out of range (a custom ball's mistake)."""

    __slots__ = ()

    @property
    def apgd(self):
        return replace(super().apgd, momentum=1.5, first_check=0.0)


def test_an_apgd_rule_out_of_range_is_refused_naming_the_settings():
    """The rule refuses itself when built (APGDRule checks its fields), before any APGD uses it."""
    with pytest.raises(ValueError, match=r"momentum must be a finite number in \[0, 1\], got 1.5"):
        APGD(BadRuleBall(0.5))


def test_more_target_classes_than_the_model_has_is_refused_at_the_call(tiny):
    model, x, y = tiny  # 10 classes
    with pytest.raises(ValueError, match="n_target_classes=10 but the model has 10 classes: at most 9"):
        APGD(L2, n_iter=1, loss="dlr-targeted", n_target_classes=10)(model, x, y)
    APGD(L2, n_iter=1, loss="dlr-targeted", n_target_classes=9)(model, x, y)


def test_the_default_target_count_is_capped_for_models_with_few_classes(tiny):
    model, x, y = tiny
    four = torch.nn.Sequential(model, torch.nn.Linear(10, 4))
    result = APGD(L2, n_iter=1, loss="dlr-targeted")(four, x, y % 4)  # default 9 targets, capped at 3
    assert result.x_adv.shape == x.shape


def test_topk_range_beyond_the_image_size_is_refused_at_the_call():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x, y = torch.rand(2, 1, 2, 2), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"k_range=\(5, 20\) asks for up to 20 coordinates per step but an example has 4"):
        MSD(ThreatUnion([L1Ball(1.0)]), n_iter=1, l1_step="topk")(model, x, y)


@pytest.mark.parametrize("attack", [APGD(L2, n_iter=1), PGD(L2, n_iter=1), MSD(UNION, n_iter=1)])
def test_a_bad_generator_is_refused_even_without_a_random_start(tiny, attack):
    model, x, y = tiny
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int"):
        attack(model, x, y, generator=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU for a generator on another device")
@pytest.mark.parametrize("attack", [APGD(L2, n_iter=1), PGD(L2, n_iter=1, random_start=True), MSD(UNION, n_iter=1)])
def test_a_generator_on_another_device_is_refused(tiny, attack):
    model, x, y = tiny
    with pytest.raises(ValueError, match="generator lives on cuda.* but x is on cpu"):
        attack(model, x, y, generator=torch.Generator(device="cuda"))


def test_lpball_is_what_the_factory_returns():
    assert isinstance(LpBall(2, 0.5), L2Ball)  # BadRuleBall above relies on subclassing the registered class


@pytest.mark.parametrize("make", [lambda b: APGD(b), lambda b: PGD(b), lambda b: MSD(ThreatUnion([b]))])
def test_a_radius_beyond_float32_is_refused(make):
    """Attacks step in float32: eps = 1e39 overflowed to inf inside the projection (raw RuntimeError)."""
    with pytest.raises(ValueError, match="radius eps = 1e\\+39 exceeds float32's range"):
        make(L2Ball(1e39))


class DuckRuleBall(L2Ball):
    """A custom ball whose ``apgd`` is not an APGDRule (plain attributes): APGD cannot trust or use it."""

    __slots__ = ()

    @property
    def apgd(self):
        from types import SimpleNamespace

        return SimpleNamespace(step_factor=2.0, momentum=0.75, first_check=0.22, shrinking_checks=True,
                               adaptive_sparsity=False, sparsity_train=0.05, sparsity_eval=0.2)


def test_an_apgd_rule_that_is_not_an_apgdrule_is_refused_when_the_attack_is_built():
    """It passed APGD's own copy of APGDRule's checks and failed at the call with a raw AttributeError."""
    with pytest.raises(TypeError, match=r"the L2 ball's apgd must be an APGDRule .*got SimpleNamespace"):
        APGD(DuckRuleBall(0.5))


def test_checkpoint_schedule_takes_numpy_numbers_as_the_attacks_do():
    """It refused np.int64(100) and np.float64(0.22), which APGD itself takes (one check for counts and fractions)."""
    from lpgeom.attacks import checkpoint_schedule

    assert checkpoint_schedule(np.int64(100), np.float64(0.22)) == checkpoint_schedule(100, 0.22)
    assert SLIDE(L1, percentile=np.float32(99.0)).sparsity == pytest.approx(0.01)  # refused as 'not a number'
    with pytest.raises(TypeError, match="percentile must be a finite number in \\(0, 100\\), got True"):
        SLIDE(L1, percentile=True)
    with pytest.raises(TypeError, match=r"checkpoint_schedule n_iter must be an integer in \[1, 1000000000\], got True"):
        checkpoint_schedule(True)

