"""Clean, per-norm and union robust accuracy: AutoAttack as in the paper, the full standard AutoAttack, or lpgeom's APGD."""
from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from ..attacks import APGD
from ..attacks.model_mode import eval_mode
from ..attacks.settings import target_count
from ..threats import LpBall, ThreatUnion
from ..utils import resolve_device
from ..utils.progress import progress_bar
from .checks import gradient_masking_warnings, validate_evaluation_inputs, validate_evaluation_options
from .report import RobustnessReport
from .sanity import CROSS_CHECK_POINTS, CROSS_CHECK_QUERIES, SanityVerdict, judge_cross_check, masking_checks

__all__ = ["evaluate_robustness", "autoattack_points", "standard_autoattack_points", "apgd_points", "square_points",
           "cross_check_points", "METHODS", "DEFAULT_ITERATIONS"]

#: ``"autoattack"``: the paper's evaluation (pyautoattack's APGD-CE + APGD-T);
#: ``"autoattack-standard"``: pyautoattack's full standard AutoAttack (+ FAB-T, Square);
#: ``"apgd"``: lpgeom's APGD-CE + APGD-DLR, fast, for monitoring.
METHODS = ("autoattack", "autoattack-standard", "apgd")
DEFAULT_ITERATIONS = {"autoattack": 100, "autoattack-standard": 100, "apgd": 20}
#: the fewest classes a method works with: APGD-DLR needs 3, AutoAttack's targeted DLR 4
MIN_CLASSES = {"autoattack": 4, "autoattack-standard": 4, "apgd": 3}
PAPER_ATTACKS = ("apgd-ce", "apgd-t")
STANDARD_ATTACKS = ("apgd-ce", "apgd-t", "fab-t", "square")
SQUARE_QUERIES_PER_ITERATION = 50  # AutoAttack's standard: 5000 queries for 100 iterations


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class _LogCollector(logging.Handler):
    """Collects pyautoattack's log records (its checks warn through the ``auto-attack`` logger)."""

    def __init__(self, on_stage: Callable[[str], None] | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.on_stage = on_stage

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if self.on_stage is not None:
            found = _AFTER.match(record.getMessage())
            if found:  # one attack of the list finished on every batch
                self.on_stage(found.group(1).lower())


_AFTER = re.compile(r"robust accuracy after ([A-Z-]+): ([0-9.]+)%")


def _stage_counter(bar, stages: int) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(callback for one finished attack, call at the end to count the attacks pyautoattack skipped)."""
    done = [0]

    def finished(name: str) -> None:
        if done[0] < stages:
            done[0] += 1
            bar.update(1)
        bar.set_postfix_str(f"{name} done")

    def rest() -> None:
        if done[0] < stages:
            bar.update(stages - done[0])
            done[0] = stages

    return finished, rest


class _Float32View(nn.Module):
    """A model of another floating dtype as pyautoattack needs it: float32 in, float32 out.

    pyautoattack builds its buffers in float32 (its starting points, step sizes, Square's
    perturbations), so a float64 or half-precision model fails inside it with a dtype error.
    The view casts each input to the model's dtype and the logits to float32; gradients flow
    through both casts. The points it returns are cast back and projected onto ball ∩ box in
    the model's dtype by the caller.
    """

    def __init__(self, model: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.model, self.dtype = model, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.to(self.dtype)).float()


def _as_float32(model: nn.Module, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
    """(model, x) as pyautoattack can run them: unchanged for float32, else a :class:`_Float32View` and x in float32."""
    return (model, x) if x.dtype == torch.float32 else (_Float32View(model, x.dtype), x.float())


def _back_to(x_adv: torch.Tensor, x: torch.Tensor, ball: LpBall) -> torch.Tensor:
    """pyautoattack's float32 points in ``x``'s dtype, projected onto ball ∩ box there (the cast moves them by a rounding)."""
    if x_adv.dtype == x.dtype:
        return x_adv
    return ball.project(x_adv.to(x.dtype), x)


def _run_autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, attacks: Sequence[str],
                    n_iter: int, seed: int, batch_size: int, device: str | torch.device,
                    n_target_classes: int | None, progress: bool | None = None,
                    on_stage: Callable[[str], None] | None = None) -> tuple[torch.Tensor, list[str], dict[str, float]]:
    """pyautoattack's AutoAttack with its standard settings for ``ball``'s norm, restricted to ``attacks``.

    The standard version sets the per-norm rules (l_1: 5 APGD-CE restarts, 5 target classes,
    growing radii; l_inf, l_2: 1 restart, 9 target classes); ``attacks`` only selects which of
    them run. The standard number of target classes is capped at the model's classes minus one
    (every other class), an explicit ``n_target_classes`` above that is refused. The model runs
    in eval mode (every submodule's mode restored afterwards) and the caller's global random
    state is left untouched (pyautoattack reseeds it).

    Returns
    -------
    x_adv : torch.Tensor, shape (N, C, H, W)
        Adversarial points (``x`` where none was found).
    warnings : list[str]
        What pyautoattack's own checks warned about.
    after : dict[str, float]
        pyautoattack's own robust accuracy after each attack, on these N points (its flags,
        for the record only: the caller decides robustness by re-running the model).
    """
    from pyautoattack import AutoAttack

    validate_evaluation_inputs(model, x, y, [ball])  # a public entry too: pyautoattack's own errors are raw
    net, x32 = _as_float32(model, x)
    adversary = AutoAttack(net, norm=ball.autoattack_norm, eps=ball.eps, version="standard", seed=seed, device=device)
    adversary.attacks_to_run = list(attacks)
    if "square" in adversary.attacks_to_run and not square_fits(x, ball.autoattack_norm):
        raise ValueError(f"AutoAttack's {ball.autoattack_norm} Square needs images of at least {SQUARE_MIN_SIDE}x{SQUARE_MIN_SIDE} pixels, "
                         f"x has shape {tuple(x.shape)}: evaluate with method='autoattack' or 'apgd'")
    with torch.no_grad(), eval_mode(model):
        n_classes = model(x[:1].to(device)).shape[1]
    if n_classes < MIN_CLASSES["autoattack"]:
        raise ValueError(f"AutoAttack's APGD-T (targeted DLR) needs a model with at least {MIN_CLASSES['autoattack']} "
                         f"classes, this one has {n_classes}: evaluate with method='apgd'")
    adversary.apgd_targeted.n_target_classes = target_count(n_target_classes, ball.autoattack_target_classes, n_classes)
    adversary.fab.n_target_classes = min(adversary.fab.n_target_classes, n_classes - 1)  # standard: 9, every norm
    for attack in (adversary.apgd, adversary.apgd_targeted, adversary.fab):
        attack.n_iter = n_iter
    adversary.square.n_queries = SQUARE_QUERIES_PER_ITERATION * n_iter
    own_bar = None
    if on_stage is None:  # called on its own: a bar over the attacks of the list (each runs on every batch)
        own_bar = progress_bar(total=len(attacks), desc=f"AutoAttack {ball.name}", unit="attack", progress=progress,
                               leave=True)
        on_stage, finish = _stage_counter(own_bar, len(attacks))
    logger, collector = logging.getLogger("auto-attack"), _LogCollector(on_stage)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collector)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        rng_devices = _reseeded_cuda_devices(device)
        with torch.random.fork_rng(devices=rng_devices), eval_mode(model):  # pyautoattack never calls model.eval()
            x_adv, _ = adversary.run_standard_evaluation(x32.contiguous(), y.contiguous(), batch_size=batch_size)
        x_adv = _back_to(x_adv, x, ball)
    finally:
        logger.removeHandler(collector)
        logger.setLevel(level)
        logger.propagate = propagate
        if own_bar is not None:
            finish()
            own_bar.close()
    messages = list(dict.fromkeys(f"pyautoattack ({ball.name}): {r.getMessage()}" for r in collector.records
                                  if r.levelno >= logging.WARNING))  # its checks repeat per restart
    after = {}
    for record in collector.records:
        found = _AFTER.match(record.getMessage())
        if found:
            after[found.group(1).lower()] = float(found.group(2)) / 100
    return x_adv, messages, after


def _reseeded_cuda_devices(device: str | torch.device) -> list[int]:
    """The CUDA devices whose global random state pyautoattack may reseed, for ``fork_rng`` to restore.

    pyautoattack calls ``torch.cuda.random.manual_seed(seed)`` whatever device it runs on, which
    seeds the *current* CUDA device (or, before CUDA is initialised, queues that seed for the
    moment it is): on a machine with CUDA, an evaluation on the CPU or on another GPU than the
    current one would otherwise change the caller's CUDA random state. So: the evaluation
    device if it is a GPU, and the current CUDA device wherever CUDA is available (asking for
    it initialises CUDA). Empty without CUDA.
    """
    if not torch.cuda.is_available():
        return []
    devices = {torch.cuda.current_device()}  # also what a bare "cuda" means
    resolved = torch.device(device)
    if resolved.type == "cuda" and resolved.index is not None:
        devices.add(resolved.index)
    return sorted(devices)


def autoattack_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int = 100,
                      seed: int = 0, batch_size: int = 500, device: str | torch.device = "cpu",
                      n_target_classes: int | None = None, progress: bool | None = None,
                      on_stage: Callable[[str], None] | None = None) -> torch.Tensor:
    """Adversarial points from pyautoattack's APGD-CE + APGD-T (targeted DLR), as the paper evaluates.

    AutoAttack's standard settings for the norm (l_1: 5 restarts, 5 target classes and the
    growing-radius schedule; l_inf and l_2: one restart and 9 target classes), restricted to
    the two APGDs. ``n_target_classes`` overrides the number of target classes of APGD-T (a
    cheaper, weaker evaluation; the report records it). ``progress``: a tqdm bar (ETA) over
    the attacks, on stderr (``None``: :func:`lpgeom.utils.progress.progress_enabled`);
    ``on_stage(name)`` is called instead when each attack has run on every batch.

    Returns
    -------
    torch.Tensor, shape (N, C, H, W)
        The adversarial points (the original image where none was found).
    """
    return _run_autoattack(model, x, y, ball, PAPER_ATTACKS, n_iter, seed, batch_size, device, n_target_classes,
                           progress, on_stage)[0]


def standard_autoattack_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int = 100,
                               seed: int = 0, batch_size: int = 500, device: str | torch.device = "cpu",
                               progress: bool | None = None, on_stage: Callable[[str], None] | None = None
                               ) -> tuple[torch.Tensor, list[str], dict[str, float]]:
    """Adversarial points from pyautoattack's full standard AutoAttack for ``ball``'s norm.

    APGD-CE, APGD-T, FAB-T and Square (for l_1 AutoAttack's standard l_1 version: APGD with
    5 restarts and growing radii, 5 target classes for APGD-T), each run on the points the
    previous ones left robust. ``n_iter`` sets the iterations of APGD and FAB (standard:
    100) and Square's query budget, 50 per iteration (standard: 5000). ``progress`` and
    ``on_stage`` as in :func:`autoattack_points`.

    Returns
    -------
    x_adv : torch.Tensor, shape (N, C, H, W)
    warnings : list[str]
        pyautoattack's own checks (e.g. Square succeeding where the gradient attacks failed,
        a sign of gradient masking).
    after : dict[str, float]
        pyautoattack's own robust accuracy on these points after each attack.
    """
    return _run_autoattack(model, x, y, ball, STANDARD_ATTACKS, n_iter, seed, batch_size, device, None, progress,
                           on_stage)


def apgd_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int = 20, seed: int = 0,
                batch_size: int = 500, on_stage: Callable[[str], None] | None = None) -> torch.Tensor:
    """Adversarial points from lpgeom's APGD-CE then APGD-DLR (fast mode for monitoring; no targets).

    The model runs in eval mode (every submodule's mode restored afterwards), as inside the attacks.

    Returns
    -------
    torch.Tensor, shape (N, C, H, W)
        Per point, the first point found that fools the model (else ``x``).
    """
    out = x.clone()
    with eval_mode(model):
        for loss in ("ce", "dlr"):
            attack = APGD(ball, n_iter=n_iter, loss=loss, random_start=False, seed=seed)
            for sl in _batches(len(x), batch_size):
                with torch.no_grad():
                    still = model(out[sl]).argmax(1) == y[sl]
                if still.any():
                    idx = still.nonzero().squeeze(1)
                    result = attack(model, x[sl][idx], y[sl][idx])
                    fooled = result.fooled.reshape(-1, *[1] * (x.ndim - 1))
                    out[sl][idx] = torch.where(fooled, result.stats["x_fooling"], x[sl][idx])
            if on_stage is not None:
                on_stage(f"apgd-{loss}")
    return out


def _adversarial_points(method: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_iter: int,
                        seed: int, batch_size: int, device: torch.device, n_target_classes: int | None,
                        on_stage: Callable[[str], None] | None = None) -> tuple[torch.Tensor, list[str], dict[str, float]]:
    """(points, pyautoattack's warnings, attack log): the warnings of both AutoAttack paths are kept, never dropped."""
    if method == "autoattack-standard":
        return standard_autoattack_points(model, x, y, ball, n_iter=n_iter, seed=seed, batch_size=batch_size,
                                          device=device, on_stage=on_stage)
    if method == "autoattack":
        x_adv, notes, _ = _run_autoattack(model, x, y, ball, PAPER_ATTACKS, n_iter, seed, batch_size, device,
                                          n_target_classes, None, on_stage)
        return x_adv, notes, {}
    return apgd_points(model, x, y, ball, n_iter=n_iter, seed=seed, batch_size=batch_size, on_stage=on_stage), [], {}


#: attacks each method runs per threat model, one after the other (the progress bar's stages)
METHOD_STAGES = {"autoattack": len(PAPER_ATTACKS), "autoattack-standard": len(STANDARD_ATTACKS), "apgd": 2}


SQUARE_MIN_SIDE = 5
"""pyautoattack's Square tiles its l_1 / l_2 start with squares of side ``H // 5``: smaller images divide by zero."""


def square_fits(x: torch.Tensor, norm: str) -> bool:
    """Whether pyautoattack's Square can attack images ``x`` of shape (N, C, H, W) in ``norm``.

    Its ``"Linf"`` version takes any image size; ``"L2"`` and ``"L1"`` need both sides >= 5 pixels.
    """
    return x.ndim == 4 and (norm == "Linf" or min(x.shape[2:]) >= SQUARE_MIN_SIDE)


def square_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, n_queries: int = CROSS_CHECK_QUERIES,
                  seed: int = 0, device: str | torch.device = "cpu") -> torch.Tensor | None:
    """Points from pyautoattack's Square attack (score-based, no gradients), the gradient-free cross-check.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, C, H, W)
    y : torch.Tensor, shape (N,)
    ball : LpBall
        l_1, l_2 or l_inf (Square has no other norm).
    n_queries : int
        Queries per point (its schedule rescaled to the budget).
    seed : int
        Seeds Square (the caller's global random state is left as it was).
    device : str or torch.device

    Returns
    -------
    torch.Tensor, shape (N, C, H, W), or None
        Square's points (``x`` where it found none); None for a norm Square does not have.
    """
    from pyautoattack.square import SquareAttack

    try:
        norm = ball.autoattack_norm
    except ValueError:
        return None
    if not square_fits(x, norm):
        return None
    net, x32 = _as_float32(model, x)
    square = SquareAttack(net, norm=norm, n_queries=n_queries, eps=ball.eps, p_init=0.8, n_restarts=1, seed=seed,
                          verbose=False, device=device, resc_schedule=True)
    with torch.random.fork_rng(devices=_reseeded_cuda_devices(device)), eval_mode(model), torch.no_grad():
        x_adv = square.perturb(x32.contiguous(), y.contiguous())
    return _back_to(x_adv, x, ball)


def _cross_check(method: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, robust: torch.Tensor,
                 attacked: int, after: dict[str, float], seed: int, batch_size: int, device: torch.device,
                 verdict: SanityVerdict) -> None:
    """The gradient-free cross-check of one norm; points it breaks are set not robust in ``robust`` (in place)."""
    if method == "autoattack-standard":  # its own Square ran with the full budget on the points the others left
        if "square" not in after:
            verdict.record("cross_check", None, f"{ball.name}: Square did not run (no point left robust before it)")
            return
        before = min((v for k, v in after.items() if k != "square"), default=1.0)  # Square alone: all were robust
        judge_cross_check(verdict, ball.name, round((before - after["square"]) * attacked), round(before * attacked),
                          f"Square ({SQUARE_QUERIES_PER_ITERATION} queries per iteration)")
        return
    cross_check_points(model, x, y, ball, robust, seed, batch_size, device, verdict)


def cross_check_points(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: LpBall, robust: torch.Tensor, seed: int,
                       batch_size: int, device: str | torch.device, verdict: SanityVerdict) -> None:
    """Square (:func:`square_points`) on up to :data:`~lpgeom.evaluation.sanity.CROSS_CHECK_POINTS` of the points
    ``robust`` marks, recorded in ``verdict``; each point it breaks (inside ball ∩ box, misclassified when the model
    is run again) is set False in ``robust`` (a (N,) bool tensor, changed in place)."""
    probe = robust.nonzero().squeeze(1)[:CROSS_CHECK_POINTS]
    if len(probe) == 0:
        judge_cross_check(verdict, ball.name, 0, 0, "Square")
        return
    x_sq = square_points(model, x[probe], y[probe], ball, seed=seed, device=device)
    if x_sq is None:
        why = ("Square has l_1, l_2 and l_inf only" if ball.p not in (1.0, 2.0) else
               f"Square needs images of at least {SQUARE_MIN_SIDE}x{SQUARE_MIN_SIDE} pixels, these are "
               f"{tuple(x.shape[2:])}")
        verdict.record("cross_check", None, f"{ball.name}: no gradient-free cross-check ({why})")
        return
    inside = ball.contains(x_sq, x[probe], atol=1e-4)
    with torch.no_grad():
        fooled = torch.cat([model(x_sq[sl]).argmax(1) != y[probe][sl] for sl in _batches(len(probe), batch_size)])
    broken = inside & fooled
    robust[probe[broken]] = False
    judge_cross_check(verdict, ball.name, int(broken.sum()), len(probe), f"Square ({CROSS_CHECK_QUERIES} queries)")


def _resolve_device(device: str | torch.device | None, model: nn.Module, x: torch.Tensor) -> torch.device:
    """The device to evaluate on: ``device``, else the model's, else ``x``'s; ``ValueError`` if unusable."""
    parameter = next(model.parameters(), None)
    if device is None:
        return parameter.device if parameter is not None else x.device
    resolved = resolve_device(device, "device")  # a device lpgeom runs on that this machine has
    if parameter is not None and not _same_device(parameter.device, resolved):
        raise ValueError(f"device={device!r} but the model's parameters are on {parameter.device}: move the model "
                         f"(model.to({str(resolved)!r})) or leave device=None")
    return resolved


def _same_device(a: torch.device, b: torch.device) -> bool:
    """Whether two devices are one (``cuda`` without an index is the current CUDA device)."""
    if a.type != b.type:
        return False
    if a.type == "cuda":
        current = torch.cuda.current_device()
        return (a.index if a.index is not None else current) == (b.index if b.index is not None else current)
    return True


def evaluate_robustness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, threats: ThreatUnion | Iterable[LpBall],
                        method: str = "autoattack", n_iter: int | None = None, batch_size: int = 500,
                        device: str | torch.device | None = None, seed: int = 0, name: str = "model",
                        n_target_classes: int | None = None, progress: bool | None = None) -> RobustnessReport:
    """Clean accuracy, robust accuracy per threat model and in their union.

    Parameters
    ----------
    model : torch.nn.Module
        Maps images in [0, 1] (N, C, H, W) to logits (N, K). Evaluated in eval mode (a model
        left in train mode is switched, with a warning, and restored afterwards).
    x : torch.Tensor, shape (N, C, H, W)
        Images in [0, 1], float16/bfloat16/float32/float64, finite, N >= 1.
    y : torch.Tensor, shape (N,)
        Integer labels in [0, K).
    threats : ThreatUnion or iterable of LpBall
    method : {"autoattack", "autoattack-standard", "apgd"}
        ``"autoattack"``: pyautoattack's APGD-CE + APGD-T as in the paper (100 iterations);
        ``"autoattack-standard"``: pyautoattack's full standard AutoAttack per norm (APGD-CE,
        APGD-T, FAB-T, Square; l_1: its standard l_1 version), a check against gradient
        masking that the two APGDs alone can miss;
        ``"apgd"``: lpgeom's APGD-CE + APGD-DLR (20 iterations), for monitoring.
    n_iter : int, optional
        Attack iterations (default 100, 20 for ``"apgd"``); for ``"autoattack-standard"`` also
        of FAB, and Square gets 50 queries per iteration (5000 by default).
    batch_size : int
    device : str or torch.device, optional
        Where to run: the model's device (the default); ``x`` and ``y`` are moved there. A
        device that does not exist on this machine, or that is not the model's, is refused.
    seed : int
        Seeds every attack (the caller's global random state is left as it was).
    name : str
        Model name for the table.
    n_target_classes : int, optional
        ``"autoattack"`` only: target classes of APGD-T for every norm instead of AutoAttack's
        standard (9 for l_inf and l_2, 5 for l_1). Fewer is cheaper and can only be weaker.
    progress : bool, optional
        A tqdm bar on stderr with rate and ETA, one step per attack per threat model (e.g.
        APGD-CE then APGD-T for each of 3 norms: 6 steps). ``None`` (default): on unless
        ``$LPGEOM_PROGRESS=0`` or :func:`lpgeom.utils.progress.set_progress` (the CLI's ``--quiet``).

    Returns
    -------
    RobustnessReport
        Per point: robust under a norm = correctly classified at the clean point and at the
        adversarial point, decided here by running the model on the returned point, which
        must lie in ball ∩ box (a point outside counts as not found, with a warning); union =
        robust under every norm. Points already misclassified are not attacked. Every method
        runs the sanity checks of :mod:`lpgeom.evaluation.sanity` (zero gradients, randomness,
        probability outputs, a gradient-free Square cross-check whose adversarial points count,
        and on the AutoAttack paths pyautoattack's own checks); their verdict is
        ``report.sanity`` and a flagged report says so in every table (``report.flagged``).

    Raises
    ------
    ValueError, TypeError
        For inputs or options that cannot be evaluated (one sentence naming the argument).
    """
    n_iter = validate_evaluation_options(method, METHODS, n_iter, DEFAULT_ITERATIONS, batch_size, seed, n_target_classes)
    seed, batch_size = int(seed), int(batch_size)  # numpy integers as Python's: the report is written as JSON
    n_target_classes = None if n_target_classes is None else int(n_target_classes)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the model's name in the table), got {type(name).__name__}")
    balls = list(threats) if isinstance(threats, Iterable) and not isinstance(threats, (str, bytes)) else None
    if not balls or not all(isinstance(b, LpBall) for b in balls):
        raise TypeError(f"threats must be a ThreatUnion or a non-empty list of LpBall, got {threats!r}")
    if len({b.name for b in balls}) != len(balls):
        raise ValueError(f"threats must name each norm once, got {[b.name for b in balls]}")
    n_classes = validate_evaluation_inputs(model, x, y, balls)
    if n_classes < MIN_CLASSES[method]:
        raise ValueError(f"method={method!r} needs a model with at least {MIN_CLASSES[method]} classes (its DLR loss "
                         f"compares the largest logits), this one has {n_classes}")
    if n_target_classes is not None:
        target_count(n_target_classes, n_target_classes, n_classes)  # refused before any attack runs
    device = _resolve_device(device, model, x)
    x, y = x.to(device), y.to(device).long()
    messages: list[str] = []
    if model.training:
        msg = "the model was in train mode: evaluated in eval mode (BatchNorm frozen) and restored afterwards"
        warnings.warn(msg, stacklevel=2)
        messages.append(msg)
    start = time.perf_counter()
    attack_log: dict[str, dict[str, float]] = {}
    stages = METHOD_STAGES[method]
    bar = progress_bar(total=stages * len(balls), desc=f"{name}: {method}", unit="attack", progress=progress,
                       leave=True)
    verdict = SanityVerdict()
    with bar, eval_mode(model):
        messages += gradient_masking_warnings(model, x, n_iter)
        with torch.no_grad():
            clean = torch.cat([model(x[sl]).argmax(1) == y[sl] for sl in _batches(len(x), batch_size)])
        correct = clean.nonzero().squeeze(1)
        masking_checks(model, x[correct], y[correct], verdict)
        flags = {"clean": clean.cpu()}
        for ball in balls:
            robust = clean.clone()
            idx = correct
            bar.set_postfix_str(ball.name)
            finished, rest = _stage_counter(bar, stages)
            if len(idx):
                x_adv, notes, after = _adversarial_points(method, model, x[idx], y[idx], ball, n_iter, seed, batch_size,
                                                          device, n_target_classes, on_stage=finished)
                messages += notes
                if method != "apgd":
                    verdict.record("pyautoattack", not notes,
                                   "; ".join(notes) if notes else f"{ball.name}: no warning from pyautoattack's checks")
                if after:
                    attack_log[ball.name] = after
                inside = ball.contains(x_adv, x[idx], atol=1e-4)  # measured in float32 at least
                if not inside.all():
                    messages.append(f"{int((~inside).sum())} {ball.name} points left ball ∩ box: counted as not attacked")
                    x_adv = torch.where(inside.reshape(-1, 1, 1, 1), x_adv, x[idx])
                with torch.no_grad():
                    still = torch.cat([model(x_adv[sl]).argmax(1) == y[idx][sl] for sl in _batches(len(idx), batch_size)])
                robust[idx] = still
                _cross_check(method, model, x, y, ball, robust, len(idx), after, seed, batch_size, device, verdict)
            rest()  # attacks skipped because no point was left to attack
            flags[ball.name] = robust.cpu()
    union = torch.stack([flags[b.name] for b in balls]).all(0) & flags["clean"]
    flags["union"] = union
    if verdict.flagged:
        messages.append(verdict.summary())
    for msg in messages[1 if model.training else 0:]:
        warnings.warn(msg, stacklevel=2)
    return RobustnessReport(
        model=name, n_points=len(x), clean_accuracy=int(clean.sum()) / len(x),  # k / n in double: no float32 noise
        robust_accuracy={b.name: int(flags[b.name].sum()) / len(x) for b in balls},
        union_accuracy=int(union.sum()) / len(x), eps={b.name: b.eps for b in balls}, method=method,
        n_iter=n_iter, seed=seed, seconds=time.perf_counter() - start, warnings=messages, per_point=flags,
        n_target_classes=n_target_classes, attack_log=attack_log, sanity=verdict.to_dict(),
    )
