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
