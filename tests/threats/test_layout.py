"""channels_last batches: every ball's methods give the NCHW results, in the input's layout, without a copy."""
import pytest
import torch

from lpgeom.threats import L1Ball, L2Ball, LinfBall, LpBall, project_l1_box, project_l2_box
from lpgeom.threats.layout import from_rows, memory_order, to_rows

CL = torch.channels_last
BALLS = [LinfBall(8 / 255), L2Ball(0.5), L1Ball(12.0)]
ALL_BALLS = [*BALLS, LpBall(3.5, 1.0)]  # the generic l_p ball: no projection, but its own ascent


def _is_channels_last(t: torch.Tensor) -> bool:
    return t.is_contiguous(memory_format=CL) and not t.is_contiguous()


def _batch(seed=0, b=6, shape=(3, 8, 8)):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(b, *shape, generator=gen)
    x[:, 0, :2] = 0.0  # coordinates on the box's faces
    x[:, 1, :2] = 1.0
    v = x + 0.3 * torch.randn(b, *shape, generator=gen)
    grad = torch.randn(b, *shape, generator=gen)
    grad[:, 2, 3] = 0.0  # ties and zeros for the sparse rule
    return v, x, grad


def test_memory_order_finds_the_layout():
    x = torch.rand(2, 3, 4, 5)
    assert memory_order(x) is None
    assert memory_order(x.contiguous(memory_format=CL)) == (0, 2, 3, 1)
    x5 = torch.rand(2, 3, 4, 5, 6).contiguous(memory_format=torch.channels_last_3d)
    assert memory_order(x5) == (0, 2, 3, 4, 1)
    assert memory_order(x[:, :, :2]) is None  # sliced: no order is contiguous, flattening copies
    assert memory_order(torch.rand(4, 3).t()) is None  # (B, d) rows: the logical order


def test_rows_are_views_and_come_back_channels_last():
    x = torch.rand(2, 3, 4, 5).contiguous(memory_format=CL)
    order = memory_order(x)
    rows = to_rows(x, order)
    assert rows.shape == (2, 60) and rows.data_ptr() == x.data_ptr() and rows.is_contiguous()
    back = from_rows(rows.clone(), x.shape, order)
    assert _is_channels_last(back) and torch.equal(back, x)
    torch.testing.assert_close(rows.sort(1).values, x.reshape(2, -1).sort(1).values, atol=0, rtol=0)


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_project_matches_nchw_and_keeps_channels_last(ball):
    v, x, _ = _batch()
    expected = ball.project(v, x)
    got = ball.project(v.contiguous(memory_format=CL), x.contiguous(memory_format=CL))
    assert _is_channels_last(got)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    assert ball.contains(got, x).all()


@pytest.mark.parametrize("ball", ALL_BALLS, ids=lambda b: b.name)
@pytest.mark.parametrize("sparsity", [None, 0.3])
def test_steepest_ascent_matches_nchw_and_keeps_channels_last(ball, sparsity):
    _, x, grad = _batch(1)
    for with_x in (False, True):
        expected = ball.steepest_ascent(grad, x if with_x else None, sparsity)
        xc = x.contiguous(memory_format=CL) if with_x else None
        got = ball.steepest_ascent(grad.contiguous(memory_format=CL), xc, sparsity)
        assert _is_channels_last(got)
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_l1_ascent_with_x_in_another_layout_lines_coordinates_up():
    """grad channels_last, x contiguous: the box mask must use the same coordinates (x is flattened in grad's order)."""
    ball = L1Ball(12.0)
    _, x, grad = _batch(2)
    x[:, :, :4] = 1.0  # the box forbids increasing these
    grad = grad.abs()
    expected = ball.steepest_ascent(grad, x, 0.5)
    got = ball.steepest_ascent(grad.contiguous(memory_format=CL), x, 0.5)
    torch.testing.assert_close(got, expected, atol=0, rtol=0)
    assert (got[:, :, :4] == 0).all()


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_random_start_matches_nchw_and_keeps_channels_last(ball):
    _, x, _ = _batch(3)
    expected = ball.random_start(x, torch.Generator().manual_seed(5))
    got = ball.random_start(x.contiguous(memory_format=CL), torch.Generator().manual_seed(5))
    assert _is_channels_last(got)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    assert ball.contains(got, x).all()


@pytest.mark.parametrize("ball", ALL_BALLS, ids=lambda b: b.name)
def test_norm_and_contains_agree_on_channels_last(ball):
    v, x, _ = _batch(4)
    delta = v - x
    torch.testing.assert_close(ball.norm(delta.contiguous(memory_format=CL)), ball.norm(delta), atol=1e-6, rtol=1e-6)
    assert torch.equal(ball.contains(v.contiguous(memory_format=CL), x.contiguous(memory_format=CL)),
                       ball.contains(v, x))


@pytest.mark.parametrize("project, eps", [(project_l1_box, 12.0), (project_l2_box, 0.5)])
def test_projection_of_a_channels_last_batch_does_not_copy_it(project, eps, monkeypatch):
    """The eager routine receives rows that are views of the channels_last input (no layout conversion)."""
    from lpgeom.threats import projections

    v, x, _ = _batch(5)
    v, x = v.contiguous(memory_format=CL), x.contiguous(memory_format=CL)
    seen = []
    target = projections._L1 if project is project_l1_box else projections._L2
    eager = target.eager
    monkeypatch.setattr(target, "eager", lambda vf, xf, e: seen.append((vf.data_ptr(), xf.data_ptr())) or eager(vf, xf, e))
    out = project(v, x, eps, backend="eager")
    assert seen == [(v.data_ptr(), x.data_ptr())]
    assert _is_channels_last(out)


@pytest.mark.parametrize("ball", BALLS, ids=lambda b: b.name)
def test_low_precision_channels_last_keeps_dtype_and_layout(ball):
    v, x, grad = _batch(6)
    v, x, grad = (t.to(torch.bfloat16).contiguous(memory_format=CL) for t in (v, x, grad))
    x = x.clamp(0, 1)
    out = ball.project(v, x)
    assert out.dtype == torch.bfloat16 and _is_channels_last(out)
    assert _is_channels_last(ball.steepest_ascent(grad, x))
    assert _is_channels_last(ball.random_start(x, torch.Generator().manual_seed(0)))


@pytest.mark.slow
@pytest.mark.filterwarnings("error::RuntimeWarning")  # a fallback to the eager code would pass unseen
@pytest.mark.parametrize("project, eps", [(project_l1_box, 12.0), (project_l2_box, 0.5)])
def test_compiled_channels_last_matches_eager_nchw(project, eps):
    """The compiled path (the default on CUDA) sees the same (B, d) rows: same points to 1e-6, layout kept."""
    v, x, _ = _batch(7, b=9, shape=(3, 32, 32))
    expected = project(v, x, eps, backend="eager")
    got = project(v.contiguous(memory_format=CL), x.contiguous(memory_format=CL), eps, backend="compiled")
    assert _is_channels_last(got)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
