"""The scheme registry and the paper's recipes."""
import pytest

from lpgeom.threats import cifar10_threats, imagenet_threats
from lpgeom.training import (NaturalTraining, SchemeCost, build_scheme, finetune_recipe, paper_recipe, register_scheme,
                             scheme_labels, scheme_names, scheme_spec, scratch_recipe)
from lpgeom.training import registry


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_every_scheme_has_a_label_and_a_cost_class():
    names = scheme_names()
    assert {"natural", "linf", "l2", "l1", "eat", "l2-eat", "max", "avg", "msd", "sat", "eat-calibrated"} <= set(names)
    assert scheme_labels()["eat"] == "E-AT (l_1 + l_inf)" and set(scheme_labels()) == set(names)
    assert scheme_spec("EAT").cost is SchemeCost.SINGLE and scheme_spec("max").cost is SchemeCost.ALL_NORMS
    assert scheme_spec("natural").cost is SchemeCost.NONE and scheme_spec("l2-eat").settings == (
        "n_iter", "l1_steps", "switch_epoch")


def test_a_registered_scheme_is_built_by_name(clean_registry):
    @register_scheme("toy", label="toy", cost="none")
    def toy(threats, scale: float = 1.0):
        scheme = NaturalTraining()
        scheme.scale = scale
        return scheme

    assert "toy" in scheme_names() and build_scheme("toy", cifar10_threats(), scale=2.0).scale == 2.0
    with pytest.raises(ValueError, match="already registered"):
        register_scheme("toy", label="t", cost="none")
    with pytest.raises(ValueError, match="cost 'cheap' of scheme 'other' is not one of none, single, all-norms"):
        register_scheme("other", label="o", cost="cheap")
    with pytest.raises(ValueError, match="lower-case"):
        register_scheme("Other", label="o", cost="none")


def test_recipes_hold_the_papers_numbers():
    scratch = paper_recipe("scratch", "cifar10")
    assert (scratch.epochs, scratch.lr, scratch.milestones, scratch.batch_size, scratch.weight_decay) == (
        80, 0.05, (70 / 80,), 128, 5e-4)
    assert scratch.augment and scratch.switch_epoch() == 45 and scratch.switch_epoch(5) == 3
    ft = paper_recipe("finetune", "cifar10")
    assert (ft.epochs, ft.lr, ft.milestones, ft.n_iter, ft.l1_steps) == (3, 0.05, (1 / 3, 2 / 3), 10, None)
    assert paper_recipe("finetune", "cifar10", large_model=True).lr == 0.01
    inet = paper_recipe("finetune", "imagenet")
    assert (inet.epochs, inet.lr, inet.batch_size, inet.weight_decay, inet.n_iter, inet.l1_steps) == (
        1, 0.01, 256, 1e-4, 5, 15)
    assert not paper_recipe("finetune", "fashion_mnist").augment
    with pytest.raises(ValueError, match="recipe kind"):
        paper_recipe("warmup")


def test_recipes_build_configs_and_schemes():
    config = finetune_recipe("imagenet", seed=3)
    assert (config.epochs, config.lr, config.batch_size, config.seed) == (1, 0.01, 256, 3)
    assert scratch_recipe(5).epochs == 5 and scratch_recipe().milestones == (70 / 80,)
    inet = paper_recipe("finetune", "imagenet")
    eat = inet.build_scheme("eat", imagenet_threats())
    assert [a.n_iter for a in eat.attacks] == [15, 5]
    assert inet.scheme_settings("msd") == {"n_iter": 5}  # MSD takes no l_1 step count
    scratch = paper_recipe("scratch", "cifar10")
    assert scratch.scheme_settings("l2-eat", epochs=5) == {"n_iter": 10, "switch_epoch": 3}
    assert "@45" in scratch.build_scheme("l2-eat", cifar10_threats()).name
    assert scratch.build_scheme("linf", cifar10_threats(), n_iter=3).attack.n_iter == 3  # overrides win
    assert scratch.replace(lr=0.1, epochs=None).lr == 0.1 and scratch.replace(epochs=None).epochs == 80


# --- hostile settings (issue 13): one sentence naming the setting, never a raw error or a silent scheme ----

BIG = 10**400


@pytest.mark.parametrize("name, missing", [("linf", "Linf"), ("l1", "L1"), ("eat", "L1 and no Linf"),
                                           ("eat-calibrated", "L1 and no Linf"), ("l2-eat", "L1 and no Linf")])
def test_a_union_without_the_balls_a_scheme_needs_is_refused(name, missing):
    from lpgeom.threats import LpBall, ThreatUnion

    only_l2 = ThreatUnion([LpBall(2, 0.5)])
    with pytest.raises(ValueError, match=rf"scheme {name!r} trains against the .* this union has no {missing} ball "
                                         r"\(it has L2\)"):
        build_scheme(name, only_l2, switch_epoch=3 if name == "l2-eat" else None)  # was: a raw KeyError


@pytest.mark.parametrize("threats", [list(cifar10_threats()), None, cifar10_threats()["L1"]])
@pytest.mark.parametrize("name", ["natural", "linf", "eat", "max", "msd", "sat"])
def test_threats_must_be_a_union(name, threats):
    with pytest.raises(TypeError, match=rf"scheme {name!r} needs threats as a ThreatUnion .*cifar10_threats\(\)"):
        build_scheme(name, threats)  # was: "list indices must be integers", "'NoneType' object is not subscriptable"


@pytest.mark.parametrize("name", [None, 3, ["eat"]])
def test_scheme_names_must_be_strings(name):
    with pytest.raises(TypeError, match="a scheme name must be a string, got .*; choose one of natural"):
        build_scheme(name, cifar10_threats())  # was: unhashable type: 'list' for a list


@pytest.mark.parametrize("settings, error, message", [
    ({"p_floor": "0.3"}, TypeError, r"p_floor must be a finite number in \[0, 0.5\], got '0.3' \(str\)"),  # was: taken
    ({"p_floor": BIG}, ValueError, "p_floor must be a finite number in .*beyond the float range"),  # OverflowError
    ({"p_floor": True}, TypeError, r"got True \(bool\)"),
    ({"p_floor": {"L1": True}}, TypeError, r"p_floor\['L1'\] must be a finite number in \[0, 1\], got True"),  # was 1.0
    ({"p_floor": {"L1": "a"}}, TypeError, r"p_floor\['L1'\] must be .*got 'a' \(str\)"),  # was: float()'s message
    ({"p_floor": [0.3]}, TypeError, r"got \[0.3\] \(list\)"),
    ({"n_iter": True}, TypeError, r"n_iter must be an integer in \[1, 1000000000\], got True \(bool\)"),
    ({"l1_steps": 2.5}, TypeError, r"l1_steps must be an integer in \[1, 1000000000\], got 2.5 \(float\)"),
    ({"n_iter": BIG}, ValueError, r"n_iter must be an integer in \[1, 1000000000\]"),
])
def test_eat_settings_are_checked(settings, error, message):
    with pytest.raises(error, match=message):
        build_scheme("eat", cifar10_threats(), **settings)


def test_numpy_integers_are_counts():
    import numpy as np

    assert build_scheme("eat", cifar10_threats(), n_iter=np.int64(3)).steps.default == 3  # was: refused


def test_switch_epoch_is_checked():
    with pytest.raises(TypeError, match=r"switch_epoch must be an integer >= 0, got True \(bool\)"):
        build_scheme("l2-eat", cifar10_threats(), switch_epoch=True)
    with pytest.raises(ValueError, match=r"switch_epoch must be an integer >= 0 and at most 2\*\*63 - 1"):
        build_scheme("l2-eat", cifar10_threats(), switch_epoch=BIG)  # was: accepted


@pytest.mark.parametrize("options, error, message", [
    ({"random_start": "yes"}, TypeError, "EATCalibration random_start must be True or False, got 'yes'"),  # was: taken
    ({"n_iter": BIG}, ValueError, r"EATCalibration n_iter must be an integer in \[1, 1000000000\]"),  # was: taken
    ({"attacks": {"L1": 3}}, TypeError, r"EATCalibration attacks\['L1'\] must be an attack"),  # was: taken
    ({"attacks": [1]}, TypeError, "EATCalibration attacks must map ball names to attacks, got list"),
    ({"every": True}, TypeError, r"EATCalibration every must be an integer >= 1, got True \(bool\)"),
])
def test_calibration_options_are_checked(options, error, message):
    from lpgeom.training import EATCalibration

    with pytest.raises(error, match=message):
        EATCalibration(**options)


def test_attacks_given_to_schemes_must_be_attacks():
    from lpgeom.training import EAT, EATCalibration, SwitchAt
    from lpgeom.training.baselines import MaxAT
    from lpgeom.training.schemes import NaturalTraining

    t = cifar10_threats()
    with pytest.raises(TypeError, match=r"attacks\[0\] must be an attack .*got 1 \(int\)"):
        EAT(t, attacks=[1, 2, 3])  # was: accepted, failing at the first training step
    with pytest.raises(TypeError, match=r"attacks\[0\] must be an attack"):
        MaxAT(t, attacks=[1, 2, 3])
    with pytest.raises(ValueError, match=r"calibration attacks name \['L7'\], not balls of this union"):
        EAT(t, calibration=EATCalibration(attacks={"L7": lambda *a, **k: None}))  # was: silently unused
    with pytest.raises(TypeError, match=r"SwitchAt's first must be a Scheme, got 3 \(int\)"):
        SwitchAt(3, NaturalTraining(), 1)  # was: AttributeError


@pytest.mark.parametrize("counts, message", [
    ([[float("nan")] * 2] * 3, "EAT counts must be finite, >= 0, with robust <= seen per ball"),
    ([[-1.0, -1.0]] * 3, "EAT counts must be finite"),
    ([[5.0, 1.0], [0, 0], [0, 0]], "robust <= seen"),  # was: loaded, probabilities from a negative error
])
def test_a_scheme_state_that_no_run_can_make_is_refused(counts, message):
    import torch

    from lpgeom.training import EAT

    with pytest.raises(ValueError, match=message):
        EAT(cifar10_threats()).load_state_dict({"counts": torch.tensor(counts, dtype=torch.float64)})
    with pytest.raises(TypeError, match=r"EAT state\['counts'\] must be a tensor, got list"):
        EAT(cifar10_threats()).load_state_dict({"counts": counts})  # was: AttributeError


def test_attack_steps_keys_are_ball_names():
    from lpgeom.training.schemes import AttackSteps

    with pytest.raises(ValueError, match="per_norm keys must be ball names as ball.name spells them"):
        AttackSteps(5, {1: 3})  # was: accepted and never used
    with pytest.raises(TypeError, match="per_norm must map ball names to attack steps, got list"):
        AttackSteps(5, [3])


@pytest.mark.parametrize("call, error, message", [
    (lambda: paper_recipe("finetune", None), TypeError, "dataset must be a string"),  # was: the CIFAR-10 numbers
    (lambda: paper_recipe("finetune", "cifar10", large_model="yes"), TypeError, "large_model must be True or False"),
    (lambda: paper_recipe("scratch").switch_epoch(-5), ValueError, "epochs must be an integer >= 1, got -5"),  # was -3
    (lambda: paper_recipe("scratch").switch_epoch(True), TypeError, r"got True \(bool\)"),  # was: 1
    (lambda: paper_recipe("scratch").replace(lr=float("nan")), ValueError, "lr must be a finite number > 0"),  # was nan
    (lambda: paper_recipe("scratch").replace(milestones=(0.9, 0.1)), ValueError, "milestones must be increasing"),
])
def test_recipes_check_their_numbers(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("kwargs, message", [
    ({"name": 3, "label": "x", "cost": "none"}, "scheme names are non-empty lower-case strings, got 3"),
    ({"name": "zz", "label": None, "cost": "none"}, "the label of scheme 'zz' must be a non-empty string"),
    ({"name": "zz", "label": "x", "cost": "none", "norms": ("L7x",)}, "norms of scheme 'zz' must be a tuple of ball"),
    ({"name": "zz", "label": "x", "cost": "none", "norms": "L1"}, "norms of scheme 'zz' must be a tuple"),
])
def test_register_scheme_checks_its_arguments(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=message):
        register_scheme(name, **kwargs)


@pytest.mark.parametrize("dataset", ["mnist", "cifar-10", "", "CIFAR10"])
def test_an_unknown_dataset_gets_no_recipe(dataset):
    """Was: the CIFAR-10 numbers for any name (a typo silently fine-tuned with CIFAR-10's lr and epochs)."""
    with pytest.raises(ValueError, match="dataset must be one of cifar10, imagenet, fashion_mnist"):
        finetune_recipe(dataset)
    assert finetune_recipe("fashion_mnist").epochs == 3 and not scratch_recipe(5).augment


def test_only_schemes_with_an_l1_attack_take_l1_steps():
    """l_inf-AT and l_2-AT have no l_1 attack: --l1-steps for them was accepted and ignored."""
    from lpgeom.threats import cifar10_threats
    from lpgeom.training import build_scheme, scheme_spec

    assert "l1_steps" not in scheme_spec("linf").settings and "l1_steps" not in scheme_spec("l2").settings
    assert "l1_steps" in scheme_spec("l1").settings and "l1_steps" in scheme_spec("eat").settings
    with pytest.raises(ValueError, match="l1_steps"):
        build_scheme("linf", cifar10_threats(), l1_steps=3)
    assert build_scheme("l1", cifar10_threats(), n_iter=10, l1_steps=3).describe()


def test_a_scheme_in_a_new_file_is_discovered_without_an_import(clean_registry, monkeypatch, tmp_path):
    """discover_schemes imports every module of a package: a file defining a scheme is all it takes."""
    package = tmp_path / "lpgeom_plugins_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probe_scheme.py").write_text(
        "from lpgeom.training import NaturalTraining, SchemeOption, register_scheme\n"
        "@register_scheme('probe-scheme', label='probe', cost='none',\n"
        "                 options=(SchemeOption('strength', '--probe-strength', float, 'a probe'),))\n"
        "def _probe(threats, strength: float = 1.0):\n"
        "    scheme = NaturalTraining()\n"
        "    scheme.strength = strength\n"
        "    return scheme\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_DISCOVERED", set(registry._DISCOVERED))
    from lpgeom.training import discover_schemes, scheme_options

    assert "probe-scheme" not in scheme_names()
    assert discover_schemes("lpgeom_plugins_probe") == ("probe-scheme",)
    assert discover_schemes("lpgeom_plugins_probe") == ()  # once per package
    assert build_scheme("probe-scheme", cifar10_threats(), strength=3.0).strength == 3.0
    assert any(o.flag == "--probe-strength" for o in scheme_options())


def test_the_built_in_schemes_need_no_import_in_the_package_init():
    """A fresh interpreter: ``import lpgeom.training`` does not import ramp.py, yet the registry lists ramp."""
    import subprocess
    import sys

    code = ("import sys, lpgeom.training as t; before = 'lpgeom.training.ramp' in sys.modules; "
            "print(before, 'ramp' in t.scheme_names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_scheme_options_are_checked():
    from lpgeom.training import SchemeOption

    with pytest.raises(ValueError, match="flag must be '--name'"):
        SchemeOption("x", "-x")
    with pytest.raises(ValueError, match="options of scheme 'optioned' must be SchemeOptions of its settings"):
        register_scheme("optioned", label="o", cost="none", options=(SchemeOption("missing", "--missing"),))(
            lambda threats, present=1: None)
