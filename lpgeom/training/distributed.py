"""Several GPUs (or CPU processes) through torchrun: DistributedDataParallel setup and helpers.

``torchrun --nproc_per_node N -m lpgeom train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK;
:func:`init_distributed` then joins the process group (NCCL on CUDA, gloo on CPU) with an
explicit collective timeout (:func:`collective_timeout`: 60 minutes, or
``$LPGEOM_DIST_TIMEOUT_MIN``). Rank 0 alone evaluates the held-out split for best-checkpoint
selection and writes checkpoints while the other ranks wait in their next collective; NCCL's
own default (10 minutes) would end a large run's job there. A rank that really hangs is still
ended, after the timeout.
"""
from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass

import torch

__all__ = ["DistInfo", "init_distributed", "process_device", "barrier", "collective_timeout", "DEFAULT_TIMEOUT_MIN",
           "TIMEOUT_ENV"]

DEFAULT_TIMEOUT_MIN = 60.0
TIMEOUT_ENV = "LPGEOM_DIST_TIMEOUT_MIN"


@dataclass(frozen=True)
class DistInfo:
    """This process's place among the DDP processes (rank 0 of 1 without DDP)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def collective_timeout() -> datetime.timedelta:
    """How long a rank waits in a collective before the job is ended: ``$LPGEOM_DIST_TIMEOUT_MIN`` minutes, else 60.

    Raises
    ------
    ValueError
        If the variable is set to anything but a positive finite number of minutes (named).
    """
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return datetime.timedelta(minutes=DEFAULT_TIMEOUT_MIN)
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not (math.isfinite(minutes) and minutes > 0):
        raise ValueError(f"{TIMEOUT_ENV}={raw!r}: give a positive number of minutes (default {DEFAULT_TIMEOUT_MIN:g})")
    return datetime.timedelta(minutes=minutes)


def init_distributed(device: str | torch.device) -> DistInfo:
    """Join the process group if launched by torchrun (WORLD_SIZE > 1); else a single-process DistInfo.

    The group's collectives time out after :func:`collective_timeout` (read before joining, so a
    bad value is refused before any rank waits).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=collective_timeout())
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def process_device(device: str | torch.device, info: DistInfo) -> torch.device:
    """The device this process trains on, with its index: under DDP a bare ``"cuda"`` means ``cuda:<LOCAL_RANK>``,
    else the current CUDA device.

    Without this every rank of ``torchrun --nproc_per_node N`` would share ``cuda:0``.
    An explicit index (``"cuda:1"``) and CPU devices are kept as given. On CUDA the
    process's current device is set to the result, so NCCL and the autocast/cache
    machinery use the same GPU.
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and info.enabled:
        device = torch.device("cuda", info.local_rank)
    if device.type == "cuda" and torch.cuda.is_available():
        if device.index is None:  # torch.cuda.set_device refuses a device without an index
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
    return device


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op without DDP)."""
    if info.enabled:
        import torch.distributed as dist

        dist.barrier()
