"""CUDA: APGD's step loop never waits for the GPU; attacks under bf16 autocast + channels_last stay in ball ∩ box."""
import warnings

import pytest
import torch

from lpgeom.attacks import APGD
from lpgeom.models import build_model
from lpgeom.threats import cifar10_threats

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none is available)")]

CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    model = build_model("preact_resnet18").to(CUDA).eval()
    gen = torch.Generator(device=CUDA).manual_seed(0)
    x = torch.rand(32, 3, 32, 32, device=CUDA, generator=gen)
    y = torch.randint(10, (32,), device=CUDA, generator=gen)
    return model, x, y


def count_syncs(fn) -> int:
    """How many synchronising CUDA operations ``fn`` runs (torch's sync debug mode, as warnings)."""
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchronizing CUDA operation" in str(w.message) for w in caught)


def test_sync_counter_sees_each_synchronisation():
    t = torch.ones(3, device=CUDA)
    assert count_syncs(lambda: (t.sum().item(), t.max().item())) == 2


@pytest.mark.parametrize("name", ["Linf", "L2", "L1"])
@pytest.mark.parametrize("random_start", [False, True])
def test_apgd_step_loop_does_not_synchronise(model_and_batch, name, random_start):
    """Checks before and after the loop may synchronise a fixed number of times; the iterations never do."""
    model, x, y = model_and_batch
    ball = cifar10_threats()[name]
    short, long = APGD(ball, n_iter=3, random_start=random_start, seed=0), APGD(ball, n_iter=13, random_start=random_start, seed=0)
    short(model, x, y), long(model, x, y)  # warm-up: compiles the projections, allocates
    syncs_short = count_syncs(lambda: short(model, x, y))
    syncs_long = count_syncs(lambda: long(model, x, y))
    assert syncs_long == syncs_short, f"{syncs_long - syncs_short} host synchronisations in 10 more APGD iterations"


@pytest.mark.parametrize("name", ["Linf", "L2", "L1"])
def test_apgd_under_bf16_autocast_and_channels_last(model_and_batch, name):
    model, x, y = model_and_batch
    model_cl = build_model("preact_resnet18").to(CUDA).to(memory_format=torch.channels_last).eval()
    model_cl.load_state_dict(model.state_dict())
    x_cl = x.contiguous(memory_format=torch.channels_last)
    ball = cifar10_threats()[name]
    with torch.autocast("cuda", dtype=torch.bfloat16):
        result = APGD(ball, n_iter=5)(model_cl, x_cl, y)
    assert result.x_adv.shape == x.shape and result.x_adv.dtype == x.dtype
    assert ball.contains(result.x_adv, x).all()
    assert torch.isfinite(result.loss).all()
