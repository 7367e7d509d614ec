"""Every checker of Parts I and II is importable from lpgeom.exercises itself."""
import importlib
import pkgutil

import pytest

import lpgeom.exercises as exercises


def _modules():
    return [m.name for m in pkgutil.iter_modules(exercises.__path__)]


def test_every_chapter_module_is_covered():
    assert {"attacks", "evaluation", "training", "finetuning", "geometry", "hull", "norms"} <= set(_modules())


@pytest.mark.parametrize("module", _modules())
def test_every_checker_is_reexported(module):
    mod = importlib.import_module(f"lpgeom.exercises.{module}")
    for name in mod.__all__:
        assert name in exercises.__all__, f"lpgeom.exercises does not export {module}.{name}"
        assert getattr(exercises, name) is getattr(mod, name)


def test_part2_checkers_from_the_package():
    from lpgeom.exercises import check_eat_sampler, check_finetune_lr, check_linf_pgd_step, check_union_accuracy

    assert all(callable(f) for f in (check_eat_sampler, check_finetune_lr, check_linf_pgd_step, check_union_accuracy))
    with pytest.raises(AttributeError, match="no attribute 'check_nothing'"):
        exercises.check_nothing  # noqa: B018
