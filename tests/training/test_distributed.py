"""DDP on the CPU (gloo, 2 processes): ranks stay identical and E-AT statistics are reduced across ranks."""
import os

import pytest
import torch
import torch.multiprocessing as mp

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    import torch.distributed as dist
    from torch.utils.data import TensorDataset

    from lpgeom.data import fashion_mnist, subset, tensors
    from lpgeom.models import build_model
    from lpgeom.threats import fashion_mnist_threats
    from lpgeom.training import TrainConfig, build_scheme, train

    x, y = tensors(subset(fashion_mnist(True), 256, seed=0))
    torch.manual_seed(0)
    model = build_model("small_cnn", width=8)
    scheme = build_scheme("eat", fashion_mnist_threats(), n_iter=2)
    train(model, TensorDataset(x, y), scheme, TrainConfig(epochs=1, batch_size=64, progress=False),
          os.path.join(out_dir, "run"), resume=False)
    torch.save({"model": model.state_dict(), "counts": scheme.counts}, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_two_gloo_processes_agree(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(r0["model"][k], r1["model"][k]) for k in r0["model"]), "ranks diverged"
    assert torch.equal(r0["counts"], r1["counts"])
    assert int(r0["counts"][:, 1].sum()) == 256, "E-AT counts must cover the global batch (both ranks)"
    assert (tmp_path / "run" / "model.pt").is_file()


def _ramp_worker(rank, world, port, out_dir):
    """RAMP with gradient projection under DDP: the clean copy's gradients are averaged over the ranks too."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    import torch.distributed as dist
    from torch.utils.data import TensorDataset

    from lpgeom.data import fashion_mnist, subset, tensors
    from lpgeom.models import build_model
    from lpgeom.threats import fashion_mnist_threats
    from lpgeom.training import TrainConfig, build_scheme, train

    x, y = tensors(subset(fashion_mnist(True), 128, seed=0))
    torch.manual_seed(0)
    model = build_model("small_cnn", width=4)
    scheme = build_scheme("ramp", fashion_mnist_threats(), n_iter=2, gradient_projection=True)
    train(model, TensorDataset(x, y), scheme, TrainConfig(epochs=1, batch_size=64, progress=False),
          os.path.join(out_dir, "run"), resume=False)
    torch.save({"model": model.state_dict()}, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_ramp_with_gradient_projection_keeps_the_ranks_identical(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ramp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(r0["model"][k], r1["model"][k]) for k in r0["model"]), "ranks diverged"



@pytest.mark.skipif(torch.cuda.is_available(), reason="process_device sets the current CUDA device where one exists")
def test_each_ddp_rank_gets_its_own_gpu_for_a_bare_cuda_device():
    """torchrun sets LOCAL_RANK: a bare "cuda" must become cuda:<LOCAL_RANK>, not cuda:0 on every rank."""
    from lpgeom.training.distributed import DistInfo, process_device

    rank3 = DistInfo(rank=3, world_size=4, local_rank=3)
    assert process_device("cuda", rank3) == torch.device("cuda", 3)
    assert process_device("cuda:1", rank3) == torch.device("cuda", 1)  # an explicit index is kept
    assert process_device("cuda", DistInfo()) == torch.device("cuda")  # no DDP and no CUDA to ask: as given
    assert process_device("cpu", rank3) == torch.device("cpu")


def test_a_bare_cuda_device_without_ddp_becomes_the_current_one(monkeypatch):
    """torch.cuda.set_device refuses ``torch.device("cuda")`` (no index): on the H100 every training run failed so."""
    from lpgeom.training.distributed import DistInfo, process_device

    given = []

    def set_device(device):
        if device.index is None:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        given.append(device)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", set_device)
    assert process_device("cuda", DistInfo()) == torch.device("cuda", 2)
    assert process_device("cuda:1", DistInfo()) == torch.device("cuda", 1)
    assert given == [torch.device("cuda", 2), torch.device("cuda", 1)]

