import json

import pytest
import torch
from torch.utils.data import TensorDataset

from lpgeom.data import fashion_mnist, subset, tensors
from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import PiecewiseLR, TrainConfig, build_scheme, epoch_order, load_latest, read_metrics, save_checkpoint, train


@pytest.fixture(scope="module")
def small_fmnist():
    x, y = tensors(subset(fashion_mnist(True), 256, seed=0))
    return TensorDataset(x, y)


def make(seed=0):
    torch.manual_seed(seed)
    return build_model("small_cnn", width=8)


def test_training_reduces_loss_on_real_data(small_fmnist, tmp_path):
    model = make()
    result = train(model, small_fmnist, build_scheme("natural", fashion_mnist_threats()),
                   TrainConfig(epochs=3, batch_size=32, lr=0.05, progress=False), tmp_path / "run", resume=False)
    losses = [e["loss"] for e in result.epochs]
    assert losses[-1] < losses[0] and result.finished
    assert (tmp_path / "run" / "model.pt").is_file() and (tmp_path / "run" / "config.json").is_file()
    epochs = read_metrics(tmp_path / "run", kind="epoch")
    assert [e["epoch"] for e in epochs] == [0, 1, 2]


def test_eat_run_logs_probabilities(small_fmnist, tmp_path):
    result = train(make(), small_fmnist, build_scheme("eat", fashion_mnist_threats(), n_iter=2),
                   TrainConfig(epochs=1, batch_size=64, log_every=1, progress=False), tmp_path / "eat", resume=False)
    steps = read_metrics(tmp_path / "eat", kind="step")
    assert len(steps) == 4 and all(0 <= s["p_L1"] <= 1 and s["p_L1"] + s["p_Linf"] == pytest.approx(1) for s in steps)
    assert steps[0]["p_L1"] == 0.5 and result.finished


def test_stop_and_resume_is_bit_exact(small_fmnist, tmp_path):
    scheme = lambda: build_scheme("eat", fashion_mnist_threats(), n_iter=2)  # noqa: E731
    config = dict(epochs=2, batch_size=32, lr=0.05, milestones=(0.5,), progress=False, checkpoint_every=3)
    full = train(make(), small_fmnist, scheme(), TrainConfig(**config), tmp_path / "full", resume=False)
    part = train(make(), small_fmnist, scheme(), TrainConfig(**config, stop_after_steps=5), tmp_path / "part", resume=False)
    assert not part.finished and part.global_step == 5
    resumed = train(make(seed=123), small_fmnist, scheme(), TrainConfig(**config), tmp_path / "part")
    assert resumed.finished and resumed.global_step == full.global_step
    a = torch.load(tmp_path / "full" / "model.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "model.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [r["global_step"] for r in read_metrics(tmp_path / "part", kind="step")]
    assert steps == sorted(set(steps)), "metrics after the checkpoint must not be duplicated"


def test_resume_with_another_config_is_refused(small_fmnist, tmp_path):
    config = TrainConfig(epochs=1, batch_size=64, progress=False, stop_after_steps=1)
    train(make(), small_fmnist, build_scheme("natural", fashion_mnist_threats()), config, tmp_path / "r", resume=False)
    with pytest.raises(ValueError, match="another configuration"):
        train(make(), small_fmnist, build_scheme("natural", fashion_mnist_threats()),
              TrainConfig(epochs=1, batch_size=32, progress=False), tmp_path / "r")


def test_checkpoints_are_atomic_and_fall_back_on_corruption(tmp_path, monkeypatch):
    import errno

    save_checkpoint({"step": torch.tensor(1)}, tmp_path)
    save_checkpoint({"step": torch.tensor(2)}, tmp_path)
    assert int(load_latest(tmp_path)["step"]) == 2

    def save_then_disk_full(obj, fh, *a, **k):  # a save that really fails half-way
        fh.write(b"PK" + b"\0" * 500)
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(torch, "save", save_then_disk_full)
        with pytest.raises(OSError, match="could not write .*last.pt: the disk is full"):
            save_checkpoint({"step": torch.tensor(3)}, tmp_path)
    assert not list(tmp_path.glob(".*tmp*")), "the failed save left its temporary file"
    assert int(load_latest(tmp_path)["step"]) == 2, "the newest complete checkpoint stays readable"
    save_checkpoint({"step": torch.tensor(1)}, tmp_path)
    save_checkpoint({"step": torch.tensor(2)}, tmp_path)
    (tmp_path / "last.pt").write_bytes((tmp_path / "last.pt").read_bytes()[:50])  # truncated
    with pytest.warns(UserWarning, match="unreadable; resuming from"):
        assert int(load_latest(tmp_path)["step"]) == 1
    (tmp_path / "previous.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="no readable checkpoint"):
        load_latest(tmp_path)
    assert not list(tmp_path.glob(".*tmp*"))


def test_epoch_order_is_a_seeded_permutation():
    a, b = epoch_order(100, 0, 3), epoch_order(100, 0, 3)
    assert torch.equal(a, b) and sorted(a.tolist()) == list(range(100))
    assert not torch.equal(a, epoch_order(100, 0, 4))


def test_piecewise_schedule_and_bad_configs():
    s = PiecewiseLR(0.05, (1 / 3, 2 / 3))
    assert [s(0.0), s(0.34), s(0.7)] == pytest.approx([0.05, 0.005, 0.0005])
    with pytest.raises(ValueError, match="milestones"):
        PiecewiseLR(0.1, (0.8, 0.2))
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got 0"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        TrainConfig(epochs=0)


def test_dataset_smaller_than_a_batch(tmp_path):
    ds = TensorDataset(torch.rand(10, 1, 28, 28), torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match="fewer than one batch"):
        train(make(), ds, build_scheme("natural", fashion_mnist_threats()), TrainConfig(batch_size=32, progress=False), tmp_path)


def test_extra_examples_join_the_batch_on_its_device():
    """Data held on a GPU and extra data on the CPU (or the reverse) are concatenated on the batch's device (the
    meta device stands in for the GPU: torch.cat refuses tensors of two devices)."""
    from lpgeom.training.distributed import DistInfo
    from lpgeom.training.loop import _with_extra

    extra = TensorDataset(torch.rand(6, 1, 4, 4), torch.arange(6))
    x, y = torch.empty(2, 1, 4, 4, device="meta"), torch.empty(2, dtype=torch.int64, device="meta")
    bx, by = _with_extra(x, y, extra, TrainConfig(batch_size=4, progress=False), 0, DistInfo())
    assert bx.shape == (4, 1, 4, 4) and by.shape == (4,) and bx.device.type == by.device.type == "meta"
