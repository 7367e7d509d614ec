"""CUDA: training steps of lpgeom's loop with bf16 autocast + channels_last (and fp32) run, learn and stay finite."""
import pytest
import torch
from torch.utils.data import TensorDataset

from lpgeom.models import build_model
from lpgeom.threats import cifar10_threats
from lpgeom.training import TrainConfig, build_scheme, read_metrics, train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none is available)")]


@pytest.mark.parametrize("scheme_name", ["linf", "eat", "l1", "l2"])
@pytest.mark.parametrize("amp", [True, False])
def test_training_steps_on_cuda(tmp_path, scheme_name, amp):
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(128, 3, 32, 32, generator=gen), torch.randint(10, (128,), generator=gen))
    torch.manual_seed(0)
    model = build_model("preact_resnet18")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(epochs=1, batch_size=32, device="cuda", amp=amp, channels_last=amp, progress=False,
                         log_every=1)
    result = train(model, data, build_scheme(scheme_name, cifar10_threats(), n_iter=3), config, tmp_path / "run",
                   resume=False)
    assert result.finished and result.global_step == 4
    weights = model.state_dict()
    assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())
    assert any(not torch.equal(before[k], weights[k].cpu()) for k in before), "no weight changed"
    if amp:
        convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    saved = torch.load(tmp_path / "run" / "model.pt", weights_only=True)  # no map_location: it must load anywhere
    assert all(t.device.type == "cpu" for t in saved.values()), "model.pt holds CUDA tensors"
    steps = [r for r in read_metrics(tmp_path / "run") if r.get("kind") == "step"]
    assert len(steps) == 4 and all(0 < r["loss"] < 1e3 for r in steps)
