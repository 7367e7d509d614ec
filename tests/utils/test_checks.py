"""The generic argument checks live in the bottom layer; the geometry's names still reach them."""
import numpy as np
import pytest

import lpgeom.geometry as geometry
from lpgeom.utils import check_bool, check_integer, check_real


def test_geometry_exports_the_same_checks():
    assert geometry.check_integer is check_integer and geometry.check_real is check_real
    assert check_integer(np.int64(3), "n") == 3 and check_real(np.float32(0.5), "x", 0, 1) == 0.5


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_takes_python_and_numpy_bools(value):
    result = check_bool(value, "augment")
    assert result is bool(value) and type(result) is bool


@pytest.mark.parametrize("value, shown", [("no", "'no' (str)"), (1, "1 (int)"), (None, "None (NoneType)"),
                                          (0.0, "0.0 (float)")])
def test_check_bool_refuses_truthy_look_alikes(value, shown):
    with pytest.raises(TypeError, match=rf"^augment must be True or False, got {shown}$".replace("(", r"\(").replace(")", r"\)")):
        check_bool(value, "augment")


def test_every_true_or_false_check_is_the_one_check():
    """The recipes, E-AT's calibration, APGD's rules and the attack settings refuse a non-bool the same way."""
    from lpgeom.attacks.settings import check_flag
    from lpgeom.threats import SMOOTH_APGD
    from lpgeom.training import EATCalibration
    from lpgeom.training.recipes import paper_recipe

    for call in (lambda: check_flag("yes", "random_start"), lambda: paper_recipe("finetune", "cifar10", large_model=1),
                 lambda: SMOOTH_APGD.__class__(**{**SMOOTH_APGD.__dict__, "adaptive_sparsity": "no"}),
                 lambda: EATCalibration(random_start=0)):
        with pytest.raises(TypeError, match=r"must be True or False, got .* \((str|int)\)$"):
            call()
