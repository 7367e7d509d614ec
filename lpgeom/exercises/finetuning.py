"""Checkers for the fine-tuning, CIFAR-10 and ImageNet chapters (Part II).

The learning-rate schedule of the fine-tuning recipe, reading the recorded Table 6
analogue, the cost of an epoch from a measured step time, where a RobustBench checkpoint
lies, and whether the ImageNet radii's hull covers the l_2 threat model.
"""
from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Callable

from ..utils import check_integer, check_real
from ._answers import AnswerError, as_bool, as_function, as_number, tolerance
from .geometry import CheckResult, checked_tolerance

__all__ = ["check_finetune_lr", "check_largest_union_gain", "check_epoch_seconds", "check_robustbench_path",
           "check_hull_covers_l2"]


def check_finetune_lr(lr_fn: Callable[[int, int, float], float]) -> CheckResult:
    """Check ``lr_fn(step, total_steps, lr0)`` against the recipe's schedule (:class:`lpgeom.training.PiecewiseLR`)."""
    from ..training import PiecewiseLR

    try:
        as_function(lr_fn)
    except AnswerError as err:
        return CheckResult(False, str(err))
    for total, lr0 in ((1173, 0.05), (5005, 0.01), (9, 0.1), (300, 0.01)):
        schedule = PiecewiseLR(lr0, (1 / 3, 2 / 3))
        for step in sorted({0, 1, total // 3 - 1, total // 3, math.ceil(total / 3), total // 2, 2 * total // 3,
                            math.ceil(2 * total / 3), total - 1}):
            try:
                result = lr_fn(step, total, lr0)
            except Exception as err:  # a student's function may fail in any way: report it
                return CheckResult(False, f"your function raised {type(err).__name__}: {err} (step {step} of {total})")
            try:
                got, precision = as_number(result, "your function's result")
            except AnswerError as err:
                return CheckResult(False, f"{err} (step {step} of {total})")
            want = schedule(step / total)
            if not math.isclose(got, want, rel_tol=tolerance(1e-9, precision)):
                where = "first" if step < total / 3 else ("second" if step < 2 * total / 3 else "last")
                return CheckResult(False, f"at step {step} of {total} (lr0 = {lr0:g}), in the {where} third of training, "
                                          f"you give {got:g}")
    return CheckResult(True, "your schedule matches the fine-tuning recipe's on 4 runs, including the steps at the thirds")


def check_largest_union_gain(answer: str, frame) -> CheckResult:
    """Check ``answer``: the starting model whose union accuracy E-AT fine-tuning raises most in ``frame``.

    ``frame`` is the recorded Table 6 analogue (:func:`lpgeom.experiments.results_frame`): rows
    ``"<start>"`` and ``"<start> + FT ..."``, a ``union`` column.
    """
    if not hasattr(frame, "groupby") or not {"model", "union"} <= set(getattr(frame, "columns", ())):
        raise TypeError(f"frame must be the recorded Table 6 analogue (a DataFrame with 'model' and 'union' columns), "
                        f"got {type(frame).__name__}")
    rows = frame.groupby("model")["union"].mean()
    starts = [m for m in rows.index if "+ FT" not in m]
    gains = {s: rows[[m for m in rows.index if m.startswith(f"{s} + FT")]].mean() - rows[s] for s in starts}
    gains = {s: g for s, g in gains.items() if g == g}
    if answer is None:
        return CheckResult(False, "your answer is None: replace the placeholder with a row label of the table")
    if not isinstance(answer, str):
        return CheckResult(False, f"give the row label as a string (e.g. {next(iter(gains), 'l_2-AT')!r}), "
                                  f"got {type(answer).__name__}")
    if answer not in gains:
        return CheckResult(False, f"{answer!r} is not a starting model of the table; choose one of {', '.join(gains)}")
    best = max(gains, key=gains.get)
    if answer != best:
        return CheckResult(False, f"fine-tuning raises the union accuracy of {answer} by {gains[answer]:.1f} points; "
                                  "another starting model gains more")
    return CheckResult(True, f"right: {answer} gains {gains[answer]:.1f} points of union accuracy, the most")


def check_epoch_seconds(answer: float, n_images: int, batch_size: int, step_seconds: float, rtol: float = 1e-4) -> CheckResult:
    """Check ``answer``: seconds of one epoch of ``n_images`` in batches of ``batch_size`` at ``step_seconds`` per step.

    The last, smaller batch is a step too.
    """
    n_images, batch_size = check_integer(n_images, "n_images"), check_integer(batch_size, "batch_size")
    step_seconds = check_real(step_seconds, "step_seconds", 0, low_open=True)
    rtol = checked_tolerance("rtol", rtol, 1e-2)
    want = math.ceil(n_images / batch_size) * step_seconds
    try:
        answer, precision = as_number(answer)
    except AnswerError as err:
        return CheckResult(False, str(err))
    rtol = tolerance(rtol, precision)
    if n_images % batch_size and math.isclose(answer, n_images / batch_size * step_seconds, rel_tol=1e-6):
        return CheckResult(False, "close: the last, incomplete batch is a whole step too")
    if math.isclose(answer, want, rel_tol=rtol):
        return CheckResult(True, f"right: about {answer:.0f} s per epoch")
    if math.isclose(answer, n_images * step_seconds, rel_tol=rtol):
        return CheckResult(False, "you charge one step per image: a step processes a whole batch")
    if math.isclose(answer, want / 60, rel_tol=rtol) or math.isclose(answer, want / 3600, rel_tol=rtol):
        return CheckResult(False, "give the answer in seconds")
    return CheckResult(False, f"{answer:g} s is off by a factor {answer / want:.2f}")


def check_robustbench_path(path_fn: Callable[[str, str, str, str], str | os.PathLike]) -> CheckResult:
    """Check ``path_fn(name, dataset, threat_model, model_dir)``: where RobustBench keeps a checkpoint."""
    from ..models import robustbench_path

    try:
        as_function(path_fn)
    except AnswerError as err:
        return CheckResult(False, str(err))
    for args in (("Carmon2019Unlabeled", "cifar10", "Linf", "models"),
                 ("Gowal2020Uncovering_70_16_extra", "cifar10", "Linf", "/data/zoo"),
                 ("Engstrom2019Robustness", "imagenet", "Linf", "models")):
        try:
            got = pathlib.Path(path_fn(*args))
        except Exception as err:  # a student's function may fail in any way: report it
            return CheckResult(False, f"your function raised {type(err).__name__}: {err}")
        want = robustbench_path(*args)
        if got == want:
            continue
        if got.suffix != ".pt":
            return CheckResult(False, f"for {args[0]}: RobustBench files end in .pt")
        if got.stem != args[0]:
            return CheckResult(False, f"for {args[0]}: the file is named after the whole model name, underscores included")
        return CheckResult(False, f"for {args[0]} ({args[1]}, {args[2]}) the folders are not RobustBench's layout: "
                                  f"you give {got}")
    return CheckResult(True, "your paths follow RobustBench's layout for 3 models")


def check_hull_covers_l2(answer_radius: float, answer_covered: bool, eps1: float, eps_inf: float, eps2: float, d: int,
                         rtol: float = 1e-4) -> CheckResult:
    """Check the radius of the l_2 ball inscribed in the hull of B_1(eps1) and B_inf(eps_inf) in dimension d,
    and whether it covers the l_2 threat model of radius ``eps2``."""
    from ..geometry import hull_radius, union_radius

    rtol = checked_tolerance("rtol", rtol, 1e-2)
    want = hull_radius(eps1, eps_inf, 2, d)
    try:
        radius, precision = as_number(answer_radius, "your radius")
        covered = as_bool(answer_covered, "your answer to 'is it covered?'")
    except AnswerError as err:
        return CheckResult(False, str(err))
    rtol = tolerance(rtol, precision)
    if not math.isclose(radius, want, rel_tol=rtol):
        if math.isclose(radius, union_radius(eps1, eps_inf, 2, d), rel_tol=rtol):
            return CheckResult(False, "that is the radius inscribed in the union (Proposition 3.1); the question is about the hull")
        return CheckResult(False, f"{radius:.4g} is not the hull's inscribed l_2 radius (Theorem 3.1) for "
                                  f"eps1 = {eps1:g}, eps_inf = {eps_inf:.4g}, d = {d}")
    if covered != (want >= eps2):
        return CheckResult(False, f"the radius is right; compare it with eps_2 = {eps2:g} again")
    return CheckResult(True, f"right: the hull contains the l_2 ball of radius {want:.3f}, "
                             f"{'so' if want >= eps2 else 'but'} eps_2 = {eps2:g} is {'' if want >= eps2 else 'not '}inside it")
