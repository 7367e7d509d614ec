"""The training batch stream: seeded order, DDP shards, worker processes and resumes give the same batches."""
import pytest
import torch
from PIL import Image
from torch.utils.data import TensorDataset

from lpgeom.data import BatchPlan, default_workers, epoch_order, training_batches


def test_in_memory_stream_follows_the_epoch_order():
    x, y = torch.rand(50, 1, 4, 4), torch.arange(50)
    plan = BatchPlan(50, 16, seed=3)
    batches = list(training_batches(TensorDataset(x, y), plan, 0, 0, epochs=2))
    assert plan.steps_per_epoch == 4 and len(batches) == 8
    order = epoch_order(50, 3, 1)
    assert torch.equal(batches[5][1], order[16:32]) and torch.equal(batches[5][0], x[order[16:32]])
    assert torch.equal(batches[7][1], order[48:]), "the last partial batch is kept without DDP"
    tail = list(training_batches(TensorDataset(x, y), plan, 1, 2, epochs=2))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(tail, batches[6:])) and len(tail) == 2


def test_ddp_ranks_share_every_batch():
    plan = BatchPlan(50, 16, seed=0)
    shards = [BatchPlan(50, 16, seed=0, rank=r, world=2) for r in (0, 1)]
    assert shards[0].steps_per_epoch == 3, "under DDP only full batches"
    order = epoch_order(50, 0, 0)
    whole = plan.indices(order, 1)
    parts = [s.indices(order, 1) for s in shards]
    assert torch.equal(torch.stack(parts, 1).reshape(-1), whole)
    with pytest.raises(ValueError, match="fewer than one batch"):
        BatchPlan(10, 16, seed=0)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from torchvision import transforms as T
    from torchvision.datasets import ImageFolder

    root = tmp_path_factory.mktemp("imgs")
    gen = torch.Generator().manual_seed(0)
    for c in range(3):
        (root / f"class{c}").mkdir()
        for i in range(8):
            pixels = (torch.rand(12, 12, 3, generator=gen) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(root / f"class{c}" / f"{i}.png")
    # random transforms: the stream must seed them
    return ImageFolder(str(root), transform=T.Compose([T.RandomCrop(8), T.RandomHorizontalFlip(), T.ToTensor()]))


def test_workers_and_resumes_give_the_same_batches(folder):
    plan = BatchPlan(len(folder), 5, seed=1)
    serial = list(training_batches(folder, plan, 0, 0, epochs=2))
    torch.manual_seed(123)  # the global RNG must not matter
    parallel = list(training_batches(folder, plan, 0, 0, epochs=2, workers=2, prefetch=2))
    assert len(serial) == len(parallel) == 10
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(serial, parallel))
    resumed = list(training_batches(folder, plan, 1, 2, epochs=2, first_global_step=7, workers=2))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(resumed, serial[7:])) and len(resumed) == 3
    state = torch.random.get_rng_state()
    next(iter(training_batches(folder, plan, 0, 0, epochs=1)))
    assert torch.equal(state, torch.random.get_rng_state()), "reading items must leave the global RNG alone"


def test_training_on_a_folder_with_workers_matches_without(folder, tmp_path):
    from lpgeom.models import build_model
    from lpgeom.threats import cifar10_threats
    from lpgeom.training import TrainConfig, build_scheme, train

    weights = []
    for workers in (0, 2):
        torch.manual_seed(0)
        model = build_model("small_cnn", width=4, in_channels=3, num_classes=3, image_size=8)
        train(model, folder, build_scheme("natural", cifar10_threats()),
              TrainConfig(epochs=1, batch_size=8, progress=False, workers=workers), tmp_path / str(workers))
        weights.append(model.state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_default_workers(folder):
    assert default_workers(TensorDataset(torch.zeros(2, 1))) == 0
    assert 1 <= default_workers(folder) <= 8
    with pytest.raises(ValueError, match="workers must be >= 0, got -1"):
        next(training_batches(folder, BatchPlan(len(folder), 4, 0), 0, 0, 1, workers=-1))


def test_subset_sizes():
    from lpgeom.data import subset

    ds = TensorDataset(torch.arange(10))
    assert len(subset(ds, 4)) == 4 and subset(ds, None) is ds and subset(ds, 10) is ds
    import numpy as np

    assert len(subset(ds, np.int64(3))) == 3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="subset size n must be None or an integer >= 1"):
            subset(ds, bad)


def test_in_memory_data_already_on_another_device_is_not_pinned():
    """A TensorDataset held on a GPU is not pinned (pin_memory refuses anything but dense CPU tensors, so training
    on CUDA, which asks for pinned batches, failed at the first step); the meta device stands in for the GPU."""
    x, y = torch.empty(20, 3, 4, 4, device="meta"), torch.empty(20, dtype=torch.int64, device="meta")
    batches = list(training_batches(TensorDataset(x, y), BatchPlan(20, 8, seed=0), 0, 0, epochs=1, pin_memory=True))
    assert len(batches) == 3 and all(b.device.type == "meta" for batch in batches for b in batch)
    assert [len(b[0]) for b in batches] == [8, 8, 4]
