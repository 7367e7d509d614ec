"""CUDA: whole runs the other GPU tests leave out, each on a few tiny batches.

- training on data held on the GPU, with extra data on the CPU, augmentation, best-epoch
  selection and a resume from a checkpoint taken mid-epoch;
- AutoAttack evaluation on the GPU and on the CPU of a machine with CUDA (the caller's CUDA
  random state is left alone), of a model whose first registered layer is not its first one;
- ``lpgeom finetune`` and ``lpgeom eval --run-dir`` with ``--device cuda`` (the data loader
  is replaced by a small synthetic CIFAR-10-sized set: the machine has no data sets).

About 10-20 s on an H100 once the projections are compiled (earlier gpu tests compile them).
"""
import copy
import json
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from lpgeom.evaluation import evaluate_robustness
from lpgeom.models import build_model
from lpgeom.threats import LpBall, cifar10_threats
from lpgeom.training import TrainConfig, build_scheme, read_metrics, train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none is available)")]

DEVICE = "cuda"


def cuda_rng_state() -> torch.Tensor:
    """The current CUDA device's global random state."""
    return torch.cuda.get_rng_state()


def synthetic(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 32, 32, generator=gen), torch.randint(10, (n,), generator=gen)


class HeadFirst(nn.Module):
    """Registers its head before its stem: input checks confirm such a model by running it on one example."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 10)
        self.stem = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.head(torch.relu(self.stem(x)).mean((2, 3)))


def test_data_held_on_the_gpu_trains_resumes_mid_epoch_and_selects_the_best_epoch(tmp_path):
    x, y = synthetic(48)
    data = TensorDataset(x.to(DEVICE), y.to(DEVICE))  # on the GPU: neither fingerprinted via numpy nor pinned
    extra = TensorDataset(*synthetic(16, seed=1))  # on the CPU: joins GPU batches
    threats = cifar10_threats()

    def run(stop):
        torch.manual_seed(0)
        config = TrainConfig(epochs=2, batch_size=16, device=DEVICE, augment=True, amp=True, channels_last=True,
                             checkpoint_every=1, log_every=1, progress=False, select="best", holdout=16,
                             stop_after_steps=stop)
        return train(build_model("preact_resnet18"), data, build_scheme("eat", threats, n_iter=2), config,
                     tmp_path / "run", extra=extra, select_threats=threats)

    first = run(2)  # 32 training examples, 8 of them and 8 extra per step: 4 steps per epoch
    assert first.global_step == 2 and not first.finished
    resumed = run(None)  # from the checkpoint of step 2 (saved from the GPU, read onto the CPU)
    assert resumed.finished and resumed.global_step == 8
    epochs = [r for r in read_metrics(tmp_path / "run") if r.get("kind") == "epoch"]
    assert [r["epoch"] for r in epochs] == [0, 1]
    assert all(0 <= r["holdout_union_acc"] <= r["holdout_clean_acc"] <= 1 and r["loss"] > 0 for r in epochs)
    assert (tmp_path / "run" / "model.pt").is_file() and (tmp_path / "run" / "best.pt").is_file()


def test_autoattack_on_the_gpu_and_on_the_cpu_leaves_the_cuda_random_state_alone():
    pytest.importorskip("pyautoattack")
    torch.manual_seed(0)
    model = HeadFirst().eval()
    x, _ = synthetic(8)
    with torch.no_grad():
        y = model(x).argmax(1)  # every point clean: every attack runs
    threats = [LpBall("inf", 2 / 255), LpBall(2, 0.1), LpBall(1, 1.0)]
    torch.cuda.manual_seed(123)
    state = cuda_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_cpu = evaluate_robustness(model, x, y, threats, method="autoattack", n_iter=3)
        assert torch.equal(cuda_rng_state(), state), "an evaluation on the CPU reseeded the current CUDA device"
        on_gpu = evaluate_robustness(copy.deepcopy(model).to(DEVICE), x, y, threats, method="autoattack", n_iter=3)
        assert torch.equal(cuda_rng_state(), state), "an evaluation on the GPU changed its random state"
    for report in (on_cpu, on_gpu):
        assert report.clean_accuracy == 1.0 and set(report.robust_accuracy) == {"Linf", "L2", "L1"}
        assert 0 <= report.union_accuracy <= min(report.robust_accuracy.values())
        assert report.per_point["union"].device.type == "cpu"


def test_cli_finetune_then_eval_with_device_cuda(tmp_path, monkeypatch):
    from lpgeom.__main__ import main
    from lpgeom.cli import evaluate as cli_evaluate
    from lpgeom.cli import train as cli_train
    from lpgeom.models.checkpoints import write_state_dict

    data = TensorDataset(*synthetic(32))
    for module in (cli_train, cli_evaluate):
        monkeypatch.setattr(module, "load_dataset", lambda args, train: data)
    torch.manual_seed(0)
    write_state_dict(build_model("preact_resnet18").state_dict(), tmp_path / "init.pt")
    run_dir, out = tmp_path / "ft", tmp_path / "eval.json"
    assert main(["finetune", "--checkpoint", str(tmp_path / "init.pt"), "--arch", "preact_resnet18", "--dataset",
                 "cifar10", "--device", DEVICE, "--epochs", "1", "--batch-size", "16", "--steps", "2", "--amp",
                 "--channels-last", "--run-dir", str(run_dir), "--no-progress"]) == 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["environment"]["device"].startswith("cuda:") and config["autocast"] == "bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["eval", "--run-dir", str(run_dir), "--device", DEVICE, "--method", "apgd", "--n-points", "8",
                     "--n-iter", "3", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_points"] == 8 and set(report["robust_accuracy"]) == {"Linf", "L2", "L1"}
