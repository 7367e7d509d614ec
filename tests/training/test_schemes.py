import pytest
import torch
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from torch import nn

from lpgeom.attacks import PGD, SLIDE, AttackResult
from lpgeom.threats import L1Ball, L2Ball, LinfBall, ThreatUnion, cifar10_threats
from lpgeom.training import (EAT, SAT, AttackSteps, EATCalibration, MaxAT, MSDAT, NaturalTraining, SingleNormAT,
                             StepContext, StepStats, SwitchAt, build_scheme)

PAIR = ThreatUnion([L1Ball(1.0), LinfBall(0.1)])


class FixedAttack:
    """Returns the input unchanged and a chosen robust-correct pattern."""

    def __init__(self, robust: list[bool]):
        self.robust = torch.tensor(robust)
        self.calls = 0

    def __call__(self, model, x, y, *, generator=None):
        self.calls += 1
        return AttackResult(x_adv=x, loss=torch.zeros(len(x)), fooled=~self.robust, robust_all_iterates=self.robust)


def ctx(step=0, epoch=0, model=None):
    return StepContext(epoch=epoch, global_step=step, generator=torch.Generator().manual_seed(step), attack_model=model)


def batch():
    return torch.rand(4, 1, 2, 2, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 2, 0])


MODEL = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))


@given(st.integers(0, 50), st.integers(1, 50), st.integers(0, 50), st.integers(1, 50))
@hsettings(max_examples=60, deadline=None)
def test_eat_probabilities_follow_the_robust_errors(c1, s1, cinf, sinf):
    scheme = EAT(ThreatUnion([L1Ball(12), LinfBall(8 / 255)]))
    c1, cinf = min(c1, s1), min(cinf, sinf)
    scheme.counts = torch.tensor([[c1, s1], [cinf, sinf]], dtype=torch.float64)
    p = scheme.probabilities()
    r1, rinf = 1 - c1 / s1, 1 - cinf / sinf
    if r1 + rinf > 0:
        torch.testing.assert_close(p, torch.tensor([r1, rinf], dtype=torch.float64) / (r1 + rinf))
    assert float(p.sum()) == pytest.approx(1.0)


def test_eat_half_before_both_norms_seen_and_counts_accumulate_only_for_drawn_norm():
    a1, ainf = FixedAttack([True, False, False, False]), FixedAttack([True, True, True, False])
    scheme = EAT(PAIR, attacks=[a1, ainf])
    assert scheme.probabilities().tolist() == [0.5, 0.5]
    x, y = batch()
    history = []
    for step in range(40):
        before = scheme.counts.clone()
        _, stats = scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
        assert isinstance(stats, StepStats) and set(stats.p) == {"L1", "Linf"} and set(stats.batch_rerr) == {stats.norm}
        j = PAIR.names.index(stats.norm)
        assert torch.equal(scheme.counts[1 - j], before[1 - j])  # the other norm is untouched
        assert scheme.counts[j, 1] == before[j, 1] + 4  # never reset: cumulative
        history.append(stats.norm)
    assert a1.calls + ainf.calls == 40 and a1.calls > 0 and ainf.calls > 0
    # l1 robust error 0.75 vs linf 0.25: l1 drawn about 3 times as often
    torch.testing.assert_close(scheme.probabilities(), torch.tensor([0.75, 0.25], dtype=torch.float64))
    assert history.count("L1") > history.count("Linf")
    fresh = EAT(PAIR, attacks=[a1, ainf])
    fresh.load_state_dict(scheme.state_dict())
    assert torch.equal(fresh.counts, scheme.counts)
    with pytest.raises(ValueError, match="counts of shape"):
        EAT(cifar10_threats()).load_state_dict(scheme.state_dict())


def test_eat_draws_are_the_recorded_ones():
    """The draw of step t is torch.multinomial(p.float(), 1, generator seeded t), as the recorded runs drew."""
    scheme = EAT(PAIR, attacks=[FixedAttack([True, False, False, False]), FixedAttack([True, True, True, False])])
    x, y = batch()
    for step in range(30):
        p = scheme.probabilities()
        expected = int(torch.multinomial(p.float(), 1, generator=torch.Generator().manual_seed(step)))
        _, stats = scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
        assert stats.norm == PAIR.names[expected]


def test_eat_over_three_norms_and_its_errors():
    threats = cifar10_threats()
    attacks = [FixedAttack([True, True, True, False]), FixedAttack([False] * 4), FixedAttack([True, True, False, False])]
    scheme = EAT(threats, attacks=attacks)
    x, y = batch()
    for step in range(60):
        scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
    rerr = torch.tensor([0.25, 1.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(scheme.probabilities(), rerr / rerr.sum())
    with pytest.raises(TypeError, match="trains on a ThreatUnion"):
        EAT(L1Ball(1))
    with pytest.raises(ValueError, match="2 attacks given for 3 balls"):
        EAT(threats, attacks=attacks[:2])
    with pytest.raises(ValueError, match="sampling must be"):
        EAT(threats, sampling="greedy")


def test_sat_is_uniform_eat_with_the_recorded_draws_and_baseline_attacks():
    threats = cifar10_threats()
    scheme = SAT(threats, n_iter=3)
    assert [type(a) for a in scheme.attacks] == [PGD, PGD, SLIDE] and all(a.n_iter == 3 for a in scheme.attacks)
    fake = SAT(threats, attacks=[FixedAttack([True] * 4), FixedAttack([False] * 4), FixedAttack([True] * 4)])
    x, y = batch()
    for step in range(30):
        expected = int(torch.randint(3, (1,), generator=torch.Generator().manual_seed(step)))
        _, stats = fake.training_loss(MODEL, x, y, ctx(step, model=MODEL))
        assert stats.norm == threats.names[expected]
        assert fake.probabilities().tolist() == pytest.approx([1 / 3] * 3)  # the errors do not move it
    assert fake.describe()["scheme"] == "SAT" and fake.describe()["sampling"] == "uniform"


def test_p_floor_bounds_the_probabilities():
    scheme = EAT(PAIR, attacks=[FixedAttack([True] * 4), FixedAttack([False] * 4)], p_floor={"L1": 0.3})
    x, y = batch()
    for step in range(10):
        scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
    # errors: l1 0, linf 1 -> p_errors (0, 1); with the floor: 0.3 + 0.7 * (0, 1)
    torch.testing.assert_close(scheme.probabilities(), torch.tensor([0.3, 0.7], dtype=torch.float64))
    assert scheme.describe()["p_floor"] == {"L1": 0.3, "Linf": 0.0}
    with pytest.raises(ValueError, match="p_floor names"):
        EAT(PAIR, p_floor={"L2": 0.1})
    with pytest.raises(ValueError, match=r"p_floor must be a finite number in \[0, 0.5\], got 0.6"):
        EAT(PAIR, p_floor=0.6)  # one number for 2 norms: at most 1/2
    with pytest.raises(ValueError, match="the floors of p_floor must sum to at most 1"):
        EAT(PAIR, p_floor={"L1": 0.6, "Linf": 0.6})


def calibrated_scheme(every=3):
    """Training attacks say l_inf is the weak norm; the measuring attacks say l_1 is."""
    train_attacks = [FixedAttack([True] * 4), FixedAttack([False] * 4)]
    measure = {"L1": FixedAttack([False, False, False, True]), "Linf": FixedAttack([True, True, True, False])}
    return EAT(PAIR, attacks=train_attacks, calibration=EATCalibration(every=every, n_points=4, attacks=measure))


def test_calibration_sets_the_probabilities_from_the_measuring_attacks():
    plain = EAT(PAIR, attacks=[FixedAttack([True] * 4), FixedAttack([False] * 4)])
    scheme = calibrated_scheme()
    x, y = batch()
    for step in range(7):
        plain.training_loss(MODEL, x, y, ctx(step, model=MODEL))
        _, stats = scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
        assert stats.extra["calibrated_rerr_L1"] == 0.75 and stats.extra["calibrated_rerr_Linf"] == 0.25
    assert plain.probabilities()[0] == 0.0  # the weak training attack never breaks l_1
    torch.testing.assert_close(scheme.probabilities(), torch.tensor([0.75, 0.25], dtype=torch.float64))
    measure = scheme.calibration.attacks
    assert measure["L1"].calls == 3 and measure["Linf"].calls == 3  # steps 0, 3, 6
    described = scheme.describe()["calibration"]
    assert described["every"] == 3 and described["attacks given for"] == ["L1", "Linf"]
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        EATCalibration(every=0)


def test_calibrated_eat_resumes_with_the_same_draws():
    x, y = batch()
    whole = calibrated_scheme(every=4)
    draws = [whole.training_loss(MODEL, x, y, ctx(s, model=MODEL))[1].norm for s in range(10)]
    first = calibrated_scheme(every=4)
    resumed_draws = [first.training_loss(MODEL, x, y, ctx(s, model=MODEL))[1].norm for s in range(6)]
    state = first.state_dict()
    assert set(state) == {"counts", "calibrated"}
    second = calibrated_scheme(every=4)
    second.load_state_dict(state)
    resumed_draws += [second.training_loss(MODEL, x, y, ctx(s, model=MODEL))[1].norm for s in range(6, 10)]
    assert resumed_draws == draws
    torch.testing.assert_close(second.counts, whole.counts)
    torch.testing.assert_close(second.calibrated, whole.calibrated)
    with pytest.raises(ValueError, match="state needs keys"):
        EAT(PAIR).load_state_dict(state)


def test_switch_changes_scheme_at_the_epoch():
    scheme = SwitchAt(NaturalTraining(), SingleNormAT(LinfBall(0.1), attack=FixedAttack([True] * 4)), epoch=2)
    x, y = batch()
    assert scheme.training_loss(MODEL, x, y, ctx(epoch=1, model=MODEL))[1].phase == "natural"
    assert scheme.training_loss(MODEL, x, y, ctx(epoch=2, model=MODEL))[1].phase == "Linf-AT"
    with pytest.raises(ValueError, match="switch_epoch must be an integer >= 0, got -1"):
        SwitchAt(NaturalTraining(), NaturalTraining(), epoch=-1)


class Shift:
    def __init__(self, target):
        self.target = target

    def __call__(self, m, xx, yy, *, generator=None):
        n = len(xx)
        return AttackResult(self.target, torch.zeros(n), torch.zeros(n, dtype=torch.bool), torch.ones(n, dtype=torch.bool))


def test_max_takes_the_per_example_highest_loss_and_reports_the_shares():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x, y = torch.rand(6, 1, 2, 2), torch.randint(0, 3, (6,))
    shifted = [x, x + 0.3, x - 0.3]
    scheme = MaxAT(cifar10_threats(), attacks=[Shift(s) for s in shifted])
    loss, stats = scheme.training_loss(model, x, y, ctx(model=model))
    per = torch.stack([nn.functional.cross_entropy(model(s), y, reduction="none") for s in shifted])
    torch.testing.assert_close(loss, per.max(0).values.mean())
    which = per.argmax(0)
    for i, name in enumerate(("Linf", "L2", "L1")):
        assert float(stats.share[name]) == pytest.approx(float((which == i).float().mean()))
    assert sum(stats.to_floats()[f"share_{n}"] for n in ("Linf", "L2", "L1")) == pytest.approx(1.0)


def test_msd_reports_the_share_of_steps_per_norm():
    class Chooser:
        def __call__(self, model, x, y, *, generator=None):
            n = len(x)
            return AttackResult(x, torch.zeros(n), torch.zeros(n, dtype=torch.bool), torch.tensor([True, False, True, True]),
                                stats={"chosen": {"Linf": torch.tensor(6), "L2": torch.tensor(2), "L1": torch.tensor(12)}})

    x, y = batch()
    _, stats = MSDAT(cifar10_threats(), attack=Chooser()).training_loss(MODEL, x, y, ctx(model=MODEL))
    assert stats.to_floats() == pytest.approx({"share_Linf": 0.3, "share_L2": 0.1, "share_L1": 0.6, "rerr_union": 0.25})


def test_attack_steps():
    steps = AttackSteps.of(5, l1_steps=15)
    assert [steps.for_ball(b) for b in cifar10_threats()] == [5, 5, 15]
    assert AttackSteps.of(10).describe() == 10 and steps.describe() == {"default": 5, "L1": 15}
    with pytest.raises(ValueError, match=r"n_iter must be an integer in \[1, 1000000000\], got 0"):
        AttackSteps(0)


def test_build_scheme_names_and_errors():
    t = cifar10_threats()
    for name in ("natural", "linf", "l2", "l1", "eat", "max", "avg", "msd", "sat", "eat-calibrated", "eat-all"):
        assert build_scheme(name, t) is not None
    assert "@45" in build_scheme("l2-eat", t, switch_epoch=45).name
    eat = build_scheme("eat", t, n_iter=5, l1_steps=15)
    assert isinstance(eat, EAT) and eat.threats.names == ("L1", "Linf") and [a.n_iter for a in eat.attacks] == [15, 5]
    assert build_scheme("eat-all", t).threats.names == ("Linf", "L2", "L1")
    assert build_scheme("l1", t, n_iter=5, l1_steps=15).attack.n_iter == 15
    with pytest.raises(ValueError, match="l1_steps"):  # l_inf-AT has no l_1 attack: refused, not ignored
        build_scheme("linf", t, n_iter=5, l1_steps=15)
    assert build_scheme("max", t, switch_epoch=None).describe()["scheme"] == "MAX"  # None: not given
    with pytest.raises(ValueError, match="unknown scheme 'trades'"):
        build_scheme("trades", t)
    with pytest.raises(ValueError, match="switch_epoch"):
        build_scheme("l2-eat", t)
    with pytest.raises(ValueError, match="scheme 'max' takes no setting 'switch_epoch'; it accepts: n_iter, l1_steps"):
        build_scheme("max", t, switch_epoch=3)
    with pytest.raises(ValueError, match="scheme 'msd' takes no setting 'l1_steps'"):
        build_scheme("msd", t, l1_steps=3)
    with pytest.raises(ValueError, match=r"n_iter must be an integer in \[1, 1000000000\], got 0"):
        build_scheme("eat", t, n_iter=0)


def test_singles_and_describe_name_their_settings():
    t = ThreatUnion([L2Ball(0.5), LinfBall(0.1), L1Ball(3.0)])
    assert build_scheme("l2", t, n_iter=7).describe() == {"scheme": "L2-AT", "eps": 0.5, "n_iter": 7}
    assert build_scheme("eat", t).describe() == {"scheme": "E-AT", "eps_L1": 3.0, "eps_Linf": 0.1, "n_iter": 10}


def test_msd_is_the_papers_by_default_and_the_topk_variant_by_name():
    t = cifar10_threats()
    assert build_scheme("msd", t).attack.l1_step == "slide" and "l1_step" not in build_scheme("msd", t).describe()
    topk = build_scheme("msd-topk", t, n_iter=3)
    assert topk.attack.l1_step == "topk" and topk.describe()["l1_step"] == "topk" and topk.attack.n_iter == 3


def test_attacks_get_a_generator_seeded_from_the_step():
    seeds = []

    class Recorder(FixedAttack):
        def __call__(self, model, x, y, *, generator=None):
            seeds.append(generator.initial_seed())
            return super().__call__(model, x, y)

    x, y = batch()
    scheme = EAT(PAIR, attacks=[Recorder([True] * 4), Recorder([True] * 4)])
    for step in (3, 7):
        scheme.training_loss(MODEL, x, y, ctx(step, model=MODEL))
    assert seeds == [3, 7]


def test_msd_training_draws_from_the_step_generator():
    """Maini et al.'s top-k step draws k per iteration from the generator of the training step."""
    from lpgeom.attacks import MSD

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 3))
    x, y = torch.rand(8, 3, 4, 4, generator=torch.Generator().manual_seed(2)), torch.arange(8) % 3
    threats = ThreatUnion([LinfBall(0.03), L2Ball(0.3), L1Ball(2.0)])
    scheme = build_scheme("msd-topk", threats, n_iter=5)
    direct = MSD(threats, n_iter=5, l1_step="topk")
    for step in (5, 6):
        loss, stats = scheme.training_loss(model, x, y, ctx(step, model=model))
        expected = direct(model, x, y, generator=torch.Generator().manual_seed(step))
        torch.testing.assert_close(loss, nn.functional.cross_entropy(model(expected.x_adv), y))
        total = sum(float(c) for c in expected.stats["chosen"].values())
        assert stats.to_floats()["share_L1"] == pytest.approx(float(expected.stats["chosen"]["L1"]) / total)


def test_shares_are_logged_per_step_and_averaged_per_epoch(tmp_path):
    from torch.utils.data import TensorDataset

    from lpgeom.training import TrainConfig, read_metrics, train

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    data = TensorDataset(torch.rand(12, 1, 2, 2), torch.randint(0, 3, (12,)))

    class Shifted:
        def __init__(self, shift):
            self.shift = shift

        def __call__(self, m, xx, yy, *, generator=None):
            n = len(xx)
            return AttackResult((xx + self.shift).clamp(0, 1), torch.zeros(n), torch.zeros(n, dtype=torch.bool),
                                torch.ones(n, dtype=torch.bool))

    scheme = MaxAT(cifar10_threats(), attacks=[Shifted(0.0), Shifted(0.5), Shifted(-0.5)])
    train(model, data, scheme, TrainConfig(epochs=1, batch_size=4, lr=0.1, progress=False, log_every=1), tmp_path)
    steps, epoch = read_metrics(tmp_path, "step"), read_metrics(tmp_path, "epoch")[0]
    assert len(steps) == 3
    for name in ("Linf", "L2", "L1"):
        assert epoch[f"share_{name}"] == pytest.approx(sum(s[f"share_{name}"] for s in steps) / 3)
    assert sum(epoch[f"share_{n}"] for n in ("Linf", "L2", "L1")) == pytest.approx(1.0)


def test_calibration_with_its_default_attack_measures_a_real_model():
    """l_inf radius tiny, l_1 radius large: the strong attack finds l_1 errors, so l_1 is drawn more."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    x = torch.rand(16, 1, 4, 4, generator=torch.Generator().manual_seed(3))
    y = model(x).argmax(1)  # every point correct at the start
    threats = ThreatUnion([L1Ball(8.0), LinfBall(1e-4)])
    scheme = EAT(threats, n_iter=2, calibration=EATCalibration(every=10, n_points=16, n_iter=10))
    _, stats = scheme.training_loss(model, x, y, ctx(0, model=model))
    rerr = stats.to_floats()
    assert rerr["calibrated_rerr_L1"] > 0.5 and rerr["calibrated_rerr_Linf"] == 0.0
    assert scheme.probabilities().tolist() == [1.0, 0.0]


@pytest.mark.parametrize("build, message", [
    (lambda: EAT(L1Ball(1)), "EAT trains on a ThreatUnion"),
    (lambda: SAT([L1Ball(1), LinfBall(0.1)]), "SAT needs a ThreatUnion"),
    (lambda: MaxAT(L1Ball(1)), "MaxAT needs a ThreatUnion"),
    (lambda: MSDAT(cifar10_threats().names), "MSDAT needs a ThreatUnion"),
    (lambda: SingleNormAT("L1"), "SingleNormAT trains against an LpBall"),
    (lambda: EAT(cifar10_threats(), calibration={"every": 3}), "calibration must be an EATCalibration"),
])
def test_a_value_of_the_wrong_kind_is_a_type_error_naming_it(build, message):
    """These were ValueErrors (EAT's docstring already promised a TypeError for the calibration), while the
    registry, ThreatUnion and the attacks raise TypeError for the wrong kind of value."""
    with pytest.raises(TypeError, match=message):
        build()
