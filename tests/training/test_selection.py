"""Best-checkpoint selection on held-out training examples (TrainConfig(select="best", holdout=N))."""
import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, read_metrics, train
from lpgeom.training.selection import split_holdout


def test_split_is_seeded_and_disjoint():
    x, y = torch.arange(20.0).reshape(20, 1), torch.arange(20)
    kept, (hx, hy) = split_holdout(TensorDataset(x, y), 5, seed=0)
    again, (_, hy2) = split_holdout(TensorDataset(x, y), 5, seed=0)
    assert torch.equal(hy, hy2) and len(kept) == 15 and len(hy) == 5
    assert set(kept.tensors[1].tolist()).isdisjoint(hy.tolist())
    assert kept.tensors[1].tolist() == sorted(kept.tensors[1].tolist()), "training examples keep their order"
    assert not torch.equal(split_holdout(TensorDataset(x, y), 5, seed=1)[1][1], hy)
    other, _ = split_holdout(Subset(TensorDataset(x, y), list(range(20))), 5, seed=0)
    assert isinstance(other, Subset) and len(other) == 15
    assert split_holdout(TensorDataset(x, y), 0, seed=0)[1] is None
    with pytest.raises(ValueError, match=r"holdout must be in \[0, 20\) .* got 20"):
        split_holdout(TensorDataset(x, y), 20, seed=0)


@pytest.mark.slow  # 8 held-out evaluations (3 norms x APGD-CE + DLR, 20 iterations): ~6 s on an idle core
def test_best_epoch_is_kept_and_survives_a_resume(tmp_path):
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(144, 1, 28, 28, generator=gen), torch.randint(0, 10, (144,), generator=gen))
    threats = fashion_mnist_threats()
    config = dict(epochs=2, batch_size=64, progress=False, select="best", holdout=16, lr=0.05)

    def run(run_dir, resume=True, **kw):
        torch.manual_seed(0)
        return train(build_model("small_cnn", width=4), data, build_scheme("natural", threats),
                     TrainConfig(**config, **kw), run_dir, resume=resume, select_threats=threats)

    full = run(tmp_path / "full", resume=False)
    epochs = read_metrics(tmp_path / "full", kind="epoch")
    accs = [e["holdout_union_acc"] for e in epochs]
    assert len(epochs) == 2 and all(0 <= a <= 1 for a in accs) and all("holdout_clean_acc" in e for e in epochs)
    best = max(range(2), key=lambda i: (accs[i], -i))
    assert full.best["epoch"] == best and epochs[-1]["best_epoch"] == best
    assert (tmp_path / "full" / "best.pt").is_file() and (tmp_path / "full" / "model.pt").is_file()
    assert full.global_step == 2 * 2, "the 16 held-out examples are not trained on (128 left, 2 batches)"

    run(tmp_path / "part", resume=False, stop_after_steps=3)
    resumed = run(tmp_path / "part")
    assert resumed.best == full.best
    a = torch.load(tmp_path / "full" / "best.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "best.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="select_threats"):
        train(build_model("small_cnn", width=4), data, build_scheme("natural", threats), TrainConfig(**config),
              tmp_path / "x")


# --- best.pt and the checkpoint that names the best epoch stay consistent across a kill -----------------------------


class _Report:
    def __init__(self, union):
        self.union_accuracy = self.clean_accuracy = union


class _Killed(Exception):
    """Stands for the process being killed at that moment."""


def _improving_every_epoch(monkeypatch):
    """Held-out accuracy that rises with the epoch: every epoch end is the best so far (no attack runs)."""
    import lpgeom.evaluation

    def report(*args, name, **kwargs):
        return _Report(0.1 * (1 + int(name.removeprefix("epoch "))))

    monkeypatch.setattr(lpgeom.evaluation, "evaluate_robustness", report)


def _kill_at_call(monkeypatch, module, name, call):
    real, seen = getattr(module, name), []

    def dying(*args, **kwargs):
        seen.append(1)
        if len(seen) == call:
            raise _Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, dying)


def _small_best_run(run_dir, **kw):
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(80, 1, 28, 28, generator=gen), torch.randint(0, 10, (80,), generator=gen))
    threats = fashion_mnist_threats()
    torch.manual_seed(0)
    return train(build_model("small_cnn", width=2), data, build_scheme("natural", threats),
                 TrainConfig(epochs=2, batch_size=32, progress=False, select="best", holdout=16, **kw), run_dir,
                 select_threats=threats)


def _best_matches_the_checkpoint(run_dir):
    from lpgeom.models import read_weights
    from lpgeom.models.checkpoints import state_digest
    from lpgeom.training import load_latest

    last = load_latest(run_dir)
    assert int(last["best"]["global_step"]) == last["global_step"], "the newest checkpoint is the best epoch's end"
    return read_weights(run_dir / "best.pt").digest == state_digest(last["model"])


def test_a_kill_before_the_epoch_checkpoint_leaves_best_pt_of_the_best_epoch_it_names(tmp_path, monkeypatch):
    """best.pt was written before the checkpoint recording it: killed in between, best.pt held the weights of an epoch
    the resumed run does again, while the checkpoint named an earlier best (a redo with other numerics, e.g. on a
    GPU, that does not improve kept the orphan weights as 'best')."""
    import lpgeom.training.loop as loop

    _improving_every_epoch(monkeypatch)
    _kill_at_call(monkeypatch, loop, "save_checkpoint", 2)  # the end of epoch 1 (epoch 0's checkpoint is saved)
    with pytest.raises(_Killed):
        _small_best_run(tmp_path)
    assert _best_matches_the_checkpoint(tmp_path)


def test_a_kill_after_the_epoch_checkpoint_is_repaired_on_resume(tmp_path, monkeypatch):
    import lpgeom.training.selection as selection
    from lpgeom.models.checkpoints import write_state_dict

    _improving_every_epoch(monkeypatch)
    _kill_at_call(monkeypatch, selection, "write_state_dict", 2)  # epoch 1 is the best; its best.pt write dies
    with pytest.raises(_Killed):
        _small_best_run(tmp_path)
    monkeypatch.setattr(selection, "write_state_dict", write_state_dict)
    _small_best_run(tmp_path)
    assert _best_matches_the_checkpoint(tmp_path)
