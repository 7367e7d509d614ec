"""CUDA: the compiled projections (the default there) give the eager code's points, stay feasible, never synchronise."""
import pytest
import torch

from lpgeom.threats import projections
from lpgeom.threats.projections import project_l1_box, project_l2_box

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none is available)"),
              pytest.mark.filterwarnings("error::RuntimeWarning")]  # a fallback to the eager code fails the test

CUDA = torch.device("cuda")


def _batch(b, d, dtype=torch.float32, seed=0):
    gen = torch.Generator(device=CUDA).manual_seed(seed)
    x = torch.rand(b, d, device=CUDA, generator=gen)
    x[:, :8] = 0.0  # on the box's faces
    x[:, 8:16] = 1.0
    v = x + 0.05 * torch.randn(b, d, device=CUDA, generator=gen)
    return v.to(dtype), x.to(dtype)


@pytest.mark.parametrize("project, eps, proj", [(project_l1_box, 12.0, projections._L1),
                                                (project_l2_box, 0.5, projections._L2)])
def test_auto_backend_compiles_on_cuda_and_matches_eager(project, eps, proj):
    for b, d in [(128, 3072), (77, 3072), (2, 3072), (32, 150528)]:
        v, x = _batch(b, d, seed=b)
        radii = [eps, eps * torch.linspace(0.05, 2.0, b, device=CUDA)]
        for radius in radii:
            auto = project(v, x, radius)
            eager = project(v, x, radius, backend="eager")
            torch.testing.assert_close(auto, eager, atol=1e-6, rtol=0)
    assert proj.compiled is not None and not proj.broken, "auto did not take the compiled path on CUDA"


@pytest.mark.parametrize("project, eps, p", [(project_l1_box, 12.0, 1), (project_l2_box, 0.5, 2)])
@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-9), (torch.bfloat16, 2**-8)])
def test_compiled_matches_eager_in_other_dtypes(project, eps, p, dtype, atol):
    v, x = _batch(64, 3072, dtype)
    compiled = project(v, x, eps, backend="compiled")
    assert compiled.dtype == dtype
    torch.testing.assert_close(compiled.double(), project(v, x, eps, backend="eager").double(), atol=atol, rtol=0)
    if dtype == torch.float64:
        dist = torch.linalg.vector_norm(compiled - x, ord=p, dim=1)
        assert (dist <= eps * (1 + 1e-9)).all() and compiled.min() >= 0 and compiled.max() <= 1


def test_compiled_l1_result_is_feasible_in_float32():
    v, x = _batch(128, 3072)
    eps = 12.0
    z = project_l1_box(v, x, eps, backend="compiled")
    dist = (z.double() - x.double()).abs().sum(1)
    assert (dist <= eps * (1 + 1e-6)).all()
    assert z.min() >= 0 and z.max() <= 1


@pytest.mark.parametrize("backend", ["compiled", "eager"])
def test_projections_do_not_synchronise(backend):
    v, x = _batch(128, 3072)
    eps_l1 = torch.full((128,), 12.0, device=CUDA)
    for _ in range(2):  # the first call compiles (may synchronise): outside the check
        project_l1_box(v, x, eps_l1, backend=backend), project_l2_box(v, x, 0.5, backend=backend)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            project_l1_box(v, x, eps_l1, backend=backend)
            project_l1_box(v, x, 12.0, backend=backend)
            project_l2_box(v, x, 0.5, backend=backend)
    finally:
        torch.cuda.set_sync_debug_mode("default")
