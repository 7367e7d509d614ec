"""Every checker reads a reader's answer one way: any correct number passes whatever its type or float dtype,
placeholders and wrong kinds get a verdict (never a raw error), strings are never booleans, ties in float32 hold."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from lpgeom.exercises import (check_best_p_for_gain, check_curve_reading, check_eat_sampler, check_eps1_for_l2_cover,
                              check_epoch_seconds, check_finetune_lr, check_hull_covers_l2, check_hull_gauge,
                              check_hull_vertices_2d, check_l2_steepest_ascent, check_largest_union_gain,
                              check_linf_box_projection, check_linf_pgd_step, check_lp_norm,
                              check_robustbench_path, check_running_robust_error, check_theorem_3_1,
                              check_union_accuracy, check_union_radius, check_worst_case_margin, best_p_for_gain,
                              minimal_eps1_for_l2_cover)
from lpgeom.geometry import hull_gauge, hull_radius, union_radius


def _theorem(eps1, eps_inf, p):
    k = math.floor(eps1 / eps_inf)
    alpha, q = eps1 / eps_inf - k, p / (p - 1)
    return eps1 / (k + alpha**q) ** (1 / q)


def _rerr(history):
    c, n = [0, 0], [0, 0]
    for j, a, b in history:
        c[j] += a
        n[j] += b
    return [1 - c[j] / n[j] for j in (0, 1)]


def _sampler(correct, seen):
    if 0 in seen:
        return 0.5, 0.5
    r = [1 - correct[j] / seen[j] for j in (0, 1)]
    return (0.5, 0.5) if sum(r) <= 0 else (r[0] / sum(r), r[1] / sum(r))


def _lr(step, total, lr0):
    return lr0 * 0.1 ** sum(step / total >= m for m in (1 / 3, 2 / 3))


def _union(flags):
    return float(torch.stack([f for k, f in flags.items() if k != "clean"]).all(0).float().mean())


#: checkers taking a function returning one number, with a right function
NUMBER_FUNCTIONS = {
    "union_radius": (check_union_radius, lambda e1, ei, p, d: union_radius(e1, ei, p, d)),
    "hull_gauge": (check_hull_gauge, lambda x, e1, ei: float(hull_gauge(x, e1, ei))),
    "worst_margin": (check_worst_case_margin, lambda w, b, e1, ei: b - max(e1 * np.abs(w).max(), ei * np.abs(w).sum())),
    "theorem_3_1": (check_theorem_3_1, _theorem),
    "lp_norm": (check_lp_norm, lambda v, p: float(np.linalg.norm(v, ord=p))),
    "finetune_lr": (check_finetune_lr, _lr),
    "union_accuracy": (check_union_accuracy, _union),
}

#: every kind a number may come in (as a reader's code produces it)
KINDS = {
    "python float": float,
    "numpy float64": np.float64,
    "numpy float32": np.float32,
    "0-d numpy float64": lambda v: np.array(v, dtype=np.float64),
    "0-d numpy float32": lambda v: np.array(v, dtype=np.float32),
    "0-d torch float64": lambda v: torch.tensor(v, dtype=torch.float64),
    "0-d torch float32": lambda v: torch.tensor(v, dtype=torch.float32),
}


@pytest.mark.parametrize("checker", sorted(NUMBER_FUNCTIONS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_right_function_passes_whatever_type_its_number_has(checker, kind):
    check, solution = NUMBER_FUNCTIONS[checker]
    convert = KINDS[kind]
    verdict = check(lambda *args: convert(solution(*args)))
    assert verdict, verdict.message


@pytest.mark.parametrize("checker", sorted(NUMBER_FUNCTIONS))
@pytest.mark.parametrize("result, phrase", [
    (None, "None"), ("0.5", "string"), (True, "boolean"), (np.array([0.5]), "one number"),
    (torch.tensor([0.5, 0.5]), "one number"), ([0.5], "give a number"), (np.float16(0.5), "float32 or float64"),
    (torch.tensor(1 + 2j), "real number"),
])
def test_a_function_returning_no_number_gets_a_verdict(checker, result, phrase):
    check, _ = NUMBER_FUNCTIONS[checker]
    verdict = check(lambda *args: result)
    assert not verdict and phrase in verdict.message, verdict.message


ALL_FUNCTION_CHECKERS = [check_union_radius, check_hull_gauge, check_worst_case_margin, check_theorem_3_1, check_lp_norm,
                         check_finetune_lr, check_union_accuracy, check_hull_vertices_2d, check_linf_box_projection,
                         check_linf_pgd_step, check_l2_steepest_ascent, check_running_robust_error, check_eat_sampler,
                         check_robustbench_path]


@pytest.mark.parametrize("check", ALL_FUNCTION_CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("answer, phrase", [(None, "placeholder"), (0.5, "give a function")])
def test_a_placeholder_in_place_of_a_function_gets_a_verdict(check, answer, phrase):
    verdict = check(answer)
    assert not verdict and phrase in verdict.message, verdict.message


@pytest.mark.parametrize("check", ALL_FUNCTION_CHECKERS, ids=lambda c: c.__name__)
def test_a_function_returning_none_gets_a_verdict(check):
    verdict = check(lambda *args: None)
    assert not verdict and "None" in verdict.message, verdict.message


def _eps1():
    return minimal_eps1_for_l2_cover(8 / 255, 0.5, 3072)


NUMBER_ANSWERS = {
    "eps1_for_l2_cover": (lambda a: check_eps1_for_l2_cover(a, eps_inf=8 / 255, eps2=0.5, d=3072), _eps1),
    "best_p_for_gain": (check_best_p_for_gain, lambda: best_p_for_gain(12, 8 / 255, 3072)),
    "epoch_seconds": (lambda a: check_epoch_seconds(a, 50_000, 128, 0.1284), lambda: math.ceil(50_000 / 128) * 0.1284),
    "hull_covers_l2": (lambda a: check_hull_covers_l2(a, True, 255, 4 / 255, 2, 150528),
                       lambda: hull_radius(255, 4 / 255, 2, 150528)),
    "curve_reading": (lambda a: check_curve_reading(a, [0.5, 1.0, 1.5], [0.7, 0.64, 0.6], 0.65), lambda: 1.0),
}


@pytest.mark.parametrize("checker", sorted(NUMBER_ANSWERS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_right_number_passes_whatever_its_type(checker, kind):
    check, right = NUMBER_ANSWERS[checker]
    verdict = check(KINDS[kind](right()))
    assert verdict, verdict.message


def test_exact_numbers_pass():
    assert check_epoch_seconds(Fraction(391 * 1284, 10000), 50_000, 128, 0.1284)
    assert check_curve_reading(1, [0.5, 1.0, 1.5], [0.7, 0.64, 0.6], 0.65)


@pytest.mark.parametrize("checker", sorted(NUMBER_ANSWERS))
@pytest.mark.parametrize("answer, phrase", [(None, "placeholder"), ("1.0", "string"), (np.array([1.0]), ".item()"),
                                            (True, "boolean"), ({"eps": 1}, "give a number")])
def test_a_number_answer_of_the_wrong_kind_gets_a_verdict(checker, answer, phrase):
    check, _ = NUMBER_ANSWERS[checker]
    verdict = check(answer)
    assert not verdict and phrase in verdict.message, verdict.message


@pytest.mark.parametrize("covered", ["no", "yes", "True", "", 1, 0, None, np.array([True]), [True]])
def test_a_boolean_is_never_read_from_a_string_or_number(covered):
    verdict = check_hull_covers_l2(hull_radius(255, 4 / 255, 2, 150528), covered, 255, 4 / 255, 2, 150528)
    assert not verdict and ("True or False" in verdict.message or "placeholder" in verdict.message), verdict.message


@pytest.mark.parametrize("covered", [True, np.bool_(True), torch.tensor(True), np.array(True)])
def test_a_boolean_of_any_kind_passes(covered):
    assert check_hull_covers_l2(hull_radius(255, 4 / 255, 2, 150528), covered, 255, 4 / 255, 2, 150528)


def test_the_audits_string_no_is_not_the_answer_covered():
    radius = hull_radius(12, 8 / 255, 2, 3072)  # 0.614 >= 0.5: covered, the right answer is True
    assert not check_hull_covers_l2(radius, "no", 12, 8 / 255, 0.5, 3072)
    radius = hull_radius(6, 8 / 255, 2, 3072)  # below 0.5: not covered
    assert not check_hull_covers_l2(radius, "no", 6, 8 / 255, 0.5, 3072)
    assert check_hull_covers_l2(radius, False, 6, 8 / 255, 0.5, 3072)


def _project(z, x, e):
    return torch.minimum(torch.maximum(z, x - e), x + e).clamp(0, 1)


def _pgd(xa, x, g, e, s):
    return torch.minimum(torch.maximum(xa + s * g.sign(), x - e), x + e).clamp(0, 1)


def _direction(g):
    return g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)


TENSOR_CHECKERS = {"projection": (check_linf_box_projection, _project), "pgd": (check_linf_pgd_step, _pgd),
                   "direction": (check_l2_steepest_ascent, _direction)}


@pytest.mark.parametrize("checker", sorted(TENSOR_CHECKERS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_tensor_answer_computed_in_any_float_dtype_passes(checker, dtype):
    check, solution = TENSOR_CHECKERS[checker]

    def answer(*args):  # the reader converts the inputs first, as a float64 notebook would
        return solution(*[a.to(dtype) if isinstance(a, torch.Tensor) else a for a in args])

    verdict = check(answer)
    assert verdict, verdict.message


@pytest.mark.parametrize("checker", sorted(TENSOR_CHECKERS))
@pytest.mark.parametrize("result, phrase", [(lambda out: out.half(), "float32 or float64"),
                                            (lambda out: out.numpy(), "expected a torch.Tensor"),
                                            (lambda out: out.long(), "floating point"),
                                            (lambda out: out[:1], "shape")])
def test_a_tensor_answer_of_the_wrong_kind_gets_a_verdict(checker, result, phrase):
    check, solution = TENSOR_CHECKERS[checker]
    verdict = check(lambda *args: result(solution(*args)))
    assert not verdict and phrase in verdict.message, verdict.message


def test_float32_vertices_pass():
    def vertices(e1, ei):
        tips = [[e1, 0], [-e1, 0], [0, e1], [0, -e1]]
        return np.array(tips + [[sx * ei, sy * ei] for sx in (-1, 1) for sy in (-1, 1)], dtype=np.float32)

    assert check_hull_vertices_2d(vertices)
    assert check_hull_vertices_2d(lambda e1, ei: torch.from_numpy(vertices(e1, ei)))


@pytest.mark.parametrize("pair", [list, tuple, np.array, torch.tensor, lambda v: np.array(v, dtype=np.float32),
                                  lambda v: torch.tensor(v, dtype=torch.float32)])
def test_pairs_pass_in_any_container_and_float_dtype(pair):
    assert check_running_robust_error(lambda h: pair(_rerr(h)))
    assert check_eat_sampler(lambda c, s: pair(list(_sampler(c, s))))


@pytest.mark.parametrize("result, phrase", [("0.5", "two numbers"), ((0.5, "0.5"), "string"), ((0.5,), "two numbers"),
                                            (np.zeros((2, 1)), "two numbers")])
def test_pairs_of_the_wrong_kind_get_a_verdict(result, phrase):
    for check in (check_running_robust_error, check_eat_sampler):
        verdict = check(lambda *args: result)
        assert not verdict and phrase in verdict.message, verdict.message


def test_largest_union_gain_refuses_a_non_string_with_a_verdict():
    import pandas as pd

    frame = pd.DataFrame({"model": ["A", "A + FT E-AT"], "union": [10.0, 20.0]})
    assert check_largest_union_gain("A", frame)
    for answer in (None, ["A"], 1):
        verdict = check_largest_union_gain(answer, frame)
        assert not verdict and ("placeholder" in verdict.message or "string" in verdict.message)


# ties: an exact count stored as float32 is not below the level it equals
CURVE_EPS = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
CURVE_COUNTS = [742, 707, 681, 650, 608, 551]  # the recorded cpu E-AT curve of the evaluation chapter, out of 1000


@pytest.mark.parametrize("store", [lambda c: float(np.float32(c / 1000)), lambda c: c / 1000,
                                   lambda c: float(torch.tensor(c, dtype=torch.float32) / 1000)])
@pytest.mark.parametrize("n_points", [None, 1000])
def test_curve_reading_treats_an_exact_tie_in_float32_as_not_below(store, n_points):
    accuracy = [store(c) for c in CURVE_COUNTS]
    assert float(np.float32(0.65)) < 0.65  # the trap: 650/1000 in float32 is 0.6499999761
    right = check_curve_reading(1.25, CURVE_EPS, accuracy, level=0.65, n_points=n_points)
    assert right, right.message
    tie = check_curve_reading(1.0, CURVE_EPS, accuracy, level=0.65, n_points=n_points)
    assert not tie and "not below 65%" in tie.message and "exactly the level" in tie.message


def test_curve_reading_refuses_accuracies_that_are_not_counts():
    with pytest.raises(ValueError, match="n_points"):
        check_curve_reading(1.0, [1.0, 2.0], [0.6, 0.5], 0.65, n_points=True)
    with pytest.raises(ValueError, match="counts"):
        check_curve_reading(1.0, [1.0, 2.0], [0.6001, 0.5], 0.65, n_points=1000)


@pytest.mark.parametrize("n", [50, 200, 1000])
def test_union_accuracy_passes_float32_and_exact_counts_alike(n):
    def exact(flags):
        norms = [f for k, f in flags.items() if k != "clean"]
        return int(torch.stack(norms).all(0).sum()) / len(norms[0])

    def float32_mean(flags):
        return np.float32(_union(flags))

    assert check_union_accuracy(exact)
    assert check_union_accuracy(float32_mean)
    assert check_union_accuracy(lambda f: Fraction(exact(f)).limit_denominator(1000))
