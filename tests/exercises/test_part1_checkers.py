"""Part I checkers: right answers pass, typical mistakes get a hint, and no message prints the answer."""
import math

import numpy as np
import pytest
import torch

from lpgeom.exercises import check_eps1_for_l2_cover, check_hull_gauge, check_union_radius
from lpgeom.exercises.hull import (
    best_p_for_gain, check_best_p_for_gain, check_hull_vertices_2d, check_theorem_3_1, check_worst_case_margin,
)
from lpgeom.exercises.norms import check_linf_box_projection, check_lp_norm
from lpgeom.geometry import hull_radius, union_radius


def _theorem(eps1, eps_inf, p):
    k = math.floor(eps1 / eps_inf)
    alpha, q = eps1 / eps_inf - k, p / (p - 1)
    return eps1 / (k + alpha**q) ** (1 / q)


def test_right_answers_pass():
    assert check_lp_norm(lambda v, p: float(np.linalg.norm(v, ord=p)))
    assert check_linf_box_projection(lambda z, x, e: torch.clamp(torch.minimum(torch.maximum(z, x - e), x + e), 0, 1))
    vertices = lambda e1, ei: np.array([[e1, 0], [-e1, 0], [0, e1], [0, -e1], [ei, ei], [ei, -ei], [-ei, ei], [-ei, -ei]])  # noqa: E731
    assert check_hull_vertices_2d(vertices)
    assert check_worst_case_margin(lambda w, b, e1, ei: b - max(e1 * np.abs(w).max(), ei * np.abs(w).sum()))
    assert check_theorem_3_1(_theorem)
    assert check_best_p_for_gain(best_p_for_gain(12, 8 / 255, 3072))


@pytest.mark.parametrize(
    "result, hint",
    [
        (lambda: check_lp_norm(lambda v, p: float(np.sum(np.abs(v) ** p))), "p-th root"),
        (lambda: check_lp_norm(lambda v, p: float(np.sum(v**p) ** (1 / p)) if p != math.inf else float(np.max(v))),
         "negative entries"),
        (lambda: check_linf_box_projection(lambda z, x, e: torch.clamp(z, x - e, x + e)), "leave the box"),
        (lambda: check_linf_box_projection(lambda z, x, e: torch.clamp(z, 0, 1)), "more than eps"),
        (lambda: check_linf_box_projection(lambda z, x, e: x), "not the nearest"),
        (lambda: check_hull_vertices_2d(lambda e1, ei: np.array([[e1, 0], [-e1, 0], [0, e1], [0, -e1]])), "4 corner"),
        (lambda: check_worst_case_margin(lambda w, b, e1, ei: b - e1 * np.abs(w).max()), "ball"),
        (lambda: check_theorem_3_1(lambda e1, ei, p: e1 / (math.floor(e1 / ei) + (e1 / ei % 1) ** p) ** ((p - 1) / p)),
         "dual exponent q"),
        (lambda: check_best_p_for_gain(2.0), "larger p"),
        (lambda: check_best_p_for_gain(math.inf), "gain 1"),
        (lambda: check_union_radius(lambda e1, ei, p, d: (ei**p + e1**p / (d - 1) ** (p - 1)) ** (1 / p)), "l_1 budget"),
        (lambda: check_hull_gauge(lambda x, e1, ei: np.abs(x).sum() / e1), "one ball alone"),
        (lambda: check_eps1_for_l2_cover(12, 8 / 255, 0.5, 3072), "not the smallest"),
    ],
)
def test_mistakes_get_a_hint(result, hint):
    verdict = result()
    assert not verdict and hint in verdict.message, verdict.message


def test_messages_do_not_print_the_answer():
    """The expected values (to 4 significant digits) appear in no failure message."""
    answers = {f"{union_radius(12, 8 / 255, 2, 3072):.4g}", f"{hull_radius(12, 8 / 255, 2, 3072):.4g}",
               f"{best_p_for_gain(12, 8 / 255, 3072):.3g}"}
    messages = [
        check_union_radius(lambda *a: 1.0).message,
        check_theorem_3_1(lambda *a: 1.0).message,
        check_best_p_for_gain(1.5).message,
        check_eps1_for_l2_cover(12, 8 / 255, 0.5, 3072).message,
        check_hull_gauge(lambda x, e1, ei: 0.5).message,
    ]
    for message in messages:
        assert not any(answer in message for answer in answers), message


def test_crashing_answers_are_reported():
    assert "ZeroDivisionError" in check_theorem_3_1(lambda *a: 1 / 0).message
    assert "ZeroDivisionError" in check_lp_norm(lambda *a: 1 / 0).message
    assert "shape" in check_linf_box_projection(lambda z, x, e: z[0]).message


def test_a_checker_judges_the_point_it_gave_not_one_the_answer_changed_in_place():
    """An answer that doubles x in place and returns the gauge of the doubled point is wrong (it passed)."""
    import numpy as np

    from lpgeom import hull_gauge
    from lpgeom.exercises import check_hull_gauge

    def twice_the_gauge(x, eps1, eps_inf):
        x *= 2
        return float(hull_gauge(np.asarray(x), eps1, eps_inf))

    assert not check_hull_gauge(twice_the_gauge).passed
    assert check_hull_gauge(lambda x, e1, ei: float(hull_gauge(x, e1, ei))).passed


@pytest.mark.parametrize("call", [
    lambda ex: ex.check_union_radius(lambda *a: 0.0, rtol=1.0),
    lambda ex: ex.check_union_radius(lambda *a: 0.0, rtol=float("nan")),
    lambda ex: ex.check_hull_gauge(lambda *a: 0.0, rtol=True),
    lambda ex: ex.check_eps1_for_l2_cover(1.0, 8 / 255, 0.5, 3072, slack=-1),
    lambda ex: ex.check_best_p_for_gain(2.0, rtol=10),
    lambda ex: ex.check_epoch_seconds(1.0, 1000, 0, 0.1),
    lambda ex: ex.check_epoch_seconds(1.0, 1000, 10, 0.1, rtol=0.5),
])
def test_checkers_refuse_tolerances_that_would_pass_wrong_answers_and_impossible_settings(call):
    import lpgeom.exercises as ex

    with pytest.raises(ValueError):
        call(ex)


def test_check_largest_union_gain_needs_the_table():
    import lpgeom.exercises as ex

    with pytest.raises(TypeError, match="Table 6"):
        ex.check_largest_union_gain("foo", None)
