import numpy as np
import pytest

from lpgeom import hull_gauge, hull_radius, union_radius
from lpgeom.exercises import (CheckResult, check_eps1_for_l2_cover, check_hull_gauge, check_union_radius,
                              minimal_eps1_for_l2_cover)


def test_right_answers_pass():
    assert check_union_radius(union_radius).passed
    assert check_hull_gauge(lambda x, a, b: float(hull_gauge(x, a, b))).passed


def test_wrong_answers_say_what_is_wrong():
    result = check_union_radius(lambda e1, ei, p, d: (ei**p + e1**p / (d - 1) ** (p - 1)) ** (1 / p))
    assert not result and "you give" in result.message and repr(result).startswith("❌")
    crash = check_hull_gauge(lambda x, a, b: 1 / 0)
    assert not crash and "ZeroDivisionError" in crash.message
    assert isinstance(crash, CheckResult)


def test_minimal_eps1_is_minimal():
    eps1 = minimal_eps1_for_l2_cover(8 / 255, 0.5, 3072)
    assert hull_radius(eps1, 8 / 255, 2, 3072) == pytest.approx(0.5, rel=1e-9)
    assert hull_radius(eps1 * 0.99, 8 / 255, 2, 3072) < 0.5
    assert check_eps1_for_l2_cover(eps1, 8 / 255, 0.5, 3072).passed
    assert "not the smallest" in check_eps1_for_l2_cover(12, 8 / 255, 0.5, 3072).message
    assert "only covers" in check_eps1_for_l2_cover(5, 8 / 255, 0.5, 3072).message
    with pytest.raises(ValueError, match="no eps1"):
        minimal_eps1_for_l2_cover(8 / 255, 50, 3072)
