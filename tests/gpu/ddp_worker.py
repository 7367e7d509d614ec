"""Started by torchrun from test_ddp_nccl.py: a few E-AT steps of lpgeom's loop on this rank's GPU (NCCL).

Usage: ``torchrun --standalone --nproc_per_node 2 tests/gpu/ddp_worker.py OUT_DIR``; each rank saves
its final weights as ``OUT_DIR/rank<r>.pt``.
"""
import os
import sys

import torch
import torch.distributed as dist
from torch.utils.data import TensorDataset

from lpgeom.models import build_model
from lpgeom.threats import cifar10_threats
from lpgeom.training import TrainConfig, build_scheme, train


def main(out_dir: str) -> None:
    local_rank, rank = int(os.environ["LOCAL_RANK"]), int(os.environ["RANK"])
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(256, 3, 32, 32, generator=gen), torch.randint(10, (256,), generator=gen))
    torch.manual_seed(0)
    model = build_model("preact_resnet18")
    # a bare "cuda", as `torchrun -m lpgeom train` passes by default: each rank must take cuda:<LOCAL_RANK>
    config = TrainConfig(epochs=1, batch_size=64, device="cuda", amp=True, channels_last=True, progress=False)
    train(model, data, build_scheme("eat", cifar10_threats(), n_iter=2), config, os.path.join(out_dir, "run"),
          resume=False)
    assert torch.cuda.current_device() == local_rank, f"rank {rank} trained on cuda:{torch.cuda.current_device()}"
    assert next(model.parameters()).device == torch.device("cuda", local_rank)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
