import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from torch import nn

from lpgeom.attacks import AttackResult
from lpgeom.threats import L1Ball, LinfBall, cifar10_threats
from lpgeom.training import EAT, MaxAT, NaturalTraining, SingleNormAT, StepContext, SwitchAt, build_scheme


class FixedAttack:
    """Returns the input unchanged and a chosen robust-correct pattern."""

    def __init__(self, robust: list[bool]):
        self.robust = torch.tensor(robust)
        self.calls = 0

    def __call__(self, model, x, y):
        self.calls += 1
        return AttackResult(x_adv=x, loss=torch.zeros(len(x)), fooled=~self.robust, robust_all_iterates=self.robust)


def ctx(step=0, epoch=0, model=None):
    return StepContext(epoch=epoch, global_step=step, generator=torch.Generator().manual_seed(step), attack_model=model)


@given(st.integers(0, 50), st.integers(1, 50), st.integers(0, 50), st.integers(1, 50))
@hsettings(max_examples=60, deadline=None)
def test_eat_probabilities_follow_the_robust_errors(c1, s1, cinf, sinf):
    scheme = EAT(L1Ball(12), LinfBall(8 / 255))
    c1, cinf = min(c1, s1), min(cinf, sinf)
    scheme.counts = torch.tensor([[c1, s1], [cinf, sinf]], dtype=torch.float64)
    p = scheme.probabilities()
    r1, rinf = 1 - c1 / s1, 1 - cinf / sinf
    if r1 + rinf > 0:
        torch.testing.assert_close(p, torch.tensor([r1, rinf], dtype=torch.float64) / (r1 + rinf))
    assert float(p.sum()) == pytest.approx(1.0)


def test_eat_half_before_both_norms_seen_and_counts_accumulate_only_for_drawn_norm():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    a1, ainf = FixedAttack([True, False, False, False]), FixedAttack([True, True, True, False])
    scheme = EAT(L1Ball(1.0), LinfBall(0.1), attacks=[a1, ainf])
    assert scheme.probabilities().tolist() == [0.5, 0.5]
    x, y = torch.rand(4, 1, 2, 2), torch.tensor([0, 1, 2, 0])
    history = []
    for step in range(40):
        before = scheme.counts.clone()
        _, stats = scheme.training_loss(model, x, y, ctx(step, model=model))
        j = 0 if stats["norm"] == "L1" else 1
        assert torch.equal(scheme.counts[1 - j], before[1 - j])  # the other norm is untouched
        assert scheme.counts[j, 1] == before[j, 1] + 4  # never reset: cumulative
        history.append(stats["norm"])
    assert a1.calls + ainf.calls == 40 and a1.calls > 0 and ainf.calls > 0
    # l1 robust error 0.75 vs linf 0.25: l1 drawn about 3 times as often
    torch.testing.assert_close(scheme.probabilities(), torch.tensor([0.75, 0.25], dtype=torch.float64))
    assert history.count("L1") > history.count("Linf")
    state = scheme.state_dict()
    fresh = EAT(L1Ball(1.0), LinfBall(0.1), attacks=[a1, ainf])
    fresh.load_state_dict(state)
    assert torch.equal(fresh.counts, scheme.counts)


def test_switch_changes_scheme_at_the_epoch():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    scheme = SwitchAt(NaturalTraining(), SingleNormAT(LinfBall(0.1), attack=FixedAttack([True] * 4)), epoch=2)
    x, y = torch.rand(4, 1, 2, 2), torch.tensor([0, 1, 2, 0])
    assert scheme.training_loss(model, x, y, ctx(epoch=1, model=model))[1]["phase"] == "natural"
    assert scheme.training_loss(model, x, y, ctx(epoch=2, model=model))[1]["phase"] == "Linf-AT"


def test_max_takes_the_per_example_highest_loss():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x, y = torch.rand(6, 1, 2, 2), torch.randint(0, 3, (6,))
    shifted = [x, x + 0.3, x - 0.3]

    class Shift:
        def __init__(self, target):
            self.target = target

        def __call__(self, m, xx, yy):
            return AttackResult(self.target, torch.zeros(6), torch.zeros(6, dtype=torch.bool), torch.ones(6, dtype=torch.bool))

    scheme = MaxAT(cifar10_threats(), attacks=[Shift(s) for s in shifted])
    loss, stats = scheme.training_loss(model, x, y, ctx(model=model))
    per = torch.stack([nn.functional.cross_entropy(model(s), y, reduction="none") for s in shifted])
    torch.testing.assert_close(loss, per.max(0).values.mean())
    assert sum(stats[f"share_{n}"] for n in ("Linf", "L2", "L1")) == pytest.approx(1.0)


def test_build_scheme_names_and_errors():
    t = cifar10_threats()
    for name in ("natural", "linf", "l2", "l1", "eat", "max", "avg", "msd", "sat"):
        assert build_scheme(name, t) is not None
    assert "@45" in build_scheme("l2-eat", t, switch_epoch=45).name
    with pytest.raises(ValueError, match="unknown scheme 'trades'"):
        build_scheme("trades", t)
    with pytest.raises(ValueError, match="switch_epoch"):
        build_scheme("l2-eat", t)
    with pytest.raises(ValueError, match="L1Ball and a LinfBall"):
        EAT(LinfBall(0.1), L1Ball(1))
