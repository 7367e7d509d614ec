"""The one training loop every scheme shares: seeded, resumable, device-agnostic, DDP-ready.

Reproducibility: the data order of epoch ``e`` is a permutation seeded by ``(seed, e)``,
and every random choice of step ``t`` (augmentation, E-AT's norm) uses a generator seeded
by ``(seed, t)``. A run killed at any point and resumed from its last checkpoint
recomputes the same order, skips the steps already done, and (on the CPU) ends with
bit-identical weights.

The parts: batches from :mod:`lpgeom.data.loaders`, the step in :mod:`.step`, logging in
:mod:`.metrics`, checkpoints in :mod:`.checkpoint`, the resume fingerprint in
:mod:`.fingerprint`, the run-dir lock in :mod:`.lock`, best-checkpoint selection in
:mod:`.selection`.
"""
from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import warnings
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data.loaders import BatchPlan, default_workers, epoch_order, training_batches
from ..models.checkpoints import digest_path, load_weights, write_state_dict
from ..utils.files import atomic_write_json
from .checkpoint import LAST, PREVIOUS, CheckpointPolicy, load_latest, save_checkpoint
from .distributed import DistInfo, barrier, init_distributed, process_device
from .fingerprint import fingerprint_differences, numerics_environment, run_fingerprint
from .lock import RunLock
from .metrics import MetricsLog, RunLog
from .schedule import PiecewiseLR
from .selection import BEST, HoldoutSelector, split_holdout
from .step import DivergenceGuard, StepSettings, training_step

__all__ = ["TrainConfig", "TrainResult", "train", "epoch_order", "FINAL"]

FINAL = "model.pt"


@dataclass
class TrainConfig:
    """Hyper-parameters of a run (saved with it as ``config.json``).

    Attributes
    ----------
    epochs, batch_size, lr : training length, global batch size, initial learning rate
    milestones : fractions of training where the lr is multiplied by ``lr_factor``
    momentum, weight_decay : SGD settings (paper: 0.9, 5e-4)
    seed : seeds data order, augmentation and the schemes' random choices
    augment : random crop (pad 4) + horizontal flip, on the device
    checkpoint_every : also checkpoint every this many steps (0: at epoch ends only)
    amp : bf16 autocast (CUDA only)
    channels_last : channels-last memory format (CUDA)
    device : "cpu", "cuda", "cuda:1", ...
    log_every : write a step record every this many steps
    progress : show a tqdm progress bar
    stop_after_steps : stop (after checkpointing) once this many steps are done in total (testing/profiling)
    compile : run the model through ``torch.compile`` (training forward, attacks, clean error);
        checkpoints keep the bare model's keys
    workers : worker processes reading the data (None: 0 for in-memory data, ``min(8, CPUs)``
        for data read from files); the batches are the same for any number
    select : "last" keeps the final weights as ``model.pt``; "best" also evaluates robust
        accuracy on ``holdout`` held-out training examples at every epoch end and keeps the
        best epoch's weights as ``best.pt`` (the paper's best-checkpoint selection)
    holdout : training examples held out (seeded by ``seed``) for ``select="best"``; they are
        not trained on
    """

    epochs: int = 1
    batch_size: int = 128
    lr: float = 0.05
    milestones: tuple[float, ...] = ()
    lr_factor: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    augment: bool = False
    checkpoint_every: int = 0
    amp: bool = False
    channels_last: bool = False
    device: str = "cpu"
    log_every: int = 10
    progress: bool = True
    stop_after_steps: int | None = None
    compile: bool = False
    workers: int | None = None
    select: Literal["last", "best"] = "last"
    holdout: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("checkpoint_every", "holdout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("lr", "lr_factor", "momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.momentum < 0 or self.weight_decay < 0 or self.lr_factor <= 0:
            raise ValueError(f"momentum and weight_decay must be >= 0 and lr_factor > 0, got {self.momentum}, "
                             f"{self.weight_decay} and {self.lr_factor}")
        if self.stop_after_steps is not None and (isinstance(self.stop_after_steps, bool) or self.stop_after_steps < 1):
            raise ValueError(f"stop_after_steps must be None or an integer >= 1, got {self.stop_after_steps!r}")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 0):
            raise ValueError(f"workers must be None or an integer >= 0, got {self.workers!r}")
        if self.select not in ("last", "best"):
            raise ValueError(f"select must be 'last' or 'best', got {self.select!r}")
        if (self.select == "best") != (self.holdout > 0):
            raise ValueError(f"select='best' needs holdout > 0 examples and holdout needs select='best', got "
                             f"select={self.select!r} and holdout={self.holdout}")
        self.milestones = tuple(float(m) for m in self.milestones)
        PiecewiseLR(self.lr, self.milestones, self.lr_factor)  # validates lr and milestones

    def fingerprint(self) -> dict:
        """Settings that must not change when a run is resumed (all but how it is run and shown)."""
        skip = {"progress", "log_every", "checkpoint_every", "stop_after_steps", "device", "compile", "workers"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


@dataclass
class TrainResult:
    """What :func:`train` did: epoch summaries of this call, steps done in total, whether the run is finished."""

    run_dir: pathlib.Path
    epochs: list[dict] = field(default_factory=list)
    global_step: int = 0
    finished: bool = False
    best: dict | None = None


def _prepare_run_dir(run_dir: pathlib.Path) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"run_dir {run_dir} is a file, not a folder; pass a folder path")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(err.errno, f"could not create the run dir {run_dir}: {err.strerror}") from err


def _start_fresh(run_dir: pathlib.Path, record: dict, log: MetricsLog) -> None:
    """A new run in ``run_dir``: the files of an earlier run there are removed, ``config.json`` written."""
    for name in (LAST, PREVIOUS, FINAL, BEST):
        (run_dir / name).unlink(missing_ok=True)
        digest_path(run_dir / name).unlink(missing_ok=True)
    log.clear()
    atomic_write_json(run_dir / "config.json", record)


def _refuse_other_run(run_dir: pathlib.Path, saved: dict | None, now: dict) -> None:
    if saved is None:
        raise ValueError(f"{run_dir / LAST} was written by an older lpgeom without a run fingerprint, so it cannot be "
                         "checked against this run; use a new run dir or resume=False")
    differences = fingerprint_differences(saved, now)
    if differences:
        raise ValueError(f"{run_dir} holds a run with another configuration; use a new run dir or resume=False. "
                         f"Differences: " + "; ".join(differences))


def _warn_other_environment(run_dir: pathlib.Path, saved: dict | None, now: dict) -> None:
    differences = fingerprint_differences(saved, now) if saved else []
    if differences:
        warnings.warn(f"resuming {run_dir} in another numerical environment ({'; '.join(differences)}): the run goes "
                      "on, but its results will not be bit-identical to an uninterrupted run", stacklevel=3)


def train(model: nn.Module, dataset: Dataset, scheme, config: TrainConfig, run_dir: str | os.PathLike,
          resume: bool = True, describe: dict | None = None, extra: Dataset | None = None,
          select_threats=None) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``scheme``, checkpointing into ``run_dir``.

    Parameters
    ----------
    model : torch.nn.Module
        Inputs in [0, 1]; moved to ``config.device``.
    dataset : torch.utils.data.Dataset
        Items ``(x, y)`` with ``x`` of shape (C, H, W); a TensorDataset is fastest, folder
        datasets are read by ``config.workers`` worker processes.
    scheme : Scheme
        ``training_loss(model, x, y, ctx) -> (loss, StepStats)``; ``describe()`` enters the fingerprint.
    config : TrainConfig
    run_dir : path
        Holds ``config.json``, ``metrics.jsonl``, ``last.pt`` / ``previous.pt``, ``model.pt``
        (written when the run finishes), ``best.pt`` (``select="best"``) and ``.lock``.
    resume : bool
        Continue from ``run_dir/last.pt`` if present (the run's fingerprint must match);
        False starts afresh, removing an earlier run's checkpoints and logs there.
    describe : dict, optional
        Extra information saved in ``config.json`` (e.g. architecture, dataset, CLI command);
        all but ``"command"`` enter the fingerprint.
    extra : Dataset, optional
        Extra (pseudo-labelled) data: half of every batch is drawn from it (seeded per step),
        and one epoch is still one pass over ``dataset`` (the paper's setup for models
        trained with extra data).
    select_threats : ThreatUnion, optional
        The threats of the held-out robust accuracy (required with ``config.select="best"``).

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        A dataset smaller than a batch, a resume whose fingerprint differs (the fields are
        named), bad DDP or extra-data settings.
    RunLockedError
        If another live process writes ``run_dir`` (its PID is named).
    CheckpointError
        If checkpoints exist but none is readable and intact.
    TrainingDiverged
        If the loss or the weights become non-finite (the last good checkpoint is kept, no
        ``model.pt`` is written).
    OSError
        If ``run_dir`` cannot be written (disk full, read-only, a file): one sentence naming the path.
    """
    run_dir = pathlib.Path(run_dir)
    dist_info: DistInfo = init_distributed(config.device)
    device = process_device(config.device, dist_info)
    main = dist_info.rank == 0
    if config.select == "best" and select_threats is None:
        raise ValueError("config.select='best' needs select_threats (the threats of the held-out robust accuracy)")
    dataset, held_out = split_holdout(dataset, config.holdout, config.seed)
    if len(dataset) < config.batch_size:
        raise ValueError(f"the dataset has {len(dataset)} examples, fewer than one batch of {config.batch_size}")
    if dist_info.enabled and config.batch_size % dist_info.world_size:
        raise ValueError(f"batch_size {config.batch_size} must be divisible by the {dist_info.world_size} processes")
    standard = config.batch_size // 2 if extra is not None else config.batch_size  # standard examples per batch
    if extra is not None and (standard < 1 or len(extra) == 0):
        raise ValueError("extra data needs batch_size >= 2 and a non-empty extra dataset")
    if main:
        _prepare_run_dir(run_dir)
    lock = RunLock(run_dir).acquire() if main else None
    try:
        return _train_locked(model, dataset, held_out, scheme, config, run_dir, resume, describe, extra,
                             select_threats, device, dist_info, standard)
    finally:
        if lock is not None:
            lock.release()


def _train_locked(model, dataset, held_out, scheme, config, run_dir, resume, describe, extra, select_threats,
                  device, dist_info, standard) -> TrainResult:
    main = dist_info.rank == 0
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    schedule = PiecewiseLR(config.lr, config.milestones, config.lr_factor)
    fingerprint = run_fingerprint(model, dataset, scheme, config.fingerprint(), extra, describe)
    environment = numerics_environment(device)
    record = {"config": dataclasses.asdict(config), "scheme": scheme.describe(), **(describe or {}),
              "environment": environment}
    log = MetricsLog(run_dir, enabled=main)
    selector = HoldoutSelector(held_out, select_threats, run_dir, enabled=main) if config.select == "best" else None

    start_epoch, start_step, global_step, epoch_state = 0, 0, 0, None
    state = load_latest(run_dir, map_location="cpu") if resume else None
    if state is not None:
        _refuse_other_run(run_dir, state.get("fingerprint"), fingerprint)
        _warn_other_environment(run_dir, state.get("environment"), environment)
        load_weights(model, state["model"], source=str(run_dir / LAST))
        optimizer.load_state_dict(state["optimizer"])
        scheme.load_state_dict(state["scheme"])
        start_epoch, start_step, global_step = int(state["epoch"]), int(state["step"]), int(state["global_step"])
        epoch_state = state.get("epoch_log")
        if selector is not None:
            selector.load_state_dict(state.get("best", {}))
        log.truncate_after(global_step)
    elif main:
        _start_fresh(run_dir, record, log)

    net, attack_model = _wrap(model, config, dist_info, device)
    plan = BatchPlan(len(dataset), standard, config.seed, dist_info.rank, dist_info.world_size)
    steps_per_epoch = plan.steps_per_epoch
    total_steps = steps_per_epoch * config.epochs
    settings = StepSettings(device, config.seed, config.augment, config.amp, config.channels_last)
    workers = default_workers(dataset) if config.workers is None else config.workers
    batches = training_batches(dataset, plan, start_epoch, start_step, config.epochs, first_global_step=global_step,
                               workers=workers, pin_memory=device.type == "cuda")
    guard = DivergenceGuard(device)
    bar = None
    if config.progress and main:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=global_step, desc=scheme.name, leave=False)
    run_log = RunLog(log, config.log_every, steps_per_epoch, bar)
    result = TrainResult(run_dir, global_step=global_step)
    last_saved = f"the checkpoint of step {global_step} ({LAST})" if state is not None else "no checkpoint"
    policy = CheckpointPolicy(config.checkpoint_every, config.stop_after_steps)

    def checkpoint(epoch: int, step: int) -> None:
        nonlocal last_saved
        guard.check(model, global_step, last_saved)
        if main:
            save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheme": scheme.state_dict(), "epoch": epoch, "step": step, "global_step": global_step,
                             "epoch_log": run_log.state_dict() if step else {},
                             "best": selector.state_dict() if selector is not None else {},
                             "fingerprint": fingerprint, "environment": environment}, run_dir)
        last_saved = f"the checkpoint of step {global_step} ({LAST})"
        barrier(dist_info)

    try:
        for epoch in range(start_epoch, config.epochs):
            run_log.start_epoch(epoch_state if epoch == start_epoch and start_step else None)
            for step in range(start_step if epoch == start_epoch else 0, steps_per_epoch):
                x, y = next(batches)
                if extra is not None:
                    x, y = _with_extra(x, y, extra, config, global_step, dist_info)
                lr = schedule(global_step / total_steps)
                stats = training_step(net, attack_model, optimizer, scheme, x, y, lr, epoch, global_step, settings)
                guard.observe(stats.loss, global_step)
                global_step += 1
                if run_log.step(stats, epoch, step, global_step, lr) is not None:  # numbers were read: check them
                    guard.check(model, global_step, last_saved, weights=False)
                if step + 1 == steps_per_epoch:
                    summary = run_log.epoch_summary(epoch, global_step)
                    if selector is not None:
                        summary.update(selector.epoch_end(attack_model, model, epoch, global_step))
                    log.write(summary)  # before the checkpoint: a resume from it never loses the summary
                    result.epochs.append(summary)
                resume_point = policy.resume_point(epoch, step, steps_per_epoch, global_step)
                if resume_point is not None:
                    checkpoint(*resume_point)
                if policy.stops(global_step):
                    result.global_step = global_step
                    return result
    finally:
        run_log.close()
        batches.close()
    guard.check(model, global_step, last_saved)
    if main:
        write_state_dict(model.state_dict(), run_dir / FINAL)
    result.global_step, result.finished = global_step, True
    result.best = selector.best if selector is not None else None
    return result


def _wrap(model: nn.Module, config: TrainConfig, dist_info: DistInfo, device: torch.device
          ) -> tuple[nn.Module, nn.Module]:
    """The model as trained (DDP wrapper under DDP) and as attacked, each compiled if ``config.compile``."""
    attack_model = torch.compile(model) if config.compile else model
    if not dist_info.enabled:
        return attack_model, attack_model
    from torch.nn.parallel import DistributedDataParallel

    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return (torch.compile(ddp) if config.compile else ddp), attack_model


def _with_extra(x: torch.Tensor, y: torch.Tensor, extra: Dataset, config: TrainConfig, global_step: int,
                dist_info: DistInfo) -> tuple[torch.Tensor, torch.Tensor]:
    """Append the step's extra examples (seeded by (seed, step); this rank's share under DDP)."""
    pick = torch.randint(len(extra), (config.batch_size - config.batch_size // 2,),
                         generator=torch.Generator().manual_seed(config.seed * 7_919 + global_step))
    if dist_info.enabled:
        pick = pick[dist_info.rank::dist_info.world_size]
    if getattr(extra, "tensors", None) is not None:
        ex, ey = extra.tensors[0][pick], extra.tensors[1][pick].long()
    else:
        items = [extra[int(i)] for i in pick]
        ex, ey = torch.stack([it[0] for it in items]), torch.as_tensor([int(it[1]) for it in items])
    return torch.cat([x, ex]), torch.cat([y, ey])
