"""Several GPUs (or CPU processes) through torchrun: DistributedDataParallel setup and helpers.

``torchrun --nproc_per_node N -m lpgeom train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK;
:func:`init_distributed` then joins the process group (NCCL on CUDA, gloo on CPU).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

__all__ = ["DistInfo", "init_distributed", "process_device", "barrier"]


@dataclass(frozen=True)
class DistInfo:
    """This process's place among the DDP processes (rank 0 of 1 without DDP)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | torch.device) -> DistInfo:
    """Join the process group if launched by torchrun (WORLD_SIZE > 1); else a single-process DistInfo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
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
