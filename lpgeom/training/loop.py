"""The one training loop every scheme shares: seeded, resumable, device-agnostic, DDP-ready.

Reproducibility: the data order of epoch ``e`` is a permutation seeded by ``(seed, e)``,
and every random choice of step ``t`` (augmentation, E-AT's norm) uses a generator seeded
by ``(seed, t)``. A run killed at any point and resumed from its last checkpoint
recomputes the same order, skips the steps already done, and (on the CPU) ends with
bit-identical weights.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from ..data.transforms import random_crop_flip
from .checkpoint import load_latest, save_checkpoint
from .distributed import DistInfo, init_distributed
from .metrics import MetricsLog
from .schedule import PiecewiseLR
from .schemes import Scheme, StepContext

__all__ = ["TrainConfig", "TrainResult", "train", "epoch_order"]


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

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}")
        self.milestones = tuple(float(m) for m in self.milestones)
        PiecewiseLR(self.lr, self.milestones, self.lr_factor)  # validates lr and milestones

    def fingerprint(self) -> dict:
        """Settings that must not change when a run is resumed."""
        skip = {"epochs", "progress", "log_every", "checkpoint_every", "stop_after_steps", "device"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


@dataclass
class TrainResult:
    run_dir: pathlib.Path
    epochs: list[dict] = field(default_factory=list)
    global_step: int = 0
    finished: bool = False


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The data order of an epoch: a permutation of ``range(n)`` seeded by (seed, epoch)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def _fetch(dataset: Dataset, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(dataset, TensorDataset):
        x, y = dataset.tensors[0][idx], dataset.tensors[1][idx]
    else:
        items = [dataset[int(i)] for i in idx]
        x = torch.stack([it[0] for it in items])
        y = torch.as_tensor([int(it[1]) for it in items])
    return x, y.long()


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model


def train(model: nn.Module, dataset: Dataset, scheme: Scheme, config: TrainConfig, run_dir: str | os.PathLike,
          resume: bool = True, describe: dict | None = None, extra: Dataset | None = None) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``scheme``, checkpointing into ``run_dir``.

    Parameters
    ----------
    model : torch.nn.Module
        Inputs in [0, 1]; moved to ``config.device``.
    dataset : torch.utils.data.Dataset
        Items ``(x, y)`` with ``x`` of shape (C, H, W); a TensorDataset is fastest.
    scheme : Scheme
    config : TrainConfig
    run_dir : path
        Holds ``config.json``, ``metrics.jsonl``, ``last.pt`` / ``previous.pt``, ``model.pt``.
    resume : bool
        Continue from ``run_dir/last.pt`` if present.
    describe : dict, optional
        Extra information saved in ``config.json`` (e.g. architecture, dataset, CLI command).
    extra : Dataset, optional
        Extra (pseudo-labelled) data: half of every batch is drawn from it (seeded per step),
        and one epoch is still one pass over ``dataset`` (the paper's setup for models
        trained with extra data).

    Returns
    -------
    TrainResult
    """
    run_dir = pathlib.Path(run_dir)
    device = torch.device(config.device)
    dist_info: DistInfo = init_distributed(device)
    main = dist_info.rank == 0
    if len(dataset) < config.batch_size:
        raise ValueError(f"the dataset has {len(dataset)} examples, fewer than one batch of {config.batch_size}")
    if dist_info.enabled and config.batch_size % dist_info.world_size:
        raise ValueError(f"batch_size {config.batch_size} must be divisible by the {dist_info.world_size} processes")

    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    schedule = PiecewiseLR(config.lr, config.milestones, config.lr_factor)
    record = {"config": dataclasses.asdict(config), "scheme": scheme.describe(), **(describe or {})}

    start_epoch, start_step, global_step = 0, 0, 0
    state = load_latest(run_dir, map_location=device) if resume else None
    if state is not None:
        saved = json.loads(state["config"])
        if saved["fingerprint"] != json.loads(json.dumps(config.fingerprint())):
            raise ValueError(f"{run_dir} holds a run with another configuration; use a new run dir or resume=False\n"
                             f"saved: {saved['fingerprint']}\nnow:   {config.fingerprint()}")
        from ..models.checkpoints import load_weights

        load_weights(model, state["model"], source=str(run_dir / "last.pt"))
        optimizer.load_state_dict(state["optimizer"])
        scheme.load_state_dict(state["scheme"])
        start_epoch, start_step, global_step = int(state["epoch"]), int(state["step"]), int(state["global_step"])
    elif main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(record, indent=2, default=str))
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    log = MetricsLog(run_dir, enabled=main)
    if state is not None:
        log.truncate_after(global_step)

    net = model
    if dist_info.enabled:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    world, rank = dist_info.world_size, dist_info.rank
    n = len(dataset)
    standard = config.batch_size // 2 if extra is not None else config.batch_size  # standard examples per batch
    if extra is not None and (standard < 1 or len(extra) == 0):
        raise ValueError("extra data needs batch_size >= 2 and a non-empty extra dataset")
    steps_per_epoch = n // standard if dist_info.enabled else math.ceil(n / standard)
    total_steps = steps_per_epoch * config.epochs
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda")
    result = TrainResult(run_dir, global_step=global_step)

    def checkpoint(epoch: int, step: int) -> None:
        if main:
            save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheme": scheme.state_dict(), "epoch": epoch, "step": step, "global_step": global_step,
                             "config": json.dumps({"fingerprint": config.fingerprint(), "record": record}, default=str)},
                            run_dir)
        if dist_info.enabled:
            import torch.distributed as dist

            dist.barrier()

    bar = None
    if config.progress and main:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=global_step, desc=scheme.name, leave=False)

    for epoch in range(start_epoch, config.epochs):
        order = epoch_order(n, config.seed, epoch)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        t0 = time.perf_counter()
        first = start_step if epoch == start_epoch else 0
        for step in range(first, steps_per_epoch):
            idx = order[step * standard:(step + 1) * standard]
            if dist_info.enabled:
                idx = idx[rank::world]
            x, y = _fetch(dataset, idx)
            if extra is not None:
                pick = torch.randint(len(extra), (config.batch_size - standard,),
                                     generator=torch.Generator().manual_seed(config.seed * 7_919 + global_step))
                if dist_info.enabled:
                    pick = pick[rank::world]
                ex, ey = _fetch(extra, pick)
                x, y = torch.cat([x, ex]), torch.cat([y, ey])
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            gen = torch.Generator(device=device).manual_seed(config.seed * 1_000_003 + global_step)
            cpu_gen = torch.Generator().manual_seed(config.seed * 1_000_003 + global_step)
            if config.augment:
                x = random_crop_flip(x, generator=gen)
            if config.channels_last and x.ndim == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            lr = schedule(global_step / total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            model.train()
            ctx = StepContext(epoch=epoch, global_step=global_step, generator=cpu_gen, attack_model=model)
            with autocast:
                loss, stats = scheme.training_loss(net, x, y, ctx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.eval()
                with autocast:
                    clean_err = float((model(x).argmax(1) != y).float().mean())
                model.train()
            stats = {"loss": float(loss.detach()), "clean_err": clean_err, **stats}
            global_step += 1
            for k, v in stats.items():
                if isinstance(v, (int, float)):
                    sums[k] = sums.get(k, 0.0) + float(v)
                    counts[k] = counts.get(k, 0) + 1
            if global_step % config.log_every == 0 or step == steps_per_epoch - 1:
                log.write({"kind": "step", "epoch": epoch, "step": step, "global_step": global_step, "lr": lr, **stats})
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in stats.items()
                                 if k in ("loss", "clean_err", "norm") or k.startswith(("rerr", "p_"))})
            done = step + 1 == steps_per_epoch
            if done:
                checkpoint(epoch + 1, 0)
            elif config.checkpoint_every and global_step % config.checkpoint_every == 0:
                checkpoint(epoch, step + 1)
            if config.stop_after_steps is not None and global_step >= config.stop_after_steps:
                if not done and not (config.checkpoint_every and global_step % config.checkpoint_every == 0):
                    checkpoint(epoch, step + 1)
                result.global_step = global_step
                if bar is not None:
                    bar.close()
                return result
        summary = {"kind": "epoch", "epoch": epoch, "global_step": global_step, "seconds": time.perf_counter() - t0,
                   **{k: sums[k] / counts[k] for k in sums}}
        log.write(summary)
        result.epochs.append(summary)
    if bar is not None:
        bar.close()
    if main:
        tmp = run_dir / ".model.pt.tmp"
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, run_dir / "model.pt")
    result.global_step, result.finished = global_step, True
    return result
