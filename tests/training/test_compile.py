"""TrainConfig(compile=True): the model runs through torch.compile (inductor's C++ backend on the CPU)."""
import pytest
import torch
from torch.utils.data import TensorDataset

from lpgeom.models import build_model
from lpgeom.threats import fashion_mnist_threats
from lpgeom.training import TrainConfig, build_scheme, load_latest, train

pytestmark = pytest.mark.slow  # compiling takes about a minute on a shared 2-core CPU


def test_compiled_training_matches_eager_and_keeps_bare_keys(tmp_path):
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(64, 1, 28, 28, generator=gen), torch.randint(0, 10, (64,), generator=gen))
    weights = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_model("small_cnn", width=4)
        result = train(model, data, build_scheme("natural", fashion_mnist_threats()),
                       TrainConfig(epochs=1, batch_size=32, progress=False, compile=compiled), tmp_path / str(compiled))
        assert result.finished
        weights[compiled] = model.state_dict()
    assert weights[True].keys() == weights[False].keys()
    for k in weights[True]:
        torch.testing.assert_close(weights[True][k], weights[False][k], rtol=1e-5, atol=1e-6)
    assert set(load_latest(tmp_path / "True")["model"]) == set(weights[False]), "checkpoints hold the bare model"


def test_compiled_ramp_with_gradient_projection_matches_eager(tmp_path):
    """The scheme's step runs through the compiled model, its epoch hook on the bare one (the clean copy eager)."""
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(32, 1, 28, 28, generator=gen), torch.randint(0, 10, (32,), generator=gen))
    weights = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_model("small_cnn", width=4)
        scheme = build_scheme("ramp", fashion_mnist_threats(), n_iter=2, gradient_projection=True)
        result = train(model, data, scheme, TrainConfig(epochs=1, batch_size=16, progress=False, compile=compiled),
                       tmp_path / f"ramp{compiled}")
        assert result.finished
        weights[compiled] = model.state_dict()
    for k in weights[True]:
        torch.testing.assert_close(weights[True][k], weights[False][k], rtol=1e-4, atol=1e-5)
