"""Part II checkers accept right answers and name the mistake in typical wrong ones (without the answer)."""
import math

import pytest
import torch

from lpgeom.exercises.attacks import check_l2_steepest_ascent, check_linf_pgd_step
from lpgeom.exercises.evaluation import check_curve_reading, check_union_accuracy
from lpgeom.exercises.finetuning import (check_epoch_seconds, check_finetune_lr, check_hull_covers_l2,
                                         check_robustbench_path)
from lpgeom.exercises.training import check_eat_sampler, check_running_robust_error


def pgd(xa, x, g, e, s):
    return torch.min(torch.max(xa + s * g.sign(), x - e), x + e).clamp(0, 1)


def rerr(history):
    c, n = [0, 0], [0, 0]
    for j, a, b in history:
        c[j] += a
        n[j] += b
    return [1 - c[j] / n[j] for j in (0, 1)]


def sampler(correct, seen):
    if 0 in seen:
        return 0.5, 0.5
    r = [1 - correct[j] / seen[j] for j in (0, 1)]
    return (0.5, 0.5) if sum(r) <= 0 else (r[0] / sum(r), r[1] / sum(r))


def lr(step, total, lr0):
    return lr0 * 0.1 ** sum(step / total >= m - 1e-12 for m in (1 / 3, 2 / 3))


def test_right_answers_pass():
    assert check_linf_pgd_step(pgd)
    assert check_l2_steepest_ascent(lambda g: g / g.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
    assert check_union_accuracy(lambda f: float(torch.stack([f[k] for k in f if k != "clean"]).all(0).float().mean()))
    assert check_curve_reading(1.0, [0.5, 1.0, 1.5], [0.7, 0.64, 0.6], 0.65)
    assert check_running_robust_error(rerr)
    assert check_eat_sampler(sampler)
    assert check_finetune_lr(lr)
    assert check_epoch_seconds(math.ceil(50000 / 128) * 0.13, 50000, 128, 0.13)
    assert check_robustbench_path(lambda n, d, t, m: f"{m}/{d}/{t}/{n}.pt")


@pytest.mark.parametrize("result, phrase", [
    (lambda: check_linf_pgd_step(lambda xa, x, g, e, s: (xa + s * g.sign()).clamp(0, 1)), "leaves the l_inf ball"),
    (lambda: check_linf_pgd_step(lambda xa, x, g, e, s: torch.min(torch.max(xa + s * g, x - e), x + e).clamp(0, 1)), "sign"),
    (lambda: check_linf_pgd_step(lambda xa, x, g, e, s: torch.min(torch.max(xa + s * g.sign(), x - e), x + e)), "box"),
    (lambda: check_l2_steepest_ascent(lambda g: g / g.norm()), "each example"),
    (lambda: check_l2_steepest_ascent(lambda g: g.sign() / g.sign().flatten(1).norm(dim=1).view(-1, 1, 1, 1)), "parallel"),
    (lambda: check_union_accuracy(lambda f: min(float(f[k].float().mean()) for k in f if k != "clean")), "upper bound"),
    (lambda: check_union_accuracy(lambda f: float(torch.stack([f[k] for k in f if k != "clean"]).any(0).float().mean())), "all of them"),
    (lambda: check_curve_reading(1.5, [0.5, 1.0, 1.5], [0.7, 0.64, 0.6], 0.65), "smaller radius"),
    (lambda: check_curve_reading(0.5, [0.5, 1.0, 1.5], [0.7, 0.64, 0.6], 0.65), "larger radii"),
    (lambda: check_running_robust_error(lambda h: [1 - e for e in rerr(h)]), "robust *error*"),
    (lambda: check_eat_sampler(lambda c, s: (0.5, 0.5)), "differ"),
    (lambda: check_eat_sampler(lambda c, s: tuple(1 - p for p in sampler(c, s))), "better"),
    (lambda: check_finetune_lr(lambda s, t, l: l), "third"),
    (lambda: check_epoch_seconds(50000 / 128 * 0.13, 50000, 128, 0.13), "incomplete batch"),
    (lambda: check_robustbench_path(lambda n, d, t, m: f"{m}/{t}/{d}/{n}.pt"), "layout"),
])
def test_wrong_answers_say_what_is_wrong(result, phrase):
    verdict = result()
    assert not verdict and phrase in verdict.message


def test_hull_cover_and_a_crashing_answer():
    import lpgeom

    r = lpgeom.hull_radius(255, 4 / 255, 2, 150528)
    assert check_hull_covers_l2(r, True, 255, 4 / 255, 2.0, 150528)
    assert "union" in check_hull_covers_l2(lpgeom.union_radius(255, 4 / 255, 2, 150528), True, 255, 4 / 255, 2.0, 150528).message
    assert "raised ZeroDivisionError" in check_eat_sampler(lambda c, s: (1 / 0, 0)).message


def test_check_epoch_seconds_refuses_bad_settings_in_one_sentence():
    from lpgeom.exercises.finetuning import check_epoch_seconds

    with pytest.raises(ValueError, match="n_images must be an integer >= 1, got 0"):
        check_epoch_seconds(1.0, 0, 1, 1.0)
    with pytest.raises(TypeError, match="batch_size must be"):
        check_epoch_seconds(1.0, 10, 2.0, 1.0)
    with pytest.raises(ValueError, match="step_seconds must be a finite number > 0"):
        check_epoch_seconds(1.0, 10, 2, 0.0)
